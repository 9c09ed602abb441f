"""The local cluster's structural schemas: pruning, defaulting, validation, CRD self-checks.

Expected messages are kube-apiserver's, taken from apiextensions-apiserver's own tests and from
errors real clusters return, so a client sees the same 422 here as from a real API server.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.localcluster import fielderrors
from gateway.localcluster.crdvalidating import validate_crd
from gateway.localcluster.errors import Cause
from gateway.localcluster.structural import compile_go_regex, compile_schema


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def _spec(**properties: Any) -> dict[str, Any]:
    """A root schema whose ``spec`` has ``properties``."""
    return _object(spec=_object(**properties))


def _causes(schema: dict[str, Any], obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c.field, c.reason, c.message) for c in compile_schema(schema).validate(obj)]


def _messages(schema: dict[str, Any], obj: dict[str, Any]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in compile_schema(schema).validate(obj)]


# --- pruning -------------------------------------------------------------------------------


def test_prune_drops_unknown_fields_and_reports_their_paths() -> None:
    """Fields not in ``properties`` go, at any depth, and their paths come back."""
    schema = _spec(items={"type": "array", "items": _object(name={"type": "string"})})
    obj = {"spec": {"items": [{"name": "a", "extra": 1}], "stray": True}, "top": 1}
    pruned = compile_schema(schema).prune(obj)
    assert obj == {"spec": {"items": [{"name": "a"}]}}
    assert sorted(pruned) == ["spec.items[0].extra", "spec.stray", "top"]


def test_prune_keeps_resource_fields_at_the_root() -> None:
    """apiVersion, kind and metadata survive at the root even when the schema omits them."""
    obj = {"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a", "anything": {"b": 1}}}
    assert compile_schema({"type": "object"}).prune(obj) == []
    assert obj["metadata"] == {"name": "a", "anything": {"b": 1}}


def test_prune_keeps_every_key_of_additional_properties_but_prunes_their_values() -> None:
    """A map keeps all its keys; each value is pruned by the additionalProperties schema."""
    schema = _spec(ports={"type": "object",
                          "additionalProperties": _object(port={"type": "integer"})})
    obj = {"spec": {"ports": {"http": {"port": 80, "junk": 1}, "grpc": {"port": 81}}}}
    compile_schema(schema).prune(obj)
    assert obj["spec"]["ports"] == {"http": {"port": 80}, "grpc": {"port": 81}}


def test_prune_keeps_unknown_fields_under_preserve_unknown_fields_but_prunes_known_ones() -> None:
    """x-kubernetes-preserve-unknown-fields keeps unknown keys; specified ones still prune."""
    schema = _spec(config={"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                           "properties": {"known": _object(a={"type": "string"})}})
    obj = {"spec": {"config": {"free": {"x": 1}, "known": {"a": "b", "c": "d"}}}}
    assert compile_schema(schema).prune(obj) == ["spec.config.known.c"]
    assert obj["spec"]["config"] == {"free": {"x": 1}, "known": {"a": "b"}}


def test_prune_keeps_resource_fields_of_an_embedded_resource() -> None:
    """An x-kubernetes-embedded-resource keeps its own apiVersion, kind and metadata."""
    schema = _spec(template={"type": "object", "x-kubernetes-embedded-resource": True,
                             "properties": {"spec": {"type": "object"}}})
    obj = {"spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"x": 1},
                                 "spec": {}, "other": 1}}}
    assert compile_schema(schema).prune(obj) == ["spec.template.other"]


# --- defaulting ----------------------------------------------------------------------------


def test_default_fills_missing_fields_of_objects_that_exist() -> None:
    """A missing field gets its default; a present one keeps its value; no parent is created."""
    schema = _spec(access={"type": "string", "default": "public"},
                   replicas={"type": "integer", "default": 1},
                   nested=_object(flag={"type": "boolean", "default": True}))
    obj = {"spec": {"replicas": 3}}
    compile_schema(schema).default(obj)
    assert obj == {"spec": {"replicas": 3, "access": "public"}}
    empty: dict[str, Any] = {}
    compile_schema(schema).default(empty)
    assert empty == {}


def test_default_recurses_into_a_defaulted_object() -> None:
    """A defaulted object gets the defaults of its own properties too."""
    schema = _spec(endpoint={**_object(accessType={"type": "string", "default": "public"}),
                             "default": {}})
    obj: dict[str, Any] = {"spec": {}}
    compile_schema(schema).default(obj)
    assert obj == {"spec": {"endpoint": {"accessType": "public"}}}


def test_default_handles_nulls_like_the_api_server() -> None:
    """Non-nullable nulls are defaulted or dropped; nullable nulls stay."""
    schema = _spec(withDefault={"type": "string", "default": "d"},
                   plain={"type": "string"},
                   nullable={"type": "string", "nullable": True, "default": "d"},
                   labels={"type": "object",
                           "additionalProperties": {"type": "string", "default": "v"}},
                   names={"type": "array", "items": {"type": "string", "default": "n"}})
    obj = {"spec": {"withDefault": None, "plain": None, "nullable": None,
                    "labels": {"a": None}, "names": [None, "x"]}}
    compile_schema(schema).default(obj)
    assert obj == {"spec": {"withDefault": "d", "nullable": None, "labels": {"a": "v"},
                            "names": ["n", "x"]}}


def test_default_values_are_copied() -> None:
    """Changing a defaulted value does not change the schema's default for the next object."""
    schema = compile_schema(_spec(tags={"type": "array", "items": {"type": "string"},
                                        "default": ["a"]}))
    first: dict[str, Any] = {"spec": {}}
    schema.default(first)
    first["spec"]["tags"].append("b")
    second: dict[str, Any] = {"spec": {}}
    schema.default(second)
    assert second == {"spec": {"tags": ["a"]}}


