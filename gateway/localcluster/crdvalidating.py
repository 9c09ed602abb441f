"""Validating a CustomResourceDefinition itself, so nonsense is answered with a 422.

The checks are those of apiextensions' ``ValidateCustomResourceDefinition`` that a v1 CRD
written by hand or shipped in a chart can fail, with kube's paths and messages: the name is
``<plural>.<group>``; group, scope and names are well formed; versions have unique DNS-1035
names, a schema each and exactly one storage version; subresources and printer columns are
complete; and every version schema is one the API server accepts: OpenAPI as CRDs allow it
(no ``$ref``, ``uniqueItems`` or ``additionalProperties`` beside ``properties``; valid list
and map types), *structural* (a type on every specified node; anyOf/allOf/oneOf/not only
restrict what is specified outside them, without types, defaults or extensions, except the two
``x-kubernetes-int-or-string`` patterns; root ``metadata`` restricts only ``name`` and
``generateName``), with valid patterns and with defaults that validate and are already pruned.

Kube defaults ``singular`` and ``listKind`` before validating, so their absence is fine here.
Two deliberate differences: at least one version must be served (kube allows none, but here a
CRD serving nothing is always a mistake), and ``x-kubernetes-validations`` (CEL) is refused,
because the local cluster cannot evaluate it and must not silently accept what a real cluster
rejects.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from gateway.localcluster import fielderrors as fe
from gateway.localcluster import schemavalidating
from gateway.localcluster.errors import Cause
from gateway.localcluster.structural import compile_go_regex, compile_schema

_TYPES = ("array", "boolean", "integer", "number", "object", "string")
_COLUMN_TYPES = "boolean,date,integer,number,string"
_COLUMN_FORMATS = "byte,date,date-time,double,float,int32,int64,password"
_RESOURCE_META = ("apiVersion", "kind", "metadata")
_UNSUPPORTED = ("id", "additionalItems", "patternProperties", "definitions", "dependencies",
                "$ref")
_JUNCTORS = ("allOf", "anyOf", "oneOf")
_NOT_IN_JUNCTORS = (  # keyword, detail: what a structural schema keeps out of junctors
    ("additionalProperties", "must be undefined to be structural"),
    ("default", "must be undefined to be structural"),
    ("title", "must be empty to be structural"),
    ("description", "must be empty to be structural"),
    ("externalDocs", "must be undefined to be structural"),
    ("x-kubernetes-list-map-keys", "must be empty to be structural"),
    ("x-kubernetes-list-type", "must be undefined to be structural"),
    ("x-kubernetes-map-type", "must be undefined to be structural"),
    ("x-kubernetes-validations", "must be empty to be structural"),
)
_FLAGS_NOT_IN_JUNCTORS = ("nullable", "x-kubernetes-preserve-unknown-fields",
                          "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string")
_INT_OR_STRING_ANY_OF = [{"type": "integer"}, {"type": "string"}]


def validate_crd(crd: Mapping[str, Any]) -> list[Cause]:
    """Every reason ``crd`` (an apiextensions.k8s.io/v1 object) cannot be served."""
    spec = _mapping(crd.get("spec"))
    names = _mapping(spec.get("names"))
    group, plural = _text(spec.get("group")), _text(names.get("plural"))
    causes: list[Cause] = []
    name = _text(_mapping(crd.get("metadata")).get("name"))
    if name != f"{plural}.{group}":
        causes.append(fe.invalid("metadata.name", name,
                                 'must be spec.names.plural+"."+spec.group'))
    if not group:
        causes.append(fe.required("spec.group"))
    elif problems := fe.dns1123_subdomain(group):
        causes.append(fe.invalid("spec.group", group, ",".join(problems)))
    elif "." not in group:
        causes.append(fe.invalid("spec.group", group, "should be a domain with at least one dot"))
    scope = _text(spec.get("scope"))
    if not scope:
        causes.append(fe.required("spec.scope"))
    elif scope not in ("Cluster", "Namespaced"):
        causes.append(fe.not_supported("spec.scope", scope, ["Cluster", "Namespaced"]))
    causes += _versions(spec.get("versions"))
    causes += _names(names)
    if spec.get("preserveUnknownFields") is True:
        causes.append(fe.invalid("spec.preserveUnknownFields", True,
                                 "cannot set to true, set x-kubernetes-preserve-unknown-fields "
                                 "to true in spec.versions[*].schema instead"))
    return causes


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _versions(versions: Any) -> list[Cause]:
    listed = versions if isinstance(versions, list) else []  # kube prints a missing one as null
    causes: list[Cause] = []
    names = []
    for index, raw in enumerate(listed):
        version, at = _mapping(raw), f"spec.versions[{index}]"
        name = _text(version.get("name"))
        names.append(name)
        if problems := fe.dns1035_label(name):
            causes.append(fe.invalid(f"{at}.name", name, ",".join(problems)))
        schema = _mapping(version.get("schema")).get("openAPIV3Schema")
        if schema is None:
            causes.append(fe.required(f"{at}.schema.openAPIV3Schema", "schemas are required"))
        else:
            causes += _schema(schema, f"{at}.schema.openAPIV3Schema")
        causes += _subresources(version.get("subresources"), f"{at}.subresources")
        for column, raw_column in enumerate(version.get("additionalPrinterColumns") or []):
            causes += _column(_mapping(raw_column), f"{at}.additionalPrinterColumns[{column}]")
    if len(set(names)) != len(names):
        causes.append(fe.invalid("spec.versions", listed, "must contain unique version names"))
    if sum(1 for raw in listed if _mapping(raw).get("storage") is True) != 1:
        causes.append(fe.invalid("spec.versions", listed,
                                 "must have exactly one version marked as storage version"))
    if listed and not any(_mapping(raw).get("served") is True for raw in listed):
        causes.append(fe.invalid("spec.versions", listed,
                                 "must have at least one version marked as served"))
    return causes


def _subresources(raw: Any, at: str) -> list[Cause]:
    subresources = _mapping(raw)
    causes = []
    if "status" in subresources and not isinstance(subresources["status"], Mapping):
        causes.append(fe.invalid(f"{at}.status", subresources["status"], "must be an object"))
    if "scale" in subresources:
        scale = _mapping(subresources["scale"])
        for key, under in (("specReplicasPath", ".spec."), ("statusReplicasPath", ".status.")):
            path = _text(scale.get(key))
            if not path:
                causes.append(fe.required(f"{at}.scale.{key}"))
            elif not path.startswith(under):
                causes.append(fe.invalid(f"{at}.scale.{key}", path,
                                         f"should be a json path under {under.rstrip('.')}"))
    return causes


def _column(column: Mapping[str, Any], at: str) -> list[Cause]:
    causes = []
    if not _text(column.get("name")):
        causes.append(fe.required(f"{at}.name"))
    kind = _text(column.get("type"))
    if not kind:
        causes.append(fe.required(f"{at}.type", f"must be one of {_COLUMN_TYPES}"))
    elif kind not in _COLUMN_TYPES.split(","):
        causes.append(fe.invalid(f"{at}.type", kind, f"must be one of {_COLUMN_TYPES}"))
    form = _text(column.get("format"))
    if form and form not in _COLUMN_FORMATS.split(","):
        causes.append(fe.invalid(f"{at}.format", form, f"must be one of {_COLUMN_FORMATS}"))
    if not _text(column.get("jsonPath")):
        causes.append(fe.required(f"{at}.JSONPath"))
    return causes


def _names(names: Mapping[str, Any]) -> list[Cause]:
    causes = []
    for key in ("plural", "kind"):
        if not _text(names.get(key)):
            causes.append(fe.required(f"spec.names.{key}"))
    for key in ("plural", "singular"):
        value = _text(names.get(key))
        if value and (problems := fe.dns1035_label(value)):
            causes.append(fe.invalid(f"spec.names.{key}", value, ",".join(problems)))
    for key in ("kind", "listKind"):
        value = _text(names.get(key))
        if value and (problems := fe.dns1035_label(value.lower())):
            causes.append(fe.invalid(f"spec.names.{key}", value, "may have mixed case, but "
                                     "should otherwise match: " + ",".join(problems)))
    if names.get("kind") and names.get("kind") == names.get("listKind"):
        causes.append(fe.invalid("spec.names.listKind", names["listKind"],
                                 "kind and listKind may not be the same"))
    for key in ("shortNames", "categories"):
        for index, value in enumerate(names.get(key) or []):
            if problems := fe.dns1035_label(_text(value)):
                causes.append(fe.invalid(f"spec.names.{key}[{index}]", value, ",".join(problems)))
    return causes


def _schema(schema: Any, at: str) -> list[Cause]:
    """Why a version's ``openAPIV3Schema`` (found at ``at``) cannot be served."""
    if not isinstance(schema, Mapping):
        return [fe.invalid(at, schema, "must be an object")]
    causes: list[Cause] = []
    _node(schema, at, causes, level="root", meta=False, no_defaults="")
    if causes:
        return causes
    try:
        compile_schema(schema)
    except ValueError as err:
        return [fe.invalid(at, "", str(err))]
    _defaults(schema, at, causes)
    return causes


