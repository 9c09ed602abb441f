"""The generic registry: get, list, create, update, patch, apply and delete for every kind.

This is the part of kube-apiserver between HTTP and etcd, independent of transport: the HTTP
handlers and the simulated controllers both write through :class:`Resources`, so both get the
same rules. What it enforces for every kind: the namespace exists, names are valid, the server
owns uid/timestamps/resourceVersion/generation, a stale ``resourceVersion`` is a 409, a kind
with a status subresource ignores ``status`` on the main resource and everything else on
``/status``, ``generation`` moves only when the spec does (and a Deployment's annotations), a
write that changes nothing is not a write, and finalizers hold an object in deletion until
they are all removed.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from dataclasses import dataclass
from typing import Any, Literal

from gateway.localcluster import applying, errors, patching
from gateway.localcluster.errors import ApiError, Cause
from gateway.localcluster.kinds import Kind, KindRegistry
from gateway.localcluster.metadata import (
    SYSTEM_FIELDS,
    name_causes,
    new_uid,
    now,
    random_suffix,
    spec_changed,
)
from gateway.localcluster.selectors import FieldSelector, LabelSelector
from gateway.localcluster.store import Object, Store
from gateway.localcluster.strategies import Strategies

Target = Literal["main", "status"]
PatchType = Literal["merge", "json", "strategic", "apply"]

# Names that must be DNS labels rather than subdomains, as in the apiserver's validation.
_LABEL_NAMED = {"/namespaces", "/services"}


@dataclass(frozen=True)
class DeleteOptions:
    """The parts of ``metav1.DeleteOptions`` the local cluster honours."""

    propagation: str | None = None  # Foreground, Background, Orphan
    precondition_uid: str | None = None
    precondition_resource_version: str | None = None
    dry_run: bool = False

    @classmethod
    def from_body(cls, body: dict[str, Any] | None, *, propagation: str | None,
                  dry_run: bool) -> DeleteOptions:
        body = body or {}
        policy = propagation or body.get("propagationPolicy")
        if policy is None and body.get("orphanDependents") is True:
            policy = "Orphan"
        if policy not in (None, "Foreground", "Background", "Orphan"):
            raise errors.bad_request(f'unsupported propagationPolicy "{policy}"')
        preconditions = body.get("preconditions") or {}
        return cls(policy, preconditions.get("uid"), preconditions.get("resourceVersion"),
                   dry_run or bool(body.get("dryRun")))


@dataclass(frozen=True)
class ListResult:
    items: list[Object]
    resource_version: str
    continue_token: str | None
    remaining: int | None


class Resources:
    """Reads and writes objects of every served kind with kube-apiserver's semantics."""

    def __init__(self, store: Store, kinds: KindRegistry, strategies: Strategies) -> None:
        self.store = store
        self.kinds = kinds
        self._strategies = strategies

    # -- reads -----------------------------------------------------------------------------

    def get(self, kind: Kind, namespace: str, name: str) -> Object:
        found = self.store.get(kind.key, namespace if kind.namespaced else "", name)
        if found is None:
            raise errors.not_found(kind.plural, kind.group, name)
        return self.present(kind, found)

    def list_objects(self, kind: Kind, namespace: str | None, *,
                     labels: LabelSelector | None = None, fields: FieldSelector | None = None,
                     limit: int = 0, continue_token: str | None = None) -> ListResult:
        """Objects sorted by namespace and name, filtered and paged like the apiserver does."""
        resource_version = str(self.store.resource_version)
        start_after: tuple[str, str] | None = None
        if continue_token:
            resource_version, start_after = _decode_continue(continue_token)
        matching = [obj for obj in self.store.items(kind.key, namespace)
                    if self.matches(obj, labels, fields)]
        if start_after is not None:
            matching = [obj for obj in matching if _sort_key(obj) > start_after]
        token = remaining = None
        if limit and len(matching) > limit:
            remaining = len(matching) - limit
            matching = matching[:limit]
            token = _encode_continue(resource_version, _sort_key(matching[-1]))
        return ListResult([self.present(kind, obj) for obj in matching], resource_version,
                          token, remaining)

    @staticmethod
    def matches(obj: Object, labels: LabelSelector | None, fields: FieldSelector | None) -> bool:
        if labels is not None and not labels.matches(obj["metadata"].get("labels") or {}):
            return False
        return fields is None or fields.matches(obj)

    @staticmethod
    def present(kind: Kind, obj: Object) -> Object:
        """The object as served for ``kind``'s version (every version shares storage)."""
        if obj.get("apiVersion") == kind.api_version:
            return obj
        return {**obj, "apiVersion": kind.api_version}

    # -- writes ----------------------------------------------------------------------------

    def create(self, kind: Kind, namespace: str, body: Object, *, external: bool,
               manager: str | None = None, dry_run: bool = False) -> Object:
        obj = self._check_identity(kind, namespace, copy.deepcopy(body))
        metadata = obj.setdefault("metadata", {})
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = metadata["generateName"] + random_suffix()
        name = metadata.get("name", "")
        causes = name_causes(name, label=kind.key in _LABEL_NAMED)
        if causes:
            raise errors.invalid(kind.kind, kind.group, name, causes)
        if kind.namespaced:
            self._require_namespace(namespace)
        if self.store.get(kind.key, namespace if kind.namespaced else "", name) is not None:
            raise errors.already_exists(kind.plural, kind.group, name)
        for field in SYSTEM_FIELDS:
            metadata.pop(field, None)
        if kind.has_status:
            obj.pop("status", None)
        self._validate(kind, obj, None)
        metadata.update(uid=new_uid(), creationTimestamp=now())
        if kind.tracks_generation:
            metadata["generation"] = 1
        if manager:
            applying.record_update(None, obj, manager=manager, api_version=kind.api_version,
                                   list_map_keys=kind.list_map_keys)
        if dry_run:
            metadata["resourceVersion"] = ""
            return obj
        return self.store.put(kind.key, obj, external=external)

    def update(self, kind: Kind, namespace: str, name: str, body: Object, *, external: bool,
               target: Target = "main", manager: str | None = None,
               dry_run: bool = False) -> Object:
        """Replace an object (PUT); a stale ``metadata.resourceVersion`` is a 409 Conflict."""
        old = self.get(kind, namespace, name)
        new = self._check_identity(kind, namespace, copy.deepcopy(body))
        new_metadata = new.setdefault("metadata", {})
        if new_metadata.get("name", name) != name:
            raise errors.bad_request(
                f'the name of the object ({new_metadata.get("name")}) does not match the name '
                f"on the URL ({name})")
        asked = new_metadata.get("resourceVersion")
        if asked and asked != old["metadata"]["resourceVersion"]:
            raise errors.conflict(kind.plural, kind.group, name,
                                  "the object has been modified; please apply your changes to "
                                  "the latest version and try again")
        return self._replace(kind, old, new, external=external, target=target, manager=manager,
                             dry_run=dry_run)

    def patch(self, kind: Kind, namespace: str, name: str, patch: Any, patch_type: PatchType, *,
              external: bool, target: Target = "main", manager: str | None = None,
              force: bool = False, dry_run: bool = False) -> Object:
        """PATCH in any of the four flavours; apply to a missing object creates it."""
        if force and patch_type != "apply":
            raise errors.invalid("PatchOptions", "meta.k8s.io", "", [Cause(
                "FieldValueForbidden", "Forbidden: may not be specified for non-apply patch",
                "force")])
        if patch_type == "strategic" and not (kind.builtin
                                              and patching.supports_strategic(kind.kind)):
            raise errors.unsupported_media_type("application/strategic-merge-patch+json")
        stored = self.store.get(kind.key, namespace if kind.namespaced else "", name)
        if patch_type == "apply":
            if not manager:
                raise errors.invalid("PatchOptions", "meta.k8s.io", "", [Cause(
                    "FieldValueRequired", "Required value: is required for apply patch",
                    "fieldManager")])
            if not isinstance(patch, dict):
                raise errors.bad_request("the applied configuration must be an object")
            if stored is None:
                if target == "status":
                    raise errors.not_found(kind.plural, kind.group, name)
                body = applying.apply(None, patch, manager=manager, force=force,
                                      api_version=kind.api_version,
                                      list_map_keys=kind.list_map_keys)
                body.setdefault("metadata", {})["name"] = name
                return self.create(kind, namespace, body, external=external, dry_run=dry_run)
            new = applying.apply(stored, patch, manager=manager, force=force,
                                 api_version=kind.api_version, list_map_keys=kind.list_map_keys)
            manager = None  # ownership is already recorded as Apply
        else:
            if stored is None:
                raise errors.not_found(kind.plural, kind.group, name)
            new = _patched(stored, patch, patch_type, kind)
        new_metadata = new.setdefault("metadata", {})
        asked = patch.get("metadata", {}).get("resourceVersion") if isinstance(patch, dict) \
            else None
        old = self.present(kind, stored)
        if asked and asked != old["metadata"]["resourceVersion"]:
            raise errors.conflict(kind.plural, kind.group, name,
                                  "the object has been modified; please apply your changes to "
                                  "the latest version and try again")
        new_metadata["resourceVersion"] = old["metadata"]["resourceVersion"]
        return self._replace(kind, old, self._check_identity(kind, namespace, new),
                             external=external, target=target, manager=manager, dry_run=dry_run)

    def delete(self, kind: Kind, namespace: str, name: str, options: DeleteOptions, *,
               external: bool) -> Object:
        """Delete now, or mark for deletion while finalizers (or dependents) hold it."""
        obj = self.get(kind, namespace, name)
        metadata = obj["metadata"]
        if options.precondition_uid and options.precondition_uid != metadata.get("uid"):
            raise errors.conflict(kind.plural, kind.group, name,
                                  f"Precondition failed: UID in precondition: "
                                  f"{options.precondition_uid}, UID in object meta: "
                                  f"{metadata.get('uid')}")
        if (options.precondition_resource_version
                and options.precondition_resource_version != metadata["resourceVersion"]):
            raise errors.conflict(kind.plural, kind.group, name,
                                  "Precondition failed: ResourceVersion in precondition: "
                                  f"{options.precondition_resource_version}, ResourceVersion "
                                  f"in object meta: {metadata['resourceVersion']}")
        if options.dry_run:
            return obj
        finalizers = list(metadata.get("finalizers") or [])
        if kind.key == "/namespaces" and "kubernetes" not in finalizers:
            finalizers.append("kubernetes")  # the namespace controller empties it first
        policy = options.propagation
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        if metadata.get("deletionTimestamp"):
            if finalizers != list(metadata.get("finalizers") or []):
                return self._mark_deleting(kind, obj, finalizers, external=external)
            return obj
        if not finalizers:
            return self._remove(kind, obj, external=external)
        return self._mark_deleting(kind, obj, finalizers, external=external)

    def delete_collection(self, kind: Kind, namespace: str | None, options: DeleteOptions, *,
                          labels: LabelSelector | None, fields: FieldSelector | None,
                          external: bool) -> list[Object]:
        listed = self.list_objects(kind, namespace, labels=labels, fields=fields).items
        return [self.delete(kind, obj["metadata"].get("namespace", ""),
                            obj["metadata"]["name"], options, external=external)
                for obj in listed]

    def remove_finalizer(self, kind: Kind, obj: Object, finalizer: str) -> None:
        """Drop one finalizer (what a controller does when its clean-up is done)."""
        current = self.store.get(kind.key, obj["metadata"].get("namespace", ""),
                                 obj["metadata"]["name"])
        if current is None or finalizer not in (current["metadata"].get("finalizers") or []):
            return
        new = copy.deepcopy(current)
        new["metadata"]["finalizers"].remove(finalizer)
        self._replace(kind, current, new, external=False, target="main", manager=None,
                      dry_run=False)

    # -- internals -------------------------------------------------------------------------

    def _replace(self, kind: Kind, old: Object, new: Object, *, external: bool, target: Target,
                 manager: str | None, dry_run: bool) -> Object:
        if kind.has_status:
            if target == "status":
                managed = new["metadata"].get("managedFields")
                new = {**copy.deepcopy(old), "status": new.get("status")}
                if new["status"] is None:
                    del new["status"]
                if managed is not None:
                    new["metadata"]["managedFields"] = managed
            elif "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        metadata = new["metadata"]
        old_metadata = old["metadata"]
        for field in SYSTEM_FIELDS:
            if field in old_metadata:
                metadata[field] = old_metadata[field]
            else:
                metadata.pop(field, None)
        if old_metadata.get("deletionTimestamp"):
            added = set(metadata.get("finalizers") or []) - set(old_metadata.get("finalizers")
                                                                or [])
            if added:
                raise errors.invalid(kind.kind, kind.group, metadata["name"], [Cause(
                    "FieldValueForbidden",
                    "Forbidden: no new finalizers can be added if the object is being deleted, "
                    f"found new finalizers {sorted(added)!r}", "metadata.finalizers")])
        self._validate(kind, new, old)
        if kind.tracks_generation and (spec_changed(old, new) or (
                kind.annotations_bump_generation
                and old_metadata.get("annotations") != metadata.get("annotations"))) and not (
                target == "status" and kind.has_status):
            metadata["generation"] = int(old_metadata.get("generation", 1)) + 1
        if manager:
            applying.record_update(old, new, manager=manager, api_version=kind.api_version,
                                   list_map_keys=kind.list_map_keys)
        if not metadata.get("finalizers"):
            metadata.pop("finalizers", None)
        if _without_version(new) == _without_version(old):
            return old  # a no-op write is not a write: no new version, no event
        if dry_run:
            return new
        if old_metadata.get("deletionTimestamp") and not metadata.get("finalizers"):
            return self._remove(kind, new, external=external)
        return self.present(kind, self.store.put(kind.key, new, external=external))

    def _mark_deleting(self, kind: Kind, obj: Object, finalizers: list[str], *,
                       external: bool) -> Object:
        marked = copy.deepcopy(obj)
        metadata = marked["metadata"]
        metadata.setdefault("deletionTimestamp", now())
        metadata.setdefault("deletionGracePeriodSeconds", 0)
        metadata["finalizers"] = finalizers
        if kind.key == "/namespaces":
            marked.setdefault("status", {})["phase"] = "Terminating"
        return self.present(kind, self.store.put(kind.key, marked, external=external))

    def _remove(self, kind: Kind, obj: Object, *, external: bool) -> Object:
        metadata = obj["metadata"]
        gone = self.store.remove(kind.key, metadata.get("namespace", ""), metadata["name"],
                                 external=external)
        assert gone is not None
        self._strategies.released(kind, gone)
        return self.present(kind, gone)

    def _check_identity(self, kind: Kind, namespace: str, obj: Any) -> Object:
        if not isinstance(obj, dict):
            raise errors.bad_request("the request body must be a JSON object")
        api_version, body_kind = obj.get("apiVersion"), obj.get("kind")
        if api_version not in (None, kind.api_version) or body_kind not in (None, kind.kind):
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({kind.api_version})" if api_version != kind.api_version else
                f"the kind in the data ({body_kind}) does not match the expected kind "
                f"({kind.kind})")
        obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
        metadata = obj.get("metadata")
        if metadata is None:
            metadata = obj["metadata"] = {}
        if not isinstance(metadata, dict):
            raise errors.bad_request("metadata must be an object")
        if kind.namespaced:
            if metadata.get("namespace", namespace) != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request")
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)
        return obj

    def _require_namespace(self, namespace: str) -> None:
        found = self.store.get("/namespaces", "", namespace)
        if found is None:
            raise errors.not_found("namespaces", "", namespace)
        if found["metadata"].get("deletionTimestamp"):
            raise ApiError(403, "Forbidden",
                           f"unable to create new content in namespace {namespace} because it "
                           "is being terminated")

    def _validate(self, kind: Kind, obj: Object, old: Object | None) -> None:
        causes = _metadata_causes(obj["metadata"])
        causes += self._strategies.prepare(kind, obj, old)
        if causes:
            raise errors.invalid(kind.kind, kind.group, obj["metadata"].get("name", ""), causes)