# --- validation: messages per keyword --------------------------------------------------------


@pytest.mark.parametrize(("field_schema", "value", "expected"), [
    ({"type": "integer"}, "x", ('spec.f', "FieldValueTypeInvalid",
                                'Invalid value: "string": spec.f in body must be of type '
                                'integer: "string"')),
    ({"type": "object"}, [], ("spec.f", "FieldValueTypeInvalid",
                              'Invalid value: "array": spec.f in body must be of type object: '
                              '"array"')),
    ({"type": "integer", "minimum": 0}, -1, (
        "spec.f", "FieldValueInvalid",
        "Invalid value: -1: spec.f in body should be greater than or equal to 0")),
    ({"type": "number", "minimum": 0, "exclusiveMinimum": True}, -0.5, (
        "spec.f", "FieldValueInvalid",
        "Invalid value: -0.5: spec.f in body should be greater than 0")),
    ({"type": "integer", "maximum": 10}, 11, (
        "spec.f", "FieldValueInvalid",
        "Invalid value: 11: spec.f in body should be less than or equal to 10")),
    ({"type": "number", "maximum": 1.5, "exclusiveMaximum": True}, 1.5, (
        "spec.f", "FieldValueInvalid",
        "Invalid value: 1.5: spec.f in body should be less than 1.5")),
    ({"type": "integer", "multipleOf": 5}, 7, (
        "spec.f", "FieldValueInvalid", "Invalid value: 7: spec.f in body should be a multiple "
                                       "of 5")),
    ({"type": "string", "enum": ["public", "private"]}, "x", (
        "spec.f", "FieldValueNotSupported",
        'Unsupported value: "x": supported values: "public", "private"')),
    ({"type": "integer", "enum": [1, 2]}, 3, (
        "spec.f", "FieldValueNotSupported", 'Unsupported value: 3: supported values: "1", "2"')),
    ({"type": "string", "pattern": "^[a-z]+$"}, "A", (
        "spec.f", "FieldValueInvalid",
        "Invalid value: \"A\": spec.f in body should match '^[a-z]+$'")),
    ({"type": "string", "minLength": 2}, "a", (
        "spec.f", "FieldValueInvalid", 'Invalid value: "a": spec.f in body should be at least '
                                       '2 chars long')),
    ({"type": "string", "maxLength": 3}, "abcd", (
        "spec.f", "FieldValueTooLong", "Too long: may not be longer than 3")),
    ({"type": "array", "items": {"type": "string"}, "minItems": 1}, [], (
        "spec.f", "FieldValueInvalid",
        "Invalid value: 0: spec.f in body should have at least 1 items")),
    ({"type": "array", "items": {"type": "string"}, "maxItems": 2}, ["a", "b", "c"], (
        "spec.f", "FieldValueTooMany", "Too many: 3: must have at most 2 items")),
    ({"type": "array", "items": {"type": "string"}, "uniqueItems": True}, ["a", "a"], (
        "spec.f", "FieldValueInvalid",
        "Invalid value: \"\": spec.f in body shouldn't contain duplicates")),
    ({"type": "object", "maxProperties": 1, "additionalProperties": {"type": "string"}},
     {"a": "1", "b": "2"}, ("spec.f", "FieldValueTooMany",
                            "Too many: 2: must have at most 1 items")),
    ({"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"}}, {}, (
        "spec.f", "FieldValueInvalid",
        "Invalid value: 0: spec.f in body should have at least 1 properties")),
    ({"type": "string", "format": "date-time"}, "yesterday", (
        "spec.f", "FieldValueTypeInvalid",
        'Invalid value: "yesterday": spec.f in body must be of type date-time: "yesterday"')),
    ({"type": "string", "format": "date"}, "2024-02-30", (
        "spec.f", "FieldValueTypeInvalid",
        'Invalid value: "2024-02-30": spec.f in body must be of type date: "2024-02-30"')),
    ({"x-kubernetes-int-or-string": True}, True, (
        "spec.f", "FieldValueTypeInvalid",
        'Invalid value: "boolean": spec.f in body must be of type integer,string: "boolean"')),
])
def test_each_keyword_fails_with_kubes_path_reason_and_message(
        field_schema: dict[str, Any], value: Any, expected: tuple[str, str, str]) -> None:
    """Every supported keyword rejects a bad value with the API server's cause."""
    assert _causes(_spec(f=field_schema), {"spec": {"f": value}}) == [expected]