def _children(schema: Mapping[str, Any], at: str) -> list[tuple[str, Any]]:
    """The sub-schemas of a node: properties, additionalProperties, items (not junctors)."""
    found = [(f"{at}.properties[{name}]", sub)
             for name, sub in _mapping(schema.get("properties")).items()]
    if isinstance(schema.get("additionalProperties"), Mapping):
        found.append((f"{at}.additionalProperties", schema["additionalProperties"]))
    if isinstance(schema.get("items"), Mapping):
        found.append((f"{at}.items", schema["items"]))
    return found


def _node(schema: Mapping[str, Any], at: str, causes: list[Cause], *, level: str, meta: bool,
          no_defaults: str) -> None:
    """A structural node: generic OpenAPI checks, structural rules, then its children."""
    causes += _generic(schema, at, meta=meta, no_defaults=no_defaults)
    causes += _structural(schema, at, level)
    causes += _list_and_map_types(schema, at)
    if "x-kubernetes-validations" in schema:
        causes.append(fe.forbidden(f"{at}.x-kubernetes-validations", "CEL validation rules "
                                   "are not supported by the local cluster"))
    resource = level == "root" or schema.get("x-kubernetes-embedded-resource") is True
    for name, sub in _mapping(schema.get("properties")).items():
        in_meta = meta or (resource and name in _RESOURCE_META)
        reason = f"in top-level {name}" if level == "root" and name in _RESOURCE_META else ""
        _sub(sub, f"{at}.properties[{name}]", causes, level="field", meta=in_meta,
             no_defaults=reason or no_defaults)
    additional = schema.get("additionalProperties")
    if isinstance(additional, Mapping):
        _sub(additional, f"{at}.additionalProperties", causes, level="field", meta=meta,
             no_defaults="inside additionalProperties applying to object metadata" if meta
             else no_defaults)
    if isinstance(schema.get("items"), Mapping):
        _sub(schema["items"], f"{at}.items", causes, level="item", meta=meta,
             no_defaults=no_defaults)
    _junctors(schema, schema, at, at, causes,
              skip_any_of=schema.get("anyOf") == _INT_OR_STRING_ANY_OF)


