"""Label and field selectors: the query-string syntax, the structured form, and their errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.localcluster.errors import ApiError
from gateway.localcluster.selectors import (
    Operator,
    Requirement,
    parse_field_selector,
    parse_label_selector,
    selector_from_dict,
)

LABELS = {"app": "model", "tier": "web", "replicas": "3", "example.com/owner": "team-a"}


def _bad(text: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse_label_selector(text)
    assert caught.value.code == 400
    assert caught.value.reason == "BadRequest"
    return caught.value


@pytest.mark.parametrize(("text", "expected"), [
    ("app=model", True),
    ("app=other", False),
    ("app==model", True),
    ("app==other", False),
    ("app!=other", True),
    ("app!=model", False),
    ("missing!=x", True),
    ("app in (model,other)", True),
    ("app in (other)", False),
    ("missing in (x)", False),
    ("app notin (other)", True),
    ("app notin (model,x)", False),
    ("missing notin (x)", True),
    ("app", True),
    ("missing", False),
    ("!missing", True),
    ("!app", False),
    ("replicas>2", True),
    ("replicas>3", False),
    ("replicas<4", True),
    ("replicas<3", False),
    ("app>1", False),
    ("missing<5", False),
    ("example.com/owner=team-a", True),
])
def test_each_operator_matches_like_the_apiserver(text: str, expected: bool) -> None:
    """Every query-string operator, including absent-label cases, matches as kube's does."""
    assert parse_label_selector(text).matches(LABELS) is expected


def test_terms_are_a_conjunction() -> None:
    """Comma-separated requirements must all hold."""
    assert parse_label_selector("app=model,tier=web").matches(LABELS)
    assert not parse_label_selector("app=model,tier=db").matches(LABELS)


def test_whitespace_between_tokens_is_ignored() -> None:
    """Spaces and tabs around keys, operators, parentheses and commas do not matter."""
    selector = parse_label_selector("  app =\tmodel , tier in ( web , db ) , ! missing ")
    assert selector == parse_label_selector("app=model,tier in (web,db),!missing")
    assert selector.matches(LABELS)


def test_empty_selector_selects_everything() -> None:
    """The empty (or blank) labelSelector matches any labels, even none."""
    assert parse_label_selector("").matches({})
    assert parse_label_selector("   ").matches(LABELS)


def test_requirements_are_sorted_by_key_with_unique_sorted_values() -> None:
    """Parsing normalises like kube: requirements by key, values as a sorted set."""
    selector = parse_label_selector("b in (y,x,y),a")
    assert selector.requirements == (Requirement("a", Operator.EXISTS),
                                     Requirement("b", Operator.IN, ("x", "y")))


def test_empty_slots_in_a_value_set_are_the_empty_value() -> None:
    """``()``, ``(a,)`` and ``(,a)`` hold the empty string, as kube's parser reads them."""
    assert parse_label_selector("x in ()").requirements[0].values == ("",)
    assert parse_label_selector("x in (a,)").requirements[0].values == ("", "a")
    assert parse_label_selector("x notin (,a)").requirements[0].values == ("", "a")
    assert parse_label_selector("x in (a,,b)").requirements[0].values == ("", "a", "b")


def test_an_exact_match_without_value_means_the_empty_value() -> None:
    """``a=`` selects objects whose label ``a`` is the empty string."""
    assert parse_label_selector("a=").matches({"a": ""})
    assert not parse_label_selector("a=,b").matches({"a": "x", "b": "y"})


def test_keywords_are_plain_words_outside_the_operator_position() -> None:
    """``in`` and ``notin`` can be keys and values."""
    assert parse_label_selector("in in (notin)").matches({"in": "notin"})
    assert parse_label_selector("notin=in").matches({"notin": "in"})