@pytest.mark.parametrize(("field_schema", "value"), [
    ({"type": "integer"}, 3.0),
    ({"type": "number"}, 3),
    ({"x-kubernetes-int-or-string": True}, 3),
    ({"x-kubernetes-int-or-string": True}, "50%"),
    ({"type": "string", "format": "date-time"}, "2024-05-01T10:20:30Z"),
    ({"type": "string", "format": "date-time"}, "2024-05-01t10:20:30.123+02:00"),
    ({"type": "string", "nullable": True}, None),
    ({"type": "integer", "enum": [1, 2]}, 2.0),
    ({"type": "string", "format": "unheard-of"}, "anything"),
    ({"type": "array", "items": {"type": "integer"}, "maxItems": 2}, [1, 2]),
])
def test_values_the_api_server_accepts_pass(field_schema: dict[str, Any], value: Any) -> None:
    """Whole floats are integers, int-or-string takes both, unknown formats are ignored."""
    assert _causes(_spec(f=field_schema), {"spec": {"f": value}}) == []


def test_required_fields_are_reported_with_their_path() -> None:
    """A missing required property is ``Required value`` at its own path."""
    schema = _spec(predictors={"type": "array", "items": {
        **_object(name={"type": "string"}, replicas={"type": "integer"}),
        "required": ["name", "replicas"]}})
    assert _causes(schema, {"spec": {"predictors": [{"name": "p"}]}}) == [
        ("spec.predictors[0].replicas", "FieldValueRequired", "Required value")]


def test_a_type_error_does_not_hide_the_enum_error() -> None:
    """As in kube, a wrongly typed value also fails the enum it is not in."""
    schema = _spec(n={"type": "integer", "enum": [1, 2]}, s={"type": "string", "enum": ["a"]})
    assert _messages(schema, {"spec": {"n": "x", "s": True}}) == [
        'spec.n: Invalid value: "string": spec.n in body must be of type integer: "string"',
        'spec.n: Unsupported value: "x": supported values: "1", "2"',
        'spec.s: Invalid value: "boolean": spec.s in body must be of type string: "boolean"',
        'spec.s: Unsupported value: true: supported values: "a"',
    ]


def test_null_fails_a_non_nullable_type_and_any_enum() -> None:
    """A null list item is ``"null"``; a nullable field with an enum still refuses null."""
    schema = _spec(names={"type": "array", "items": {"type": "string"}},
                   mode={"type": "string", "nullable": True, "enum": ["a"]})
    assert _messages(schema, {"spec": {"names": [None], "mode": None}}) == [
        'spec.names[0]: Invalid value: "null": spec.names[0] in body must be of type string: '
        '"null"',
        'spec.mode: Unsupported value: "null": supported values: "a"',
    ]


