"""Reading settings from the environment: one frozen settings object per process.

Every component (API, controller, proxy, local cluster) reads its settings once, at start,
from a mapping (``os.environ`` in production, a plain dict in tests) through a
:class:`SettingsReader`. The reader collects every problem instead of stopping at the first,
so an operator fixes a bad deployment in one round trip: :meth:`SettingsReader.finish` raises
one :class:`SettingsError` listing them all.

It lives in the proxy package because that is the bottom layer: the proxy may import nothing
of the control plane, while the control plane may use the proxy's modules (``gateway.settings``
re-exports this one for it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

_TRUE: Final = frozenset({"1", "t", "true", "y", "yes", "on"})
_FALSE: Final = frozenset({"0", "f", "false", "n", "no", "off"})
HTTP_SCHEMES: Final = frozenset({"http", "https"})
REDIS_SCHEMES: Final = frozenset({"redis", "rediss", "unix"})
REDACTED: Final = "<redacted>"
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def without_password(url: str) -> str:
    """``url`` with any password replaced, so a URL-embedded secret never reaches a log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:{REDACTED}@{host}"))


def redacted_repr(settings: Any, *, secrets: frozenset[str]) -> str:
    """A settings dataclass's ``repr`` with secret fields and URL passwords hidden, so
    logging the settings at start (or a traceback showing them) never leaks a secret."""
    shown = []
    for item in fields(settings):
        value = getattr(settings, item.name)
        if item.name in secrets and value:
            shown.append(f"{item.name}={REDACTED}")
            continue
        if isinstance(value, str) and "://" in value:
            value = without_password(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        shown.append(f"{item.name}={value!r}")
    return f"{type(settings).__name__}({', '.join(shown)})"


class SettingsError(ValueError):
    """One or more settings are invalid; ``problems`` names each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid settings:\n  " + "\n  ".join(self.problems))


class SettingsReader:
    """Reads typed values out of a string mapping, remembering every error it meets.

    Each ``text``/``integer``/... call returns a usable value even when the input is bad
    (the default), so building the settings object can go on and report all problems at once.
    """

    def __init__(self, source: Mapping[str, str], *, prefix: str = "MODEL_GATEWAY_") -> None:
        self._source = source
        self._prefix = prefix
        self._problems: list[str] = []

    def _raw(self, name: str) -> str | None:
        value = self._source.get(self._prefix + name)
        if value is None:
            return None
        value = value.strip()
        if _CONTROL.search(value):
            # Surrounding line breaks (a value read from a file) are trimmed above; one inside
            # is a mistake, and urlsplit would silently drop it. The value is not echoed: it
            # may be a secret.
            self.problem(name, "must not contain control characters")
            return None
        return value or None

    def problem(self, name: str, message: str) -> None:
        """Note a problem a caller found with setting ``name`` (reported by :meth:`finish`)."""
        self._problems.append(f"{self._prefix}{name}: {message}")

    def text(self, name: str, default: str) -> str:
        """A string setting; blank means the default."""
        raw = self._raw(name)
        return default if raw is None else raw

    def optional_text(self, name: str) -> str | None:
        """A string setting with no default; blank means unset."""
        return self._raw(name)

    def optional_url(self, name: str, *, schemes: frozenset[str]) -> str | None:
        """An absolute URL like :meth:`url`, or ``None`` when the setting is blank."""
        if self._raw(name) is None:
            return None
        return self.url(name, "", schemes=schemes) or None

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        """A whole number within ``[minimum, maximum]``."""
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problem(name, f"expected a whole number, got {raw!r}")
            return default
        if not minimum <= value <= maximum:
            self.problem(name, f"must be between {minimum} and {maximum}, got {value}")
            return default
        return value

    def seconds(self, name: str, default: float, *, minimum: float, maximum: float) -> float:
        """A duration in (possibly fractional) seconds within ``[minimum, maximum]``."""
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            self.problem(name, f"expected a number of seconds, got {raw!r}")
            return default
        if not minimum <= value <= maximum:
            self.problem(name, f"must be between {minimum} and {maximum} seconds, got {value}")
            return default
        return value

    def choice(self, name: str, default: str, *, choices: tuple[str, ...]) -> str:
        """One of a fixed set of words."""
        raw = self._raw(name)
        if raw is None:
            return default
        if raw not in choices:
            self.problem(name, f"expected one of {', '.join(choices)}, got {raw!r}")
            return default
        return raw

    def redis_url(self, name: str, default: str) -> str:
        """A ``redis://``, ``rediss://`` or ``unix://`` URL (shown without its password)."""
        raw = self._raw(name)
        if raw is None:
            return default
        parts = urlsplit(raw)
        if parts.scheme not in REDIS_SCHEMES or not (parts.netloc or parts.path):
            self.problem(name, "expected a redis://, rediss:// or unix:// URL, got "
                               f"{without_password(raw)!r}")
            return default
        return raw

    def boolean(self, name: str, default: bool) -> bool:
        """A flag: true/false, yes/no, on/off, 1/0 (any case)."""
        raw = self._raw(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        self.problem(name, f"expected true or false, got {raw!r}")
        return default

    def url(self, name: str, default: str, *, schemes: frozenset[str]) -> str:
        """An absolute URL whose scheme is one of ``schemes``; a trailing slash is dropped."""
        raw = self._raw(name)
        if raw is None:
            return default
        parts = urlsplit(raw)
        if parts.scheme not in schemes or not parts.netloc:
            allowed = ", ".join(sorted(schemes))
            self.problem(name, f"expected an absolute URL with scheme {allowed}, got {raw!r}")
            return default
        return raw.rstrip("/")

    def directory(self, name: str) -> Path | None:
        """An optional directory path; it is created later by whoever writes to it."""
        raw = self._raw(name)
        if raw is None:
            return None
        path = Path(raw).expanduser()
        if path.exists() and not path.is_dir():
            self.problem(name, f"{raw!r} exists and is not a directory")
            return None
        return path

    def finish(self, *, also: list[str] | None = None) -> None:
        """Raise :class:`SettingsError` naming every problem met so far, and those a caller
        found itself (``also``: checks across settings, formats the reader does not know)."""
        problems = [*self._problems, *(also or [])]
        if problems:
            raise SettingsError(problems)
