"""The demo model's deterministic answers."""

from __future__ import annotations

import pytest

from gateway.dev.model import delay, model_port, predict, shape_of


def test_ndarray_is_echoed_with_its_shape_and_caller() -> None:
    """An ndarray comes back unchanged, with its measured shape and X-Forwarded-User."""
    result = predict({"data": {"ndarray": [[1, 2, 3], [4, 5, 6]]}}, caller="app-a")
    assert result == {"data": {"names": [], "ndarray": [[1, 2, 3], [4, 5, 6]]},
                      "meta": {"tags": {"shape": [2, 3], "x-forwarded-user": "app-a"}}}


def test_tensor_reports_its_declared_shape_and_no_caller_when_public() -> None:
    """A tensor's own shape is reported; a public call carries no caller tag."""
    result = predict({"data": {"tensor": {"shape": [1, 2], "values": [0.5, 1.5]}}}, caller=None)
    assert result["meta"]["tags"] == {"shape": [1, 2]}
    assert result["data"]["tensor"]["values"] == [0.5, 1.5]


@pytest.mark.parametrize("payload", [[], {"data": 3}, {"data": {"strData": "x"}}, None])
def test_malformed_payloads_are_value_errors(payload: object) -> None:
    """Anything but a Seldon data object is rejected with a reason."""
    with pytest.raises(ValueError, match="data"):
        predict(payload, caller=None)


def test_shape_of_nested_lists() -> None:
    """Shape counts each nesting level; a scalar has no dimensions."""
    assert shape_of([[[1], [2]]]) == [1, 2, 1]
    assert shape_of(7) == []


def test_model_port_comes_from_the_model_container() -> None:
    """The declared containerPort of the container named model wins; 9000 otherwise."""
    pod = {"spec": {"containers": [{"name": "sidecar", "ports": [{"containerPort": 1}]},
                                   {"name": "model", "ports": [{"containerPort": 8080}]}]}}
    assert model_port(pod) == 8080
    assert model_port({"spec": {"containers": [{"name": "model"}]}}) == 9000


def test_a_request_may_ask_to_be_answered_later() -> None:
    """X-Demo-Delay is 0 to 10 seconds; anything else (negative, too long, not a number,
    NaN) is refused."""
    assert delay(None) == 0.0
    assert delay("0.25") == 0.25
    for bad in ("-1", "10.5", "soon", "nan"):
        with pytest.raises(ValueError, match=r"X-Demo-Delay|could not convert"):
            delay(bad)