def test_pattern_follows_go_regexp_semantics() -> None:
    """``$`` is the end of the text and ``\\d`` is ASCII, as in Go's regexp package."""
    schema = _spec(name={"type": "string", "pattern": r"^\d+$"})
    assert len(_causes(schema, {"spec": {"name": "12\n"}})) == 1
    assert len(_causes(schema, {"spec": {"name": "\u0663"}})) == 1  # an Arabic-Indic three
    assert _causes(schema, {"spec": {"name": "12"}}) == []


def test_additional_properties_values_are_validated_under_their_key() -> None:
    """A map value is checked against additionalProperties at ``path.key``."""
    schema = _spec(metadata={"type": "object", "additionalProperties": {"type": "string"}})
    assert _messages(schema, {"spec": {"metadata": {"nvidia.com/gpu": 1}}}) == [
        'spec.metadata.nvidia.com/gpu: Invalid value: "integer": spec.metadata.nvidia.com/gpu '
        'in body must be of type string: "integer"']


def test_max_properties_hides_the_rest_of_that_object() -> None:
    """Like go-openapi, a too-big object reports only that, not its values' problems."""
    schema = _spec(labels={"type": "object", "maxProperties": 1,
                           "additionalProperties": {"type": "string"}})
    assert _messages(schema, {"spec": {"labels": {"a": 1, "b": 2}}}) == [
        "spec.labels: Too many: 2: must have at most 1 items"]


def test_root_level_errors_are_at_nil() -> None:
    """An error about the object itself has the field ``<nil>``, as Go prints a nil path."""
    schema = {"type": "object", "maxProperties": 1}
    assert _messages(schema, {"a": 1, "b": 2}) == ["<nil>: Too many: 2: must have at most 1 items"]


def test_root_metadata_name_is_validated_by_the_schema() -> None:
    """A pattern on metadata.name rejects bad names with a metadata.name cause."""
    schema = _object(metadata=_object(name={"type": "string", "pattern": "^[a-z]+$"}))
    assert _messages(schema, {"metadata": {"name": "Bad"}}) == [
        "metadata.name: Invalid value: \"Bad\": metadata.name in body should match '^[a-z]+$'"]


def test_int_or_string_with_the_any_of_pattern_reports_like_kube() -> None:
    """The controller-gen anyOf form adds the anyOf error and the failing alternative's."""
    schema = _spec(f={"x-kubernetes-int-or-string": True,
                      "anyOf": [{"type": "integer"}, {"type": "string"}]})
    assert sorted(_messages(schema, {"spec": {"f": 1.5}})) == sorted([
        '<nil>: Invalid value: "": "spec.f" must validate at least one schema (anyOf)',
        'spec.f: Invalid value: "number": spec.f in body must be of type integer,string: '
        '"number"',
        'spec.f: Invalid value: "number": spec.f in body must be of type integer: "number"',
    ])


def test_junctors_report_at_nil_with_the_best_failing_alternative() -> None:
    """oneOf, allOf and not failures name the path in quotes, at the field ``<nil>``."""
    one_of = _spec(f={"type": "object", "properties": {"a": {"type": "string"},
                                                       "b": {"type": "string"}},
                      "oneOf": [{"required": ["a"]}, {"required": ["b"]}]})
    assert _messages(one_of, {"spec": {"f": {}}}) == [
        '<nil>: Invalid value: "": "spec.f" must validate one and only one schema (oneOf). '
        "Found none valid",
        "spec.f.a: Required value"]
    assert _messages(one_of, {"spec": {"f": {"a": "x", "b": "y"}}}) == [
        '<nil>: Invalid value: "": "spec.f" must validate one and only one schema (oneOf). '
        "Found 2 valid alternatives"]
    all_of = _spec(f={"type": "integer", "allOf": [{"minimum": 0}, {"maximum": 5}]})
    assert _messages(all_of, {"spec": {"f": 9}}) == [
        "spec.f: Invalid value: 9: spec.f in body should be less than or equal to 5",
        '<nil>: Invalid value: "": "spec.f" must validate all the schemas (allOf)']
    negated = _spec(f={"type": "string", "not": {"enum": ["root"]}})
    assert _messages(negated, {"spec": {"f": "root"}}) == [
        '<nil>: Invalid value: "": "spec.f" must not validate the schema (not)']
    assert _messages(negated, {"spec": {"f": "alice"}}) == []


