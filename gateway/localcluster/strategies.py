"""Kind-specific rules applied on create and update, like kube-apiserver's registry strategies.

The generic write path (``resources.py``) calls :func:`prepare` for every write; this module
adds the defaults and validation each built-in kind gets from a real API server: a Service's
cluster IP, a Secret's ``stringData`` folded into base64 ``data``, a Pod's initial status, a
Deployment's defaults and selector check, a Namespace's phase. Custom resources get their CRD's
structural schema instead (pruning, defaults, validation).
"""

from __future__ import annotations

import base64
import binascii
import copy

from gateway.localcluster import errors
from gateway.localcluster.addresses import AddressPool
from gateway.localcluster.crdvalidating import validate_crd
from gateway.localcluster.errors import Cause
from gateway.localcluster.kinds import Kind
from gateway.localcluster.metadata import now
from gateway.localcluster.selectors import selector_from_dict
from gateway.localcluster.store import Object


class Strategies:
    """Defaults and validation per kind; owns the Service address pool."""

    def __init__(self, services: AddressPool) -> None:
        self._services = services

    def prepare(self, kind: Kind, obj: Object, old: Object | None) -> list[Cause]:
        """Default ``obj`` in place for a create (``old`` None) or an update; list problems."""
        if kind.schema is not None:
            return self._custom(kind, obj)
        handler = getattr(self, f"_{kind.kind.lower()}", None)
        if handler is None:
            return []
        causes: list[Cause] = handler(obj, old)
        return causes

    def released(self, kind: Kind, obj: Object) -> None:
        """An object left the store: give back what it held."""
        if kind.key == "/services":
            for address in obj.get("spec", {}).get("clusterIPs", []):
                self._services.release(address)

    @staticmethod
    def _custom(kind: Kind, obj: Object) -> list[Cause]:
        assert kind.schema is not None
        kind.schema.prune(obj)
        kind.schema.default(obj)
        return kind.schema.validate(obj)

    @staticmethod
    def _namespace(obj: Object, old: Object | None) -> list[Cause]:
        name = obj["metadata"]["name"]
        obj["metadata"]["labels"] = {**(obj["metadata"].get("labels") or {}),
                                     "kubernetes.io/metadata.name": name}
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        status = obj.setdefault("status", {})
        status.setdefault("phase", "Active")
        return []

    @staticmethod
    def _pod(obj: Object, old: Object | None) -> list[Cause]:
        spec = obj.setdefault("spec", {})
        causes = []
        containers = spec.get("containers") or []
        if not containers:
            causes.append(Cause("FieldValueRequired", "Required value", "spec.containers"))
        for index, container in enumerate(containers):
            if not container.get("image"):
                causes.append(Cause("FieldValueRequired", "Required value",
                                    f"spec.containers[{index}].image"))
            if not container.get("name"):
                causes.append(Cause("FieldValueRequired", "Required value",
                                    f"spec.containers[{index}].name"))
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        if old is None:
            obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        return causes

    def _service(self, obj: Object, old: Object | None) -> list[Cause]:
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
        if old is not None:
            held = old.get("spec", {}).get("clusterIP")
            if spec.get("clusterIP") not in (None, "", held):
                return [Cause("FieldValueInvalid", "Invalid value: field is immutable",
                              "spec.clusterIP")]
            spec["clusterIP"] = held
            spec["clusterIPs"] = old.get("spec", {}).get("clusterIPs", [held])
        elif spec.get("clusterIP") != "None":
            if spec.get("clusterIP"):
                self._services.reserve([spec["clusterIP"]])
            else:
                spec["clusterIP"] = self._services.allocate()
            spec["clusterIPs"] = [spec["clusterIP"]]
        obj.setdefault("status", {"loadBalancer": {}})
        return []

    @staticmethod
    def _secret(obj: Object, old: Object | None) -> list[Cause]:
        obj.setdefault("type", "Opaque")
        data = obj.get("data") or {}
        obj["data"] = data
        for key, value in (obj.pop("stringData", None) or {}).items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        for key, value in data.items():
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError, TypeError) as error:
                # A real API server fails while decoding the JSON body ([]byte fields).
                raise errors.bad_request(
                    f"Secret in version \"v1\" cannot be handled as a Secret: illegal base64 "
                    f"data in data[{key}]") from error
        if not data:
            del obj["data"]
        return []

    @staticmethod
    def _deployment(obj: Object, old: Object | None) -> list[Cause]:
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            strategy["type"] = "RollingUpdate"
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxSurge", "25%")
            rolling.setdefault("maxUnavailable", "25%")
        causes = []
        if not isinstance(spec["replicas"], int) or spec["replicas"] < 0:
            causes.append(Cause("FieldValueInvalid",
                                f"Invalid value: {spec['replicas']}: must be greater than or "
                                "equal to 0", "spec.replicas"))
        selector = spec.get("selector")
        labels = spec.get("template", {}).get("metadata", {}).get("labels") or {}
        if not selector:
            causes.append(Cause("FieldValueRequired", "Required value", "spec.selector"))
        elif not selector_from_dict(selector).matches(labels):
            causes.append(Cause(
                "FieldValueInvalid",
                f"Invalid value: {labels!r}: `selector` does not match template `labels`",
                "spec.template.metadata.labels"))
        elif old is not None and old.get("spec", {}).get("selector") != selector:
            causes.append(Cause("FieldValueInvalid", "Invalid value: field is immutable",
                                "spec.selector"))
        pod = {"spec": copy.deepcopy(spec.get("template", {}).get("spec", {}))}
        causes += [Cause(c.reason, c.message, "spec.template." + c.field)
                   for c in Strategies._pod(pod, old) if c.field.startswith("spec.")]
        spec.setdefault("template", {})["spec"] = pod["spec"]
        if old is None:
            obj["status"] = {}
        return causes

    @staticmethod
    def _customresourcedefinition(obj: Object, old: Object | None) -> list[Cause]:
        return validate_crd(obj)

    @staticmethod
    def _lease(obj: Object, old: Object | None) -> list[Cause]:
        return []

    @staticmethod
    def _event(obj: Object, old: Object | None) -> list[Cause]:
        obj.setdefault("firstTimestamp", now())
        obj.setdefault("lastTimestamp", obj["firstTimestamp"])
        obj.setdefault("count", 1)
        return []