def _sub(schema: Any, at: str, causes: list[Cause], **context: Any) -> None:
    if isinstance(schema, Mapping):
        _node(schema, at, causes, **context)
    else:
        causes.append(fe.invalid(at, schema, "must be an object"))


def _generic(schema: Mapping[str, Any], at: str, *, meta: bool, no_defaults: str) -> list[Cause]:
    """``ValidateCustomResourceDefinitionOpenAPISchema``: what CRDs allow of OpenAPI."""
    causes = []
    kind = _text(schema.get("type"))
    if kind == "null":
        causes.append(fe.forbidden(f"{at}.type",
                                   "type cannot be set to null, use nullable as an alternative"))
    elif kind and kind not in _TYPES:
        causes.append(fe.not_supported(f"{at}.type", kind, _TYPES))
    if schema.get("default") is not None and no_defaults:
        causes.append(fe.forbidden(f"{at}.default", f"must not be set {no_defaults}"))
    causes += [fe.forbidden(f"{at}.{key}", f"{key} is not supported")
               for key in _UNSUPPORTED if schema.get(key) is not None]
    if isinstance(schema.get("items"), list):
        causes.append(fe.forbidden(f"{at}.items",
                                   "items must be a schema object and not an array"))
    if meta and schema.get("x-kubernetes-embedded-resource") is True:
        causes.append(fe.forbidden(f"{at}.x-kubernetes-embedded-resource",
                                   "must not be used inside of resource meta"))
    if schema.get("uniqueItems") is True:
        causes.append(fe.forbidden(f"{at}.uniqueItems", "uniqueItems cannot be set to true since "
                                   "the runtime complexity becomes quadratic"))
    if schema.get("properties") and schema.get("additionalProperties") not in (None, True):
        causes.append(fe.forbidden(f"{at}.additionalProperties",
                                   "additionalProperties and properties are mutual exclusive"))
    if schema.get("x-kubernetes-preserve-unknown-fields") is False:
        causes.append(fe.invalid(f"{at}.x-kubernetes-preserve-unknown-fields", False,
                                 "must be true or undefined"))
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and pattern:
        try:
            compile_go_regex(pattern)
        except ValueError as err:
            causes.append(fe.invalid(f"{at}.pattern", pattern,
                                     f"must be a valid regular expression, but isn't: {err}"))
    return causes