def test_list_type_set_and_map_reject_duplicates_after_schema_errors() -> None:
    """Duplicates are reported at their second appearance, after every schema error."""
    schema = _spec(
        tags={"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        env={"type": "array", "x-kubernetes-list-type": "map",
             "x-kubernetes-list-map-keys": ["name"],
             "items": {**_object(name={"type": "string"}, value={"type": "string"}),
                       "required": ["name"]}},
        ports={"type": "array", "x-kubernetes-list-type": "map",
               "x-kubernetes-list-map-keys": ["port", "protocol"],
               "items": {**_object(port={"type": "integer"}, protocol={"type": "string"}),
                         "required": ["port", "protocol"]}},
        count={"type": "integer"})
    obj = {"spec": {"tags": ["a", "b", "a", "a"],
                    "env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}],
                    "ports": [{"port": 80, "protocol": "TCP"}, {"port": 80, "protocol": "UDP"},
                              {"port": 80, "protocol": "TCP"}],
                    "count": "x"}}
    assert _messages(schema, obj) == [
        'spec.count: Invalid value: "string": spec.count in body must be of type integer: '
        '"string"',
        'spec.tags[2]: Duplicate value: "a"',
        'spec.env[1]: Duplicate value: {"name":"A"}',
        'spec.ports[2]: Duplicate value: {"port":80,"protocol":"TCP"}',
    ]


def test_list_type_map_items_must_be_objects() -> None:
    """A keyed list with a non-object item gets kube's single list-map error."""
    schema = _spec(env={"type": "array", "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {"x-kubernetes-preserve-unknown-fields": True}})
    assert _messages(schema, {"spec": {"env": [{"name": "a"}, "b"]}}) == [
        'spec.env[1]: Invalid value: "b": must be an object for an array of list-type map']


def test_embedded_resources_need_api_version_and_kind() -> None:
    """An embedded resource without apiVersion, or with a bad kind, is rejected."""
    schema = _spec(template={"type": "object", "x-kubernetes-embedded-resource": True,
                             "x-kubernetes-preserve-unknown-fields": True})
    assert _messages(schema, {"spec": {"template": {"kind": "Bad_Kind"}}}) == [
        "spec.template.apiVersion: Required value: must not be empty",
        'spec.template.kind: Invalid value: "Bad_Kind": may have mixed case, but should '
        "otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters "
        "or '-', start with an alphabetic character, and end with an alphanumeric character "
        "(e.g. 'my-name',  or 'abc-123', regex used for validation is "
        "'[a-z]([-a-z0-9]*[a-z0-9])?')"]


def test_list_map_keys_are_listed_by_field_path() -> None:
    """Keyed lists are found under properties, map values (``*``) and list items."""
    keyed = {"type": "array", "x-kubernetes-list-type": "map",
             "x-kubernetes-list-map-keys": ["name"],
             "items": {**_object(name={"type": "string"}), "required": ["name"]}}
    schema = _spec(env=keyed,
                   byName={"type": "object", "additionalProperties": _object(ports=keyed)},
                   predictors={"type": "array", "items": _object(env=keyed)})
    assert compile_schema(schema).list_map_keys() == {
        "spec.env": ("name",), "spec.byName.*.ports": ("name",),
        "spec.predictors.env": ("name",)}


@pytest.mark.parametrize("schema", [
    {"type": "array", "items": [{"type": "string"}]},
    {"type": "integer", "minimum": "zero"},
    {"type": "string", "maxLength": 1.5},
    {"type": "string", "pattern": "(?=x)"},
    {"type": 7},
])
def test_unusable_keywords_do_not_compile(schema: dict[str, Any]) -> None:
    """A schema that cannot be applied is a ``ValueError``, not a silent pass."""
    with pytest.raises(ValueError, match=r"."):
        compile_schema(schema)


# --- Go behaviour reproduced -------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "message"), [
    ("a(?=b)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"),
    ("a(?<!b)", "error parsing regexp: invalid or unsupported Perl syntax: `(?<`"),
    (r"(a)\1", r"error parsing regexp: invalid escape sequence: `\1`"),
    (r"a\Z", r"error parsing regexp: invalid escape sequence: `\Z`"),
])
def test_go_regex_refuses_what_re2_refuses(pattern: str, message: str) -> None:
    """Lookaround and backreferences are errors, with Go's wording."""
    with pytest.raises(ValueError, match=r".") as raised:
        compile_go_regex(pattern)
    assert str(raised.value) == message


