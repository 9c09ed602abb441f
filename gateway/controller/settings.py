"""The controller's settings: one frozen :class:`ControllerSettings` per process.

Built from a mapping (``os.environ`` in production, a dict in tests) by :meth:`from_env`, which
reports every invalid setting at once. ``MODEL_GATEWAY_REDIS_URL`` and
``MODEL_GATEWAY_REDIS_PASSWORD`` are the names the proxy reads too, so one Secret configures
both sides of the data plane; ``repr`` redacts the password wherever it appears.

The Kubernetes API is found, in order: an explicit ``MODEL_GATEWAY_KUBERNETES_URL`` (the local
cluster, a ``kubectl proxy``), a kubeconfig file (``MODEL_GATEWAY_KUBECONFIG``), the in-cluster
service account.

Settings (``MODEL_GATEWAY_`` + name, default in brackets):

- ``NAMESPACE`` [default], ``KUBERNETES_URL``, ``KUBECONFIG``, ``REDIS_URL``
  [redis://127.0.0.1:6379/0], ``REDIS_PASSWORD``, ``PUBLIC_URL`` (the proxy's public base
  URL, for ``status.endpoint``) [http://127.0.0.1:8080];
- children: ``CONTROLLER_MODEL_PORT`` [9000]; where models come from,
  ``CONTROLLER_STORAGE_INITIALIZERS``, ``PHFS_CLAIM``, ``PROTECTED_CLAIMS`` and
  ``PROTECTED_SECRETS``, read as the API reads them (:mod:`gateway.sources`);
  ``CONTROLLER_PROBE_PATH`` (HTTP probes; unset: TCP) [unset];
  ``CONTROLLER_PROBE_PERIOD`` [10 s]; ``CONTROLLER_MODEL_LOAD_TIMEOUT`` (the startup probe's
  allowance) [1800 s]; ``CONTROLLER_LIVENESS_FAILURES`` [3];
- status: ``CONTROLLER_AVAILABLE_DEADLINE`` (not available after this: Failed) [300 s];
- the loop: ``CONTROLLER_WORKERS`` [8], ``CONTROLLER_RETRY_BASE`` [0.05 s],
  ``CONTROLLER_RETRY_CAP`` [30 s], ``CONTROLLER_RESYNC_PERIOD`` (full Redis resync) [30 s],
  ``CONTROLLER_EPOCH_PERIOD`` (how often to check that Redis has not lost the data plane; a
  loss is repaired at once) [0.25 s], ``CONTROLLER_HASH_UPGRADE_PERIOD`` [5 s];
- autoscaling (:mod:`gateway.controller.scaling`): ``CONTROLLER_AUTOSCALE_PERIOD`` (how
  often the proxies' load is read and decided on) [1 s], ``CONTROLLER_AUTOSCALE_STABLE_WINDOW``
  (the mean that scale-down follows) [60 s], ``CONTROLLER_AUTOSCALE_PANIC_WINDOW`` (the mean
  that a burst is caught on) [6 s];
- leader election: ``CONTROLLER_LEASE_NAME`` [model-gateway-controller],
  ``CONTROLLER_IDENTITY`` [host name + random suffix], ``CONTROLLER_LEASE_DURATION`` [15 s],
  ``CONTROLLER_RENEW_DEADLINE`` [10 s], ``CONTROLLER_RETRY_PERIOD`` [2 s];
- ``CONTROLLER_HEALTH_HOST`` [127.0.0.1] and ``CONTROLLER_HEALTH_PORT`` [8081]: ``/healthz``,
  ``/readyz``, ``/metrics``.

A model URI whose scheme has no initializer (other than ``pvc://`` and ``phfs://``, which are
mounted) is reported on the deployment, not guessed; the API refuses it first.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.settings import HTTP_SCHEMES, SettingsReader, redacted_repr
from gateway.sources import Sources, read_sources


def _default_identity() -> str:
    return f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class ControllerSettings:
    """Everything one controller process needs; every field has a usable default."""

    namespace: str = "default"
    kubernetes_url: str | None = None
    kubeconfig: str | None = None
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_password: str | None = None
    public_url: str = "http://127.0.0.1:8080"
    # the children
    model_port: int = 9000
    sources: Sources = field(default_factory=Sources)
    probe_path: str | None = None  # None: a TCP probe on the model port
    probe_period: float = 10.0
    model_load_timeout: float = 1800.0  # the startup probe's allowance before liveness applies
    liveness_failures: int = 3
    # status
    available_deadline: float = 300.0
    # the loop
    workers: int = 8
    retry_base: float = 0.05
    retry_cap: float = 30.0
    resync_period: float = 30.0
    epoch_period: float = 0.25
    hash_upgrade_period: float = 5.0
    # autoscaling
    autoscale_period: float = 1.0
    autoscale_stable_window: float = 60.0
    autoscale_panic_window: float = 6.0
    # leader election
    lease_name: str = "model-gateway-controller"
    identity: str = field(default_factory=_default_identity)
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    # health and metrics
    health_host: str = "127.0.0.1"
    health_port: int = 8081

    def __repr__(self) -> str:
        return redacted_repr(self, secrets=frozenset({"redis_password"}))

    @property
    def storage_initializers(self) -> Mapping[str, str]:
        return self.sources.initializers

    @property
    def endpoint_base(self) -> str:
        return self.public_url.rstrip("/")

    @classmethod
    def from_env(cls, source: Mapping[str, str]) -> ControllerSettings:
        """Read the ``MODEL_GATEWAY_*`` settings; one ``SettingsError`` names every bad one."""
        read = SettingsReader(source)
        defaults = cls(identity="")
        problems: list[str] = []
        redis_url = read.redis_url("REDIS_URL", defaults.redis_url)
        sources = read_sources(read, problems)
        probe_path = read.optional_text("CONTROLLER_PROBE_PATH")
        if probe_path is not None and not probe_path.startswith("/"):
            problems.append("MODEL_GATEWAY_CONTROLLER_PROBE_PATH: must start with '/', got "
                            f"{probe_path!r}")
            probe_path = None
        settings = cls(
            namespace=read.text("NAMESPACE", defaults.namespace),
            kubernetes_url=read.optional_url("KUBERNETES_URL", schemes=HTTP_SCHEMES),
            kubeconfig=read.optional_text("KUBECONFIG"),
            redis_url=redis_url,
            redis_password=read.optional_text("REDIS_PASSWORD"),
            public_url=read.url("PUBLIC_URL", defaults.public_url,
                                schemes=frozenset({"http", "https"})),
            model_port=read.integer("CONTROLLER_MODEL_PORT", defaults.model_port,
                                    minimum=1, maximum=65535),
            sources=sources,
            probe_path=probe_path,
            probe_period=read.seconds("CONTROLLER_PROBE_PERIOD", defaults.probe_period,
                                      minimum=1, maximum=3600),
            model_load_timeout=read.seconds("CONTROLLER_MODEL_LOAD_TIMEOUT",
                                            defaults.model_load_timeout, minimum=1,
                                            maximum=86_400),
            liveness_failures=read.integer("CONTROLLER_LIVENESS_FAILURES",
                                           defaults.liveness_failures, minimum=1, maximum=100),
            available_deadline=read.seconds("CONTROLLER_AVAILABLE_DEADLINE",
                                            defaults.available_deadline, minimum=0.01,
                                            maximum=86_400),
            workers=read.integer("CONTROLLER_WORKERS", defaults.workers, minimum=1,
                                 maximum=256),
            retry_base=read.seconds("CONTROLLER_RETRY_BASE", defaults.retry_base,
                                    minimum=0.001, maximum=60),
            retry_cap=read.seconds("CONTROLLER_RETRY_CAP", defaults.retry_cap, minimum=0.01,
                                   maximum=3600),
            resync_period=read.seconds("CONTROLLER_RESYNC_PERIOD", defaults.resync_period,
                                       minimum=0.05, maximum=86_400),
            epoch_period=read.seconds("CONTROLLER_EPOCH_PERIOD", defaults.epoch_period,
                                      minimum=0.01, maximum=60),
            hash_upgrade_period=read.seconds("CONTROLLER_HASH_UPGRADE_PERIOD",
                                             defaults.hash_upgrade_period, minimum=0.05,
                                             maximum=86_400),
            autoscale_period=read.seconds("CONTROLLER_AUTOSCALE_PERIOD",
                                          defaults.autoscale_period, minimum=0.05, maximum=60),
            autoscale_stable_window=read.seconds("CONTROLLER_AUTOSCALE_STABLE_WINDOW",
                                                 defaults.autoscale_stable_window,
                                                 minimum=0.1, maximum=3600),
            autoscale_panic_window=read.seconds("CONTROLLER_AUTOSCALE_PANIC_WINDOW",
                                                defaults.autoscale_panic_window,
                                                minimum=0.1, maximum=3600),
            lease_name=read.text("CONTROLLER_LEASE_NAME", defaults.lease_name),
            identity=read.text("CONTROLLER_IDENTITY", _default_identity()),
            lease_duration=read.seconds("CONTROLLER_LEASE_DURATION", defaults.lease_duration,
                                        minimum=1, maximum=3600),
            renew_deadline=read.seconds("CONTROLLER_RENEW_DEADLINE", defaults.renew_deadline,
                                        minimum=0.05, maximum=3600),
            retry_period=read.seconds("CONTROLLER_RETRY_PERIOD", defaults.retry_period,
                                      minimum=0.01, maximum=600),
            health_host=read.text("CONTROLLER_HEALTH_HOST", defaults.health_host),
            health_port=read.integer("CONTROLLER_HEALTH_PORT", defaults.health_port,
                                     minimum=0, maximum=65535),
        )
        if not settings.retry_period < settings.renew_deadline < settings.lease_duration:
            problems.append("MODEL_GATEWAY_CONTROLLER_RENEW_DEADLINE: must lie between "
                            f"_RETRY_PERIOD ({settings.retry_period:g}) and _LEASE_DURATION "
                            f"({settings.lease_duration:g}), got {settings.renew_deadline:g}")
        if settings.autoscale_panic_window > settings.autoscale_stable_window:
            problems.append("MODEL_GATEWAY_CONTROLLER_AUTOSCALE_PANIC_WINDOW: must not exceed "
                            f"_STABLE_WINDOW ({settings.autoscale_stable_window:g}), got "
                            f"{settings.autoscale_panic_window:g}")
        read.finish(also=problems)
        return settings