def _structural(schema: Mapping[str, Any], at: str, level: str) -> list[Cause]:
    """``schema/validation.go``'s invariants of a node outside junctors."""
    causes = []
    kind = _text(schema.get("type"))
    embedded = schema.get("x-kubernetes-embedded-resource") is True
    int_or_string = schema.get("x-kubernetes-int-or-string") is True
    preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
    if kind == "array" and schema.get("items") is None:
        causes.append(fe.required(f"{at}.items", "must be specified"))
    if schema.get("additionalProperties") is not None:
        if level == "root":
            causes.append(fe.forbidden(f"{at}.additionalProperties",
                                       "must not be used at the root"))
        if embedded:
            causes.append(fe.forbidden(f"{at}.additionalProperties",
                                       "must not be used if x-kubernetes-embedded-resource is set"))
    if embedded and kind != "object":
        detail = "must be object if x-kubernetes-embedded-resource is true"
        causes.append(fe.invalid(f"{at}.type", kind, detail) if kind
                      else fe.required(f"{at}.type", detail))
    elif not kind and not int_or_string and not preserve:
        where = {"root": "at the root", "item": "for specified array items",
                 "field": "for specified object fields"}[level]
        causes.append(fe.required(f"{at}.type", f"must not be empty {where}"))
    if level == "root" and kind and kind != "object":
        causes.append(fe.invalid(f"{at}.type", kind, "must be object at the root"))
    properties = _mapping(schema.get("properties"))
    if level == "root" or embedded:
        for name in ("kind", "apiVersion"):
            sub_type = _text(_mapping(properties.get(name)).get("type"))
            if name in properties and sub_type != "string":
                causes.append(fe.invalid(f"{at}.properties[{name}].type", sub_type,
                                         "must be string"))
    if "metadata" in properties:
        causes += _metadata(_mapping(properties["metadata"]), f"{at}.properties[metadata]",
                            level == "root", checked=level == "root" or embedded)
    if embedded and not preserve and not properties:
        causes.append(fe.required(f"{at}.properties", "must not be empty if "
                                  "x-kubernetes-embedded-resource is true without "
                                  "x-kubernetes-preserve-unknown-fields"))
    for flag, value in (("x-kubernetes-preserve-unknown-fields", preserve),
                        ("x-kubernetes-embedded-resource", embedded)):
        if int_or_string and value:
            causes.append(fe.invalid(f"{at}.{flag}", True,
                                     "must be false if x-kubernetes-int-or-string is true"))
    return causes


def _metadata(schema: Mapping[str, Any], at: str, root: bool, *, checked: bool) -> list[Cause]:
    """Metadata must be an object; at the root only name and generateName may be restricted."""
    causes = []
    kind = _text(schema.get("type"))
    if checked and kind != "object":
        causes.append(fe.invalid(f"{at}.type", kind, "must be object"))
    if root:
        rest = {key: value for key, value in schema.items() if key not in ("type", "default")}
        if set(_mapping(rest.get("properties"))) <= {"name", "generateName"}:
            rest.pop("properties", None)
        if rest:
            causes.append(fe.forbidden(at, "must not specify anything other than name and "
                                           "generateName, but metadata is implicitly specified"))
    return causes