def test_go_regex_translates_anchors_and_classes() -> None:
    """``$`` and ``\\z`` end the text, a leading ``]`` in a class is literal."""
    assert compile_go_regex("^a$").search("a\n") is None
    assert compile_go_regex(r"^a\z").search("a") is not None
    assert compile_go_regex("^[]a]+$").search("]a]") is not None
    assert compile_go_regex("^[$]$").search("$") is not None
    assert compile_go_regex("(?m)^a$").search("a\nb") is not None


@pytest.mark.parametrize(("value", "printed"), [
    (0.0, "0"), (1.5, "1.5"), (-2.25, "-2.25"), (100.0, "100"), (123456.0, "123456"),
    (1e6, "1e+06"), (1234567.0, "1.234567e+06"), (0.0001, "0.0001"), (0.00001, "1e-05"),
    (1e21, "1e+21"),
])
def test_floats_print_like_go(value: float, printed: str) -> None:
    """Bad float values and bounds appear in messages as Go's ``%v`` prints them."""
    assert fielderrors.go_float(value) == printed


@pytest.mark.parametrize(("value", "printed"), [
    ("a\"b\\c", '"a\\"b\\\\c"'), ("tab\there", '"tab\\there"'), ("\x01", '"\\x01"'),
    ("é", '"é"'), (None, '"null"'), (True, "true"), (7, "7"),
    ({"b": [1, 1.0, None], "a": "<x>"}, '{"a":"\\u003cx\\u003e","b":[1,1,null]}'),
])
def test_bad_values_print_like_go(value: Any, printed: str) -> None:
    """Strings are Go-quoted, null is "null", objects are Go's JSON (sorted, HTML-safe)."""
    assert fielderrors.go_value(value) == printed


# --- the CRD itself ----------------------------------------------------------------------------


