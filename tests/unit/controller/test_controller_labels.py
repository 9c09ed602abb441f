"""PrimeHub's group-label escaping."""

from __future__ import annotations

import re

from gateway.controller.labels import escape_group, pod_labels

LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def test_lowercase_letters_and_digits_are_kept_everything_else_is_hex_escaped() -> None:
    """Uppercase, spaces and punctuation become -<hex byte>, as PrimeHub writes them."""
    assert escape_group("team1") == "escaped-team1"
    assert escape_group("Data Team") == "escaped--44ata-20-54eam"
    assert escape_group("a_b") == "escaped-a-5fb"


def test_non_ascii_characters_are_escaped_per_utf8_byte() -> None:
    """Each UTF-8 byte of a non-ASCII character is escaped, so the label stays valid."""
    assert escape_group("é") == "escaped--c3-a9"


def test_long_names_are_cut_to_a_valid_label_value() -> None:
    """An escape longer than 63 characters is cut and still matches the label syntax."""
    for name in ("A" * 40, "x" * 100, "ab" + "-" * 30):
        value = escape_group(name)
        assert len(value) <= 63
        assert LABEL_VALUE.match(value), value


def test_pod_labels_are_primehubs_three() -> None:
    """app, primehub.io/phdeployment and primehub.io/group."""
    assert pod_labels(deployment_id="iris", group_name="g") == {
        "app": "primehub-deployment", "primehub.io/phdeployment": "iris",
        "primehub.io/group": "escaped-g"}