def _list_and_map_types(schema: Mapping[str, Any], at: str) -> list[Cause]:
    causes = []
    kind = _text(schema.get("type"))
    map_type = schema.get("x-kubernetes-map-type")
    if map_type is not None:
        detail = "must be object if x-kubernetes-map-type is specified"
        if kind != "object":
            causes.append(fe.invalid(f"{at}.type", kind, detail) if kind
                          else fe.required(f"{at}.type", detail))
        if map_type not in ("atomic", "granular"):
            causes.append(fe.not_supported(f"{at}.x-kubernetes-map-type", map_type,
                                           ["atomic", "granular"]))
    list_type = schema.get("x-kubernetes-list-type")
    keys = schema.get("x-kubernetes-list-map-keys") or []
    items = _mapping(schema.get("items"))
    if list_type is not None:
        detail = "must be array if x-kubernetes-list-type is specified"
        if kind != "array":
            causes.append(fe.invalid(f"{at}.type", kind, detail) if kind
                          else fe.required(f"{at}.type", detail))
        elif list_type == "set":
            causes += _set_items(items, f"{at}.items")
        if list_type not in ("atomic", "set", "map"):
            causes.append(fe.not_supported(f"{at}.x-kubernetes-list-type", list_type,
                                           ["atomic", "set", "map"]))
        elif list_type != "atomic" and items.get("nullable") is True:
            causes.append(fe.forbidden(f"{at}.items.nullable", "cannot be nullable when "
                                       f"x-kubernetes-list-type is {list_type}"))
    if keys and list_type is None:
        causes.append(fe.required(f"{at}.x-kubernetes-list-type",
                                  "must be map if x-kubernetes-list-map-keys is non-empty"))
    elif keys and list_type != "map":
        causes.append(fe.invalid(f"{at}.x-kubernetes-list-type", list_type,
                                 "must be map if x-kubernetes-list-map-keys is non-empty"))
    if list_type == "map":
        causes += _map_keys(items, keys, at, has_items=schema.get("items") is not None)
    return causes


def _set_items(items: Mapping[str, Any], at: str) -> list[Cause]:
    detail = "must be atomic as item of a list with x-kubernetes-list-type=set"
    if items.get("type") == "array" and items.get("x-kubernetes-list-type", "atomic") != "atomic":
        return [fe.invalid(f"{at}.x-kubernetes-list-type", items["x-kubernetes-list-type"], detail)]
    if items.get("type") == "object" and items.get("x-kubernetes-map-type") != "atomic":
        return [fe.invalid(f"{at}.x-kubernetes-map-type", items.get("x-kubernetes-map-type"),
                           detail)]
    return []


def _map_keys(items: Mapping[str, Any], keys: list[Any], at: str, *,
              has_items: bool) -> list[Cause]:
    causes = []
    if not keys:
        causes.append(fe.required(f"{at}.x-kubernetes-list-map-keys",
                                  "must not be empty if x-kubernetes-list-type is map"))
    if not has_items:
        return [*causes, fe.required(f"{at}.items",
                                     "must have a schema if x-kubernetes-list-type is map")]
    if items.get("type") != "object":
        return [*causes, fe.invalid(f"{at}.items.type", items.get("type"),
                                    "must be object if parent array's x-kubernetes-list-type "
                                    "is map")]
    properties = _mapping(items.get("properties"))
    required = set(items.get("required") or [])
    if len(set(keys)) != len(keys):
        causes.append(fe.invalid(f"{at}.x-kubernetes-list-map-keys", keys,
                                 "must not contain duplicate entries"))
    for key in keys:
        prop = _mapping(properties.get(key))
        key_at = f"{at}.items.properties[{key}]"
        if key not in properties:
            causes.append(fe.invalid(f"{at}.x-kubernetes-list-map-keys", keys,
                                     "entries must all be names of item properties"))
            continue
        if prop.get("type") in ("array", "object"):
            causes.append(fe.invalid(f"{key_at}.type", "object", "must be a scalar type if "
                                     "parent array's x-kubernetes-list-type is map"))
        if key not in required and prop.get("default") is None:
            causes.append(fe.required(f"{key_at}.default", "this property is in "
                                      "x-kubernetes-list-map-keys, so it must have a default or "
                                      "be a required property"))
        if prop.get("nullable") is True:
            causes.append(fe.forbidden(f"{key_at}.nullable", "this property is in "
                                       "x-kubernetes-list-map-keys, so it cannot be nullable"))
    return causes