def _crd(schema: Any = None, **spec: Any) -> dict[str, Any]:
    """A valid CRD for widgets.example.com, with ``spec`` overrides and a version schema."""
    version = {"name": "v1", "served": True, "storage": True,
               "schema": {"openAPIV3Schema": schema if schema is not None else _spec(
                   size={"type": "integer", "minimum": 0, "default": 1})}}
    body = {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"}, "versions": [version]}
    body.update(spec)
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"}, "spec": body}


def _crd_messages(crd: dict[str, Any]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in validate_crd(crd)]


def _schema_messages(schema: Any) -> list[str]:
    prefix = "spec.versions[0].schema.openAPIV3Schema"
    return [m.replace(prefix, "$") for m in _crd_messages(_crd(schema))]


def test_a_sound_crd_passes() -> None:
    """A complete CRD with a structural schema, defaults and printer columns has no causes."""
    crd = _crd()
    crd["spec"]["versions"][0]["additionalPrinterColumns"] = [
        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"}]
    crd["spec"]["versions"][0]["subresources"] = {
        "status": {}, "scale": {"specReplicasPath": ".spec.size",
                                "statusReplicasPath": ".status.size"}}
    assert validate_crd(crd) == []


def test_an_empty_crd_lists_everything_missing() -> None:
    """No name, group, scope, versions or names: each is reported, as kube does."""
    assert _crd_messages({}) == [
        'metadata.name: Invalid value: "": must be spec.names.plural+"."+spec.group',
        "spec.group: Required value",
        "spec.scope: Required value",
        "spec.versions: Invalid value: []: must have exactly one version marked as storage "
        "version",
        "spec.names.plural: Required value",
        "spec.names.kind: Required value",
    ]


def test_crd_identity_and_names_are_checked() -> None:
    """The name must be plural.group; group, scope and names must be well formed."""
    crd = _crd(group="example", scope="Global",
               names={"plural": "Widgets", "kind": "Widget", "listKind": "Widget"})
    crd["metadata"]["name"] = "widgets.example"
    messages = _crd_messages(crd)
    assert messages[0] == ('metadata.name: Invalid value: "widgets.example": must be '
                           'spec.names.plural+"."+spec.group')
    assert messages[1:3] == [
        'spec.group: Invalid value: "example": should be a domain with at least one dot',
        'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']
    assert messages[3].startswith('spec.names.plural: Invalid value: "Widgets": a DNS-1035 '
                                  "label must consist of lower case alphanumeric characters")
    assert messages[4] == ('spec.names.listKind: Invalid value: "Widget": kind and listKind '
                           "may not be the same")


def test_versions_need_one_storage_one_served_and_unique_names() -> None:
    """Two storage versions, none served, a repeated name: each is a cause."""
    base = _crd()["spec"]["versions"][0]
    versions = [{**base, "served": False}, {**base, "served": False}]
    causes = validate_crd(_crd(versions=versions))
    details = [c.message.rsplit(": ", 1)[-1] for c in causes]
    assert details == ["must contain unique version names",
                       "must have exactly one version marked as storage version",
                       "must have at least one version marked as served"]
    assert {c.field for c in causes} == {"spec.versions"}


def test_every_version_needs_a_schema() -> None:
    """A version without openAPIV3Schema is refused: v1 CRDs must prune."""
    crd = _crd()
    del crd["spec"]["versions"][0]["schema"]
    assert _crd_messages(crd) == ["spec.versions[0].schema.openAPIV3Schema: Required value: "
                                  "schemas are required"]


@pytest.mark.parametrize(("schema", "expected"), [
    (_spec(size={}), ["$.properties[spec].properties[size].type: Required value: must not be "
                      "empty for specified object fields"]),
    ({"properties": {}}, ["$.type: Required value: must not be empty at the root"]),
    ({"type": "array", "items": {"type": "string"}}, [
        '$.type: Invalid value: "array": must be object at the root']),
    (_spec(list={"type": "array"}), [
        "$.properties[spec].properties[list].items: Required value: must be specified"]),
    (_spec(list={"type": "array", "items": {}}), [
        "$.properties[spec].properties[list].items.type: Required value: must not be empty "
        "for specified array items"]),
    (_spec(kind={"type": "strange"}), [
        '$.properties[spec].properties[kind].type: Unsupported value: "strange": supported '
        'values: "array", "boolean", "integer", "number", "object", "string"']),
    ({**_spec(), "anyOf": [{"type": "object"}]}, [
        "$.anyOf[0].type: Forbidden: must be empty to be structural"]),
    ({**_spec(), "oneOf": [{"properties": {"other": {"minimum": 1}}}]}, [
        "$.properties[other]: Required value: because it is defined in "
        "$.oneOf[0].properties[other]"]),
    ({**_spec(), "allOf": [{"description": "x", "nullable": True}]}, [
        "$.allOf[0].description: Forbidden: must be empty to be structural",
        "$.allOf[0].nullable: Forbidden: must be false to be structural"]),
    (_spec(tags={"type": "array", "items": {"type": "string"}, "uniqueItems": True}), [
        "$.properties[spec].properties[tags].uniqueItems: Forbidden: uniqueItems cannot be set "
        "to true since the runtime complexity becomes quadratic"]),
    (_spec(ref={"$ref": "#/definitions/x"}), [
        "$.properties[spec].properties[ref].$ref: Forbidden: $ref is not supported",
        "$.properties[spec].properties[ref].type: Required value: must not be empty for "
        "specified object fields"]),
    (_spec(mixed={**_object(a={"type": "string"}), "additionalProperties": {"type": "string"}}), [
        "$.properties[spec].properties[mixed].additionalProperties: Forbidden: "
        "additionalProperties and properties are mutual exclusive"]),
    ({"type": "object", "additionalProperties": {"type": "string"}}, [
        "$.additionalProperties: Forbidden: must not be used at the root"]),
    (_object(metadata={"type": "object", "properties": {"labels": {"type": "object"}}}), [
        "$.properties[metadata]: Forbidden: must not specify anything other than name and "
        "generateName, but metadata is implicitly specified"]),
    (_spec(name={"type": "string", "pattern": "a(?!b)"}), [
        "$.properties[spec].properties[name].pattern: Invalid value: \"a(?!b)\": must be a "
        "valid regular expression, but isn't: error parsing regexp: invalid or unsupported "
        "Perl syntax: `(?!`"]),
    (_spec(keep={"type": "object", "x-kubernetes-preserve-unknown-fields": False}), [
        "$.properties[spec].properties[keep].x-kubernetes-preserve-unknown-fields: Invalid "
        "value: false: must be true or undefined"]),
    (_spec(env={"type": "array", "x-kubernetes-list-type": "map",
                "items": _object(name={"type": "string"})}), [
        "$.properties[spec].properties[env].x-kubernetes-list-map-keys: Required value: must "
        "not be empty if x-kubernetes-list-type is map"]),
    (_spec(env={"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "items": _object(name={"type": "string"})}), [
        "$.properties[spec].properties[env].items.properties[name].default: Required value: "
        "this property is in x-kubernetes-list-map-keys, so it must have a default or be a "
        "required property"]),
    (_spec(tags={"type": "object", "x-kubernetes-list-type": "set"}), [
        '$.properties[spec].properties[tags].type: Invalid value: "object": must be array if '
        "x-kubernetes-list-type is specified"]),
    (_spec(size={"type": "integer", "x-kubernetes-validations": [{"rule": "self > 0"}]}), [
        "$.properties[spec].properties[size].x-kubernetes-validations: Forbidden: CEL "
        "validation rules are not supported by the local cluster"]),
    (_object(metadata={"type": "object", "default": {}}), [
        "$.properties[metadata].default: Forbidden: must not be set in top-level metadata"]),
])
def test_schemas_the_api_server_refuses_are_refused(schema: Any, expected: list[str]) -> None:
    """Non-structural or invalid schemas get kube's paths and messages."""
    assert _schema_messages(schema) == expected


@pytest.mark.parametrize(("schema", "expected"), [
    (_spec(size={"type": "integer", "minimum": 0, "default": -1}), [
        "$.properties[spec].properties[size].default: Invalid value: -1:  in body should be "
        "greater than or equal to 0"]),
    (_spec(opts={**_object(a={"type": "string"}), "default": {"a": "x", "b": 1}}), [
        '$.properties[spec].properties[opts].default: Invalid value: {"a":"x","b":1}: must not '
        "have unknown fields"]),
    (_spec(opts={**_object(a={"type": "string", "maxLength": 1}), "default": {"a": "xy"}}), [
        "$.properties[spec].properties[opts].default.a: Too long: may not be longer than 1"]),
])
def test_defaults_must_validate_and_be_pruned(schema: Any, expected: list[str]) -> None:
    """A default the schema would reject, or would prune, makes the CRD invalid."""
    assert _schema_messages(schema) == expected


@pytest.mark.parametrize("schema", [
    _spec(port={"x-kubernetes-int-or-string": True}),
    _spec(port={"x-kubernetes-int-or-string": True,
                "anyOf": [{"type": "integer"}, {"type": "string"}]}),
    _spec(port={"x-kubernetes-int-or-string": True,
                "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]},
                          {"pattern": "^[0-9]+$"}]}),
    _spec(anything={"x-kubernetes-preserve-unknown-fields": True}),
    _object(metadata={"type": "object", "properties": {"name": {"type": "string",
                                                                "maxLength": 20}}}),
    _spec(pod={"type": "object", "x-kubernetes-embedded-resource": True,
               "x-kubernetes-preserve-unknown-fields": True}),
    {**_spec(a={"type": "string"}, b={"type": "string"}),
     "properties": {"spec": {**_spec(a={"type": "string"}, b={"type": "string"})["properties"]
                             ["spec"], "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}}},
])
def test_schemas_the_api_server_accepts_are_accepted(schema: Any) -> None:
    """int-or-string patterns, preserve-unknown, name restrictions, value-only junctors pass."""
    assert _schema_messages(schema) == []


def test_printer_columns_and_scale_paths_are_checked() -> None:
    """A column without a usable type or jsonPath, and scale paths outside spec/status, fail."""
    crd = _crd()
    version = crd["spec"]["versions"][0]
    version["additionalPrinterColumns"] = [{"name": "Size", "type": "float"}]
    version["subresources"] = {"scale": {"specReplicasPath": ".status.size"}}
    assert _crd_messages(crd) == [
        'spec.versions[0].subresources.scale.specReplicasPath: Invalid value: ".status.size": '
        "should be a json path under .spec",
        "spec.versions[0].subresources.scale.statusReplicasPath: Required value",
        'spec.versions[0].additionalPrinterColumns[0].type: Invalid value: "float": must be '
        "one of boolean,date,integer,number,string",
        "spec.versions[0].additionalPrinterColumns[0].JSONPath: Required value",
    ]


def test_crd_validation_does_not_change_the_crd() -> None:
    """Checking defaults prunes copies: the CRD a caller passes in is left as it was."""
    crd = _crd(_spec(opts={**_object(a={"type": "string"}), "default": {"a": "x", "b": 1}}))
    before = copy.deepcopy(crd)
    validate_crd(crd)
    assert crd == before


def test_causes_are_the_errors_module_type() -> None:
    """Causes are ``errors.Cause``, ready for ``errors.invalid`` to turn into a 422."""
    assert all(isinstance(cause, Cause) for cause in validate_crd({}))