@pytest.mark.parametrize(("text", "message"), [
    ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
    ("a=b,", "found '', expected: identifier after ','"),
    ("a=b c", "found 'c', expected: ',' or 'end of string'"),
    ("!a=b", "found '=', expected: ',' or 'end of string'"),
    (",a", "found ',', expected: !, identifier, or 'end of string'"),
    ("a in x", "unable to parse requirement: found 'x', expected: '('"),
    ("a in (x", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
    ("a in (x y)", "unable to parse requirement: found 'y', expected: ',', ')' or identifier"),
    ("a=(", "unable to parse requirement: found '(', expected: identifier"),
    ("!=a", "found '!=', expected: !, identifier, or 'end of string'"),
    ("! =a", "unable to parse requirement: found '=', expected: identifier"),
    ("a>x", "unable to parse requirement: Invalid value: \"x\": for 'Gt', 'Lt' operators, "
            "the value must be an integer"),
])
def test_malformed_selectors_are_400_with_the_parsers_message(text: str, message: str) -> None:
    """Syntax errors name what was found and what was expected, like kube's parser."""
    assert _bad(text).message == message


@pytest.mark.parametrize(("text", "fragment"), [
    ("-app=x", 'Invalid value: "-app": name part must consist of alphanumeric characters'),
    ("a" * 64, "name part must be no more than 63 characters"),
    ("/app", "prefix part must be non-empty"),
    ("Example.com/app", "prefix part a lowercase RFC 1123 subdomain"),
    ("a/b/c", "a qualified name must consist of"),
    ("example.com/", "name part must be non-empty"),
    ("app=" + "v" * 64, "must be no more than 63 characters"),
    ("app=-v", "a valid label must be an empty string or consist of alphanumeric"),
    ("app in (ok,-bad)", 'Invalid value: "-bad"'),
])
def test_keys_and_values_are_validated_like_labels(text: str, fragment: str) -> None:
    """Keys need a valid name (and optional DNS prefix); values the label value charset."""
    error = _bad(text)
    assert error.message.startswith("unable to parse requirement: ")
    assert fragment in error.message


def test_a_key_with_a_253_character_prefix_is_valid() -> None:
    """The prefix may be a full DNS subdomain, up to 253 characters."""
    prefix = ".".join(["a" * 63] * 3 + ["b" * 61])
    assert len(prefix) == 253
    assert parse_label_selector(f"{prefix}/name").matches({f"{prefix}/name": "x"})
    assert "prefix part must be no more than 253" in _bad(f"{prefix}c/name").message


label_keys = st.from_regex(r"\A[a-z0-9]([a-z0-9._-]{0,20}[a-z0-9])?\Z")
label_values = st.from_regex(r"\A([A-Za-z0-9]([A-Za-z0-9._-]{0,20}[A-Za-z0-9])?)?\Z")


@given(st.dictionaries(label_keys, label_values, min_size=1, max_size=5))
def test_an_equality_selector_built_from_labels_matches_them(labels: dict[str, str]) -> None:
    """Any valid label set is selected by the selector that spells it out."""
    text = ",".join(f"{key}={value}" for key, value in labels.items())
    assert parse_label_selector(text).matches(labels)
    assert not parse_label_selector(text + ",!" + next(iter(labels))).matches(labels)


# -- the structured form -------------------------------------------------------------------

def test_match_labels_and_expressions_combine() -> None:
    """matchLabels and every matchExpressions operator must all hold."""
    selector = selector_from_dict({
        "matchLabels": {"app": "model"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["web", "db"]},
            {"key": "zone", "operator": "NotIn", "values": ["eu"]},
            {"key": "replicas", "operator": "Exists"},
            {"key": "canary", "operator": "DoesNotExist"},
        ],
    })
    assert selector.matches(LABELS)
    assert not selector.matches({**LABELS, "canary": "true"})
    assert not selector.matches({**LABELS, "tier": "cache"})


def test_an_empty_structured_selector_selects_everything() -> None:
    """``{}`` (and empty matchLabels/matchExpressions) matches any labels."""
    assert selector_from_dict({}).matches({})
    assert selector_from_dict({"matchLabels": {}, "matchExpressions": []}).matches(LABELS)


def test_a_null_structured_selector_selects_nothing() -> None:
    """``None`` matches no labels at all, not even empty ones."""
    assert not selector_from_dict(None).matches({})
    assert not selector_from_dict(None).matches(LABELS)


