"""Input validation: each rule accepts what PrimeHub accepts and names the field it rejects."""

from __future__ import annotations

import pytest

from gateway.kube.phdeployments import EnvVar
from schema import validation
from schema.errors import BadUserInput, IllegalEnvName

SCHEMES = ("gs", "s3", "https")


@pytest.mark.parametrize("value", ["abc", "iris-x1y2z", "a" * 56, "0-0"])
def test_ids_following_primehub_rule_pass(value: str) -> None:
    """Ids of 3 to 56 lowercase letters, digits and inner dashes are accepted unchanged."""
    assert validation.deployment_id(value) == value


@pytest.mark.parametrize(
    "value", ["ab", "a" * 57, "a" * 64, "Iris", "-iris", "iris-", "iris_x", "ir is"])
def test_ids_breaking_primehub_rule_name_the_id_field(value: str) -> None:
    """A bad id is BAD_USER_INPUT on field ``id`` quoting the pattern."""
    with pytest.raises(BadUserInput) as caught:
        validation.deployment_id(value)
    assert caught.value.field == "id"
    assert caught.value.extensions == {"code": "BAD_USER_INPUT", "field": "id"}
    assert validation.ID_PATTERN.pattern in caught.value.message


def test_model_image_is_trimmed_of_spaces_only() -> None:
    """Spaces around an image reference are dropped; a line break is refused, not trimmed."""
    assert validation.model_image("  repo/model:1 ") == "repo/model:1"
    with pytest.raises(BadUserInput):
        validation.model_image("repo/model:1\n")


@pytest.mark.parametrize("value", [None, "", "   ", "repo/model :1"])
def test_empty_or_spaced_model_images_are_refused(value: str | None) -> None:
    """An empty, blank or space-containing image names ``modelImage``."""
    with pytest.raises(BadUserInput) as caught:
        validation.model_image(value)
    assert caught.value.field == "modelImage"


@pytest.mark.parametrize("value", ["gs://bucket/model", "S3://bucket/dir/", "https://x.io/m.pkl"])
def test_model_uris_with_allowed_schemes_pass(value: str) -> None:
    """A URI whose scheme is in the allowed list passes (scheme case-insensitive)."""
    assert validation.model_uri(value, schemes=SCHEMES) == value


@pytest.mark.parametrize(("value", "stored"), [(None, None), ("", ""), ("  ", "")])
def test_an_empty_model_uri_means_none_and_stays_empty(value: str | None,
                                                       stored: str | None) -> None:
    """No model URI is stored when none is given; an empty string stays an empty string."""
    assert validation.model_uri(value, schemes=SCHEMES) == stored


@pytest.mark.parametrize("value", ["ftp://host/model", "file:///etc/passwd", "gs://", "model"])
def test_model_uris_with_other_schemes_are_refused(value: str) -> None:
    """A scheme outside the list, or a URI with nothing after the scheme, names ``modelURI``."""
    with pytest.raises(BadUserInput) as caught:
        validation.model_uri(value, schemes=SCHEMES)
    assert caught.value.field == "modelURI"


def test_replicas_must_lie_between_zero_and_the_maximum() -> None:
    """0 and the maximum pass; one more, or a negative count, names ``replicas``."""
    assert validation.replicas(0, maximum=5) == 0
    assert validation.replicas(5, maximum=5) == 5
    for bad in (-1, 6):
        with pytest.raises(BadUserInput, match=r"^replicas: must be between 0 and 5"):
            validation.replicas(bad, maximum=5)


def test_env_becomes_name_value_pairs() -> None:
    """Env is a list of {name, value}; values are stored as strings, null as empty."""
    parsed = validation.env([{"name": "A", "value": "1"}, {"name": "b.c-d", "value": 2},
                             {"name": "_E", "value": None}])
    assert parsed == (EnvVar("A", "1"), EnvVar("b.c-d", "2"), EnvVar("_E", ""))


@pytest.mark.parametrize("name", ["1ABC", "A B", "a=b", ""])
def test_illegal_env_names_get_primehubs_error(name: str) -> None:
    """A bad variable name is ILLEGAL_ENV_NAME with PrimeHub's sentence naming it."""
    with pytest.raises(IllegalEnvName) as caught:
        validation.env([{"name": name, "value": "x"}])
    assert caught.value.extensions["code"] == "ILLEGAL_ENV_NAME"
    assert caught.value.message.startswith(f'EnvVar name "{name}" is invalid')


@pytest.mark.parametrize(("value", "field"), [
    ({"A": "1"}, "env"), ([{"value": "1"}], "env[0]"), (["A=1"], "env[0]"),
    ([{"name": "A"}, {"name": "A"}], "env[1].name"),
    ([{"name": "A", "value": [1]}], "env[0].value"),
])
def test_malformed_env_names_the_item(value: object, field: str) -> None:
    """A non-list, an item without a name, a duplicate or a nested value names the item."""
    with pytest.raises(BadUserInput) as caught:
        validation.env(value)
    assert caught.value.field == field


def test_metadata_keeps_strings_and_stringifies_scalars() -> None:
    """Metadata values become strings; null values are dropped."""
    assert validation.metadata({"a": "x", "b": 1, "c": True, "d": None}) == {
        "a": "x", "b": "1", "c": "true"}


@pytest.mark.parametrize("value", [
    ["a"], {"": "x"}, {"a": {"nested": 1}}, {"a": "x" * (validation.MAX_METADATA_VALUE + 1)},
    {f"k{i}": "v" for i in range(validation.MAX_METADATA_ENTRIES + 1)},
])
def test_oversized_or_nested_metadata_is_refused(value: object) -> None:
    """Non-objects, empty keys, nested values, long values and too many entries are refused."""
    with pytest.raises(BadUserInput) as caught:
        validation.metadata(value)
    assert caught.value.field.startswith("metadata")


def test_access_types_are_public_or_private() -> None:
    """Access types are matched case-insensitively; anything else names the field."""
    assert validation.access_type("Private") == "private"
    with pytest.raises(BadUserInput) as caught:
        validation.access_type("internal")
    assert caught.value.field == "endpointAccessType"


@pytest.mark.parametrize("name", ["app", "_svc", "a-b_c9"])
def test_client_names_follow_the_pattern(name: str) -> None:
    """Client names matching ^[a-z_][a-z0-9_-]*$ pass."""
    assert validation.client_name(name) == name


@pytest.mark.parametrize("name", [None, "", "App", "9app", "a:b", "a" * 64])
def test_bad_client_names_are_refused(name: str | None) -> None:
    """Client names outside the pattern (or longer than 63) name the ``name`` field."""
    with pytest.raises(BadUserInput) as caught:
        validation.client_name(name)
    assert caught.value.field == "name"


def test_texts_are_bounded() -> None:
    """Free text up to the limit passes; longer names its field; empty stays empty."""
    assert validation.text("", field="description") == ""
    assert validation.text(None, field="description") is None
    assert validation.text("x" * 10, field="description", limit=10) == "x" * 10
    with pytest.raises(BadUserInput, match=r"^description: must be at most 10"):
        validation.text("x" * 11, field="description", limit=10)


def test_image_pull_secrets_are_secret_names() -> None:
    """An image pull secret must be a DNS subdomain name; blank means none, kept as sent."""
    assert validation.image_pull_secret(" regcred ") == "regcred"
    assert validation.image_pull_secret("") == ""
    assert validation.image_pull_secret(None) is None
    with pytest.raises(BadUserInput) as caught:
        validation.image_pull_secret("Reg_Cred")
    assert caught.value.field == "imagePullSecret"