def _metadata_causes(metadata: dict[str, Any]) -> list[Cause]:
    causes = []
    for field in ("labels", "annotations"):
        value = metadata.get(field)
        if value is None:
            continue
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in value.items()):
            causes.append(Cause("FieldValueTypeInvalid",
                                "Invalid value: must be a map of strings to strings",
                                f"metadata.{field}"))
    return causes


def _patched(obj: Object, patch: Any, patch_type: PatchType, kind: Kind) -> Object:
    if patch_type == "merge":
        result = patching.merge_patch(obj, patch)
    elif patch_type == "json":
        result = patching.json_patch(obj, patch)
    else:
        result = patching.strategic_merge_patch(obj, patch, kind.kind)
    if not isinstance(result, dict):
        raise errors.bad_request("the patch must leave an object")
    return result


def _without_version(obj: Object) -> Object:
    return {**obj, "metadata": {k: v for k, v in obj["metadata"].items()
                                if k != "resourceVersion"}}


def _sort_key(obj: Object) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def _encode_continue(resource_version: str, after: tuple[str, str]) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": resource_version, "start": list(after)})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_continue(token: str) -> tuple[str, tuple[str, str]]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        namespace, name = decoded["start"]
        return str(decoded["rv"]), (str(namespace), str(name))
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise errors.bad_request(f"continue key is not valid: {error}") from error