def _junctors(schema: Mapping[str, Any], outside: Mapping[str, Any] | None, at: str,
              outside_at: str, causes: list[Cause], *, skip_any_of: bool) -> None:
    """Check the junctors of ``schema``; ``outside`` is the structural node they restrict.

    The int-or-string patterns (``anyOf: [{type: integer}, {type: string}]``, also as the
    first ``allOf``) are the one place a junctor may name types.
    """
    for word in _JUNCTORS:
        for index, sub in enumerate(schema.get(word) or []):
            sub_at = f"{at}.{word}[{index}]"
            if not isinstance(sub, Mapping):
                causes.append(fe.invalid(sub_at, sub, "must be an object"))
            elif not (skip_any_of and word == "anyOf"):
                first_int_or_string = (word == "allOf" and index == 0 and outside is schema
                                       and sub.get("anyOf") == _INT_OR_STRING_ANY_OF)
                _nested(sub, outside, sub_at, outside_at, causes,
                        skip_any_of=first_int_or_string)
    if isinstance(schema.get("not"), Mapping):
        _nested(schema["not"], outside, f"{at}.not", outside_at, causes, skip_any_of=False)


def _nested(schema: Mapping[str, Any], outside: Mapping[str, Any] | None, at: str,
            outside_at: str, causes: list[Cause], *, skip_any_of: bool) -> None:
    """A schema inside a junctor: value validations only, on nodes specified outside."""
    if schema.get("type"):
        causes.append(fe.forbidden(f"{at}.type", "must be empty to be structural"))
    causes += [fe.forbidden(f"{at}.{key}", detail) for key, detail in _NOT_IN_JUNCTORS
               if schema.get(key) not in (None, [], "")]
    causes += [fe.forbidden(f"{at}.{flag}", "must be false to be structural")
               for flag in _FLAGS_NOT_IN_JUNCTORS if schema.get(flag) is True]
    causes += _generic(schema, at, meta=False, no_defaults="")
    if outside is None:
        causes.append(fe.required(outside_at, f"because it is defined in {at}"))
        return
    outside_properties = _mapping(outside.get("properties"))
    for name, sub in _mapping(schema.get("properties")).items():
        sub_at = f"{at}.properties[{name}]"
        if name == "metadata":
            causes.append(fe.forbidden(sub_at, "must not be specified in a nested context"))
        elif isinstance(sub, Mapping):
            match = outside_properties.get(name)
            _nested(sub, match if isinstance(match, Mapping) else None, sub_at,
                    f"{outside_at}.properties[{name}]", causes, skip_any_of=False)
    if isinstance(schema.get("items"), Mapping):
        items = outside.get("items")
        _nested(schema["items"], items if isinstance(items, Mapping) else None, f"{at}.items",
                f"{outside_at}.items", causes, skip_any_of=False)
    _junctors(schema, outside, at, outside_at, causes, skip_any_of=skip_any_of)


def _defaults(schema: Mapping[str, Any], at: str, causes: list[Cause]) -> None:
    """Each default must validate against its own schema and survive pruning unchanged."""
    default = schema.get("default")
    if default is not None:
        node = compile_schema(schema).root
        causes += schemavalidating.validate_value(node, default, f"{at}.default")
        # pruned as a field value (not as a resource, which would keep apiVersion and kind)
        holder = {"value": copy.deepcopy(default)}
        compile_schema({"type": "object", "properties": {"value": schema}}).prune(holder)
        if holder["value"] != default:
            causes.append(fe.invalid(f"{at}.default", default, "must not have unknown fields"))
    for sub_at, sub in _children(schema, at):
        _defaults(sub, sub_at, causes)
