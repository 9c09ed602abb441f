"""Kubernetes resource quantities (``500m``, ``1.5``, ``2Gi``, ``512M``) as numbers.

Instance types and group quotas carry CPU and memory as quantities, sometimes as bare JSON
numbers (PrimeHub writes ``limits.cpu: 1``). Comparing a pod's limits with a group's quota
needs them as plain numbers: CPU in cores, memory in bytes. Only the suffixes Kubernetes
accepts are understood; anything else is a :class:`ValueError`, never a guess.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

_SUFFIXES: Final[dict[str, Decimal]] = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}
_QUANTITY: Final = re.compile(r"([+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)([a-zA-Z]*)")
GIGA: Final = 10**9
GIBI: Final = 2**30


def parse_quantity(value: str | float) -> float:
    """The quantity as a plain number (``"500m"`` -> 0.5, ``"1Gi"`` -> 1073741824.0)."""
    if isinstance(value, bool):
        raise ValueError(f"not a quantity: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"negative quantity: {value!r}")
        return float(value)
    match = _QUANTITY.fullmatch(value.strip())
    if match is None or match.group(2) not in _SUFFIXES:
        raise ValueError(f"not a quantity: {value!r}")
    try:
        number = Decimal(match.group(1))
    except InvalidOperation as error:
        raise ValueError(f"not a quantity: {value!r}") from error
    return float(number * _SUFFIXES[match.group(2)])


def gigabytes(value: str | float) -> float:
    """A memory quantity in gigabytes as PrimeHub shows it: the number written before ``G``
    or ``Gi`` (``"1Gi"`` shows 1, not 1.073741824). Other units are converted within their
    family, binary (``"512Mi"`` -> 0.5) or decimal (``"500M"`` and bare bytes -> 1e9 = 1)."""
    amount = parse_quantity(value)
    binary = isinstance(value, str) and value.strip().endswith("i")
    return amount / (GIBI if binary else GIGA)


def memory_quantity(gb: float) -> str:
    """The quantity string for ``gb`` gigabytes, in PrimeHub's ``<n>G`` form."""
    text = format(Decimal(repr(float(gb))).normalize(), "f")
    return f"{text}G"
