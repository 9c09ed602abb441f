"""Validation means the whole value: no control character gets through any validator.

Each case is a validator and a value it accepts; hypothesis puts control characters anywhere
in that value (start, middle, end: the trailing newline ``re.match`` with ``$`` let through)
and the validator must refuse it. Multi-line text may keep tab, line feed and carriage return,
so for those fields only the other control characters are tried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.settings import SettingsError, SettingsReader
from schema import validation
from schema.errors import ApiError

SCHEMES = ("gs", "s3", "https")
LINE_BREAKS = "\t\n\r"
CONTROLS = [chr(code) for code in (*range(0x20), *range(0x7F, 0xA0))]

Check = Callable[[str], Any]

SINGLE_LINE: dict[str, tuple[Check, str]] = {
    "id": (validation.deployment_id, "iris-demo"),
    "modelImage": (validation.model_image, "repo/model:1"),
    "modelURI": (lambda value: validation.model_uri(value, schemes=SCHEMES),
                 "gs://bucket/model"),
    "endpointAccessType": (validation.access_type, "private"),
    "instanceType": (validation.instance_type, "cpu-1"),
    "imagePullSecret": (validation.image_pull_secret, "regcred"),
    "env name": (lambda value: validation.env([{"name": value, "value": "v"}]), "MY_VAR"),
    "metadata key": (lambda value: validation.metadata({value: "v"}), "owner"),
    "client name": (validation.client_name, "my-app"),
    "group name": (validation.group_name, "team-a"),
    "instance type name": (validation.resource_name, "gpu.large-1"),
    "username": (validation.username, "alice"),
    "display name": (lambda value: validation.line(value, field="name"), "Iris model"),
    "label key": (lambda value: validation.label_key(value, field="nodeSelector"),
                  "kubernetes.io/arch"),
    "label value": (lambda value: validation.label_value(value, field="nodeSelector"),
                    "amd64"),
}
MULTI_LINE: dict[str, tuple[Check, str]] = {
    "description": (lambda value: validation.text(value, field="description"),
                    "Iris classifier"),
    "env value": (lambda value: validation.env([{"name": "A", "value": value}]), "value"),
    "metadata value": (lambda value: validation.metadata({"owner": value}), "data team"),
}


def with_controls(base: str, controls: list[str]) -> st.SearchStrategy[str]:
    """``base`` with one to three of ``controls`` inserted at any positions."""
    insert = st.tuples(st.integers(0, len(base)), st.sampled_from(controls))

    def build(inserts: list[tuple[int, str]]) -> str:
        value = base
        for position, char in sorted(inserts, reverse=True):
            value = value[:position] + char + value[position:]
        return value

    return st.lists(insert, min_size=1, max_size=3).map(build)


@pytest.mark.parametrize("name", sorted(SINGLE_LINE))
def test_single_line_values_accept_their_example(name: str) -> None:
    """The base value of each case is valid: the refusals below are caused by the control
    characters alone."""
    check, base = SINGLE_LINE[name]
    check(base)


@pytest.mark.parametrize("name", sorted(SINGLE_LINE))
@given(data=st.data())
def test_no_control_character_passes_a_single_line_validator(name: str,
                                                             data: st.DataObject) -> None:
    """Names, references and single-line text refuse any control character, anywhere."""
    check, base = SINGLE_LINE[name]
    value = data.draw(with_controls(base, CONTROLS))
    with pytest.raises(ApiError):
        check(value)


@pytest.mark.parametrize("name", sorted(MULTI_LINE))
@given(data=st.data())
def test_multi_line_text_refuses_every_control_but_line_breaks(name: str,
                                                              data: st.DataObject) -> None:
    """Descriptions, env and metadata values keep tab and line breaks, refuse the rest."""
    check, base = MULTI_LINE[name]
    check(base + "\n\tmore\r\n")
    others = [char for char in CONTROLS if char not in LINE_BREAKS]
    value = data.draw(with_controls(base, others))
    with pytest.raises(ApiError):
        check(value)


@pytest.mark.parametrize("value", ["x\n", "x\r", "x\n\n", "\nx"])
def test_the_reported_newline_cases_are_refused(value: str) -> None:
    """The values the review got accepted: image pull secret, group and instance type names."""
    for check in (validation.image_pull_secret, validation.group_name,
                  validation.resource_name):
        with pytest.raises(ApiError):
            check(value)


@given(data=st.data())
def test_settings_with_a_control_character_inside_are_reported(data: st.DataObject) -> None:
    """A setting with a control character inside its value is a problem (surrounding line
    breaks, as a value read from a file has, are trimmed)."""
    value = data.draw(with_controls("redis://cache:6379/0", CONTROLS).filter(
        lambda text: text.strip() != "redis://cache:6379/0"))
    reader = SettingsReader({"MODEL_GATEWAY_REDIS_URL": value})
    reader.redis_url("REDIS_URL", "redis://127.0.0.1:6379/0")
    with pytest.raises(SettingsError, match="MODEL_GATEWAY_REDIS_URL: must not contain"):
        reader.finish()
    trimmed = SettingsReader({"MODEL_GATEWAY_REDIS_URL": "redis://cache:6379/0\n"})
    assert trimmed.redis_url("REDIS_URL", "") == "redis://cache:6379/0"
    trimmed.finish()