@pytest.mark.parametrize(("selector", "fragment"), [
    ([], "a label selector must be an object"),
    ({"matchLabels": []}, "matchLabels must be an object"),
    ({"matchLabels": {"app": 1}}, 'matchLabels["app"] must be a string'),
    ({"matchExpressions": ["x"]}, "a matchExpressions entry must be an object"),
    ({"matchExpressions": [{"key": "a", "operator": "Like"}]},
     '"Like" is not a valid label selector operator'),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
     "for 'in', 'notin' operators, values set can't be empty"),
    ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
     "values set must be empty for exists and does not exist"),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": [1]}]},
     "values must be a list of strings"),
    ({"matchLabels": {"-bad": "x"}}, 'Invalid value: "-bad"'),
])
def test_malformed_structured_selectors_are_400(selector: object, fragment: str) -> None:
    """Wrong shapes, unknown operators and invalid keys or values are rejected."""
    with pytest.raises(ApiError) as caught:
        selector_from_dict(selector)
    assert caught.value.code == 400
    assert fragment in caught.value.message


def test_several_problems_in_one_requirement_are_listed_together() -> None:
    """Like an aggregated field error list: every problem, in brackets."""
    with pytest.raises(ApiError) as caught:
        selector_from_dict({"matchExpressions": [{"key": "-k", "operator": "In"}]})
    assert caught.value.message.startswith('[Invalid value: "-k"')
    assert "values set can't be empty]" in caught.value.message


# -- field selectors -----------------------------------------------------------------------

SUPPORTED = frozenset({"metadata.name", "metadata.namespace", "status.phase", "spec.nodeName",
                       "spec.unschedulable"})
POD = {"metadata": {"name": "web-1", "namespace": "prod"}, "spec": {"unschedulable": True},
       "status": {"phase": "Running"}}


@pytest.mark.parametrize(("text", "expected"), [
    ("metadata.name=web-1", True),
    ("metadata.name==web-1", True),
    ("metadata.name=web-2", False),
    ("metadata.name!=web-2", True),
    ("metadata.name!=web-1", False),
    ("metadata.namespace=prod,status.phase=Running", True),
    ("metadata.namespace=prod,status.phase!=Running", False),
    ("spec.nodeName=", True),
    ("spec.nodeName!=", False),
    ("spec.unschedulable=true", True),
    ("", True),
    (",metadata.name=web-1,", True),
])
def test_field_terms_match_the_objects_fields(text: str, expected: bool) -> None:
    """=, == and != compare a field's text; a missing field reads "", booleans lowercase."""
    assert parse_field_selector(text, SUPPORTED).matches(POD) is expected


def test_escaped_characters_in_a_field_value() -> None:
    r"""``\,`` ``\=`` and ``\\`` stand for themselves inside a value."""
    selector = parse_field_selector(r"metadata.name=a\,b\=c\\d", SUPPORTED)
    assert selector.matches({"metadata": {"name": "a,b=c\\d"}})


def test_an_unsupported_field_is_400_like_the_apiserver() -> None:
    """A field outside the resource's set is refused with kube's wording."""
    with pytest.raises(ApiError) as caught:
        parse_field_selector("status.phase=Running", {"metadata.name", "metadata.namespace"})
    assert (caught.value.code, caught.value.message) == (
        400, "field label not supported: status.phase")


@pytest.mark.parametrize(("text", "message"), [
    ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
    ("metadata.name=a,x", "invalid selector: 'metadata.name=a,x'; can't understand 'x'"),
    (r"metadata.name=a\b", r"invalid field selector: invalid escape sequence: \b"),
    ("metadata.name=a\\", "invalid field selector: invalid escape sequence: \\"),
    ("metadata.name==a=b", "invalid field selector: unescaped character: ="),
])
def test_malformed_field_selectors_are_400(text: str, message: str) -> None:
    """A term without operator, a bad escape or an unescaped '=' in a value is refused."""
    with pytest.raises(ApiError) as caught:
        parse_field_selector(text, SUPPORTED)
    assert (caught.value.code, caught.value.message) == (400, message)
