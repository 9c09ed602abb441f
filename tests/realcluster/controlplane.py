"""A real Kubernetes control plane on loopback: etcd, kube-apiserver, controller-manager,
scheduler and kwok's simulated kubelets, as plain processes started from cached binaries.

Started the way kubeadm starts a cluster, with flags taken from kwok's binary runtime and
controller-runtime's envtest (see the README's "Real Kubernetes" section):

- the apiserver serves TLS only, with a certificate from the test CA; clients authenticate with
  client certificates or service-account tokens (TokenRequest), anonymous requests get only
  what RBAC's discovery roles give them;
- service-account tokens are signed by their own key pair, issuer
  ``https://kubernetes.default.svc.cluster.local``;
- authorization is ``Node,RBAC``; admission is the default plugin set plus NodeRestriction;
- the controller manager runs every default controller with per-controller service-account
  credentials, the scheduler its default profile, each as its bootstrap RBAC user;
- every request is audited (metadata only) to ``<root>/logs/audit.jsonl``;
- kwok manages the nodes annotated ``kwok.x-k8s.io/node: fake`` with the stages in
  ``kubelets.yaml``, as the ``model-gateway-test:kubelets`` user and its own ClusterRole.

Service cluster IPs come from 127.1.0.0/16 and pod IPs from 127.2.0.0/16, the local cluster's
ranges, so a Service's address is bindable on loopback here too. Nothing listens beyond
127.0.0.1. Every process writes its log under ``<root>/logs``; a component that dies or never
gets ready fails the start with the tail of its log.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from kubernetes_asyncio.client import Configuration

from realcluster.binaries import BUILD_COMMAND, Binaries, find_binaries
from realcluster.pki import Authority, ClientCert, service_account_keys

SERVICE_RANGE: Final = "127.1.0.0/16"
ISSUER: Final = "https://kubernetes.default.svc.cluster.local"
NODE: Final = "kwok-node-0"
KUBELETS_USER: Final = "model-gateway-test:kubelets"
ADMIN_USER: Final = "model-gateway-test:admin"
IMAGE_PULL_FAILS: Final = "model-gateway.test/image-pull-fails:1"
OOM_KILLED: Final = "model-gateway.test/oom-killed:1"
FAILING_IMAGES: Final = (IMAGE_PULL_FAILS, OOM_KILLED)
_STAGES: Final = Path(__file__).resolve().parent / "kubelets.yaml"
_NODE_CAPACITY: Final = {"cpu": "1k", "memory": "16Ti", "pods": "2k"}
# Who asked for what and what was answered, for every request: the product tier reads it to
# name the RBAC rule a component lacked when anything was refused.
_AUDIT_POLICY: Final = {"apiVersion": "audit.k8s.io/v1", "kind": "Policy",
                        "omitStages": ["RequestReceived"], "rules": [{"level": "Metadata"}]}


class ControlPlaneFailed(RuntimeError):
    """A component did not start; the message has the tail of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Access:
    """How a client reaches the apiserver: its URL, the CA, and a client certificate."""

    url: str
    ca: Path
    client: ClientCert

    def kubeconfig(self, path: Path, *, user: str, token: str | None = None) -> Path:
        """Write a kubeconfig for this cluster; it authenticates with ``token`` when given,
        else with the client certificate."""
        credentials: dict[str, str] = {"token": token} if token is not None else {
            "client-certificate": str(self.client.cert), "client-key": str(self.client.key)}
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": user,
            "clusters": [{"name": "real", "cluster": {
                "server": self.url, "certificate-authority": str(self.ca)}}],
            "users": [{"name": user, "user": credentials}],
            "contexts": [{"name": user, "context": {"cluster": "real", "user": user}}]}
        path.write_text(json.dumps(config))
        path.chmod(0o600)
        return path


class ControlPlane:
    """The running processes; :meth:`started` is the only way to get one."""

    def __init__(self, binaries: Binaries, root: Path) -> None:
        self.binaries = binaries
        self.root = root
        self.logs = root / "logs"
        self.audit_log = self.logs / "audit.jsonl"
        self._processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._authority = Authority(root / "pki")
        self.admin = Access(
            url=f"https://127.0.0.1:{free_port()}", ca=self._authority.cert,
            client=self._authority.client("admin", user=ADMIN_USER, group="system:masters"))

    @classmethod
    @contextlib.contextmanager
    def started(cls, binaries: Binaries, root: Path) -> Iterator[ControlPlane]:
        """Start every component, wait until a pod can become Ready; stop all on exit."""
        plane = cls(binaries, root)
        try:
            plane._start()
            yield plane
        finally:
            plane.stop()

    # -- processes ---------------------------------------------------------------------------

    def _spawn(self, name: str, arguments: list[str]) -> subprocess.Popen[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(  # noqa: S603  our cached binary, fixed arguments
                [str(self.binaries.path(name)), *arguments], stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self._processes.append((name, process))
        return process

    def log_tail(self, name: str, lines: int = 30) -> str:
        try:
            text = (self.logs / f"{name}.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _wait(self, name: str, ready: Any, *, timeout: float) -> None:
        """Poll ``ready()`` until it is true; fail with the component's log if it died."""
        process = dict(self._processes)[name]
        give_up = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise ControlPlaneFailed(
                    f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")
            with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
                if ready():
                    return
            if time.monotonic() > give_up:
                raise ControlPlaneFailed(
                    f"{name} not ready after {timeout:.0f} s:\n{self.log_tail(name)}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop every component, newest first (SIGTERM, then SIGKILL after 10 s)."""
        while self._processes:
            _, process = self._processes.pop()
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    # -- talking to the apiserver as the admin ----------------------------------------------

    def _ssl(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.admin.ca))
        context.load_cert_chain(str(self.admin.client.cert), str(self.admin.client.key))
        return context

    def _send(self, method: str, path: str, body: Mapping[str, Any] | None,
              content_type: str) -> bytes:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310  https to our own apiserver
            self.admin.url + path, data=data, method=method,
            headers={"Content-Type": content_type, "Accept": "application/json"})
        with urllib.request.urlopen(request, context=self._ssl(), timeout=30) as answer:  # noqa: S310
            read: bytes = answer.read()
            return read

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None, *,
                content_type: str = "application/json") -> Any:
        """One admin request; the decoded JSON answer."""
        return json.loads(self._send(method, path, body, content_type) or b"null")

    def _get_ok(self, path: str) -> bool:
        try:
            self._send("GET", path, None, "application/json")
        except urllib.error.HTTPError:
            return False
        return True

    # -- start ---------------------------------------------------------------------------------

    def _start(self) -> None:
        pki = self._authority
        etcd_client, etcd_peer = free_port(), free_port()
        etcd = f"http://127.0.0.1:{etcd_client}"
        peer = f"http://127.0.0.1:{etcd_peer}"
        self._spawn("etcd", [
            "--name=node0", f"--data-dir={self.root / 'etcd'}",
            f"--listen-client-urls={etcd}", f"--advertise-client-urls={etcd}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=node0={peer}", "--unsafe-no-fsync=true", "--log-level=warn"])
        self._wait("etcd", lambda: _http_ok(f"{etcd}/health"), timeout=60)

        serving = pki.serving("apiserver", addresses=["127.0.0.1", "127.1.0.1"], hostnames=[
            "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local"])
        sa_key, sa_pub = service_account_keys(self.root / "pki")
        policy = self.root / "audit-policy.json"
        policy.write_text(json.dumps(_AUDIT_POLICY))
        port = self.admin.url.rsplit(":", 1)[1]
        self._spawn("kube-apiserver", [
            f"--etcd-servers={etcd}", "--bind-address=127.0.0.1", f"--secure-port={port}",
            "--advertise-address=127.0.0.1", f"--cert-dir={self.root / 'pki'}",
            f"--tls-cert-file={serving.cert}", f"--tls-private-key-file={serving.key}",
            f"--client-ca-file={pki.cert}",
            f"--service-account-key-file={sa_pub}",
            f"--service-account-signing-key-file={sa_key}",
            f"--service-account-issuer={ISSUER}",
            "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
            "--allow-privileged=true", f"--service-cluster-ip-range={SERVICE_RANGE}",
            "--endpoint-reconciler-type=none", "--profiling=false",
            f"--kubelet-certificate-authority={pki.cert}",
            f"--audit-policy-file={policy}", f"--audit-log-path={self.audit_log}",
            "--audit-log-maxsize=0"])
        self._wait("kube-apiserver", lambda: self._get_ok("/readyz"), timeout=180)
        self._grant_kubelets()

        common = [
            "--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false",
            "--kube-api-qps=200", "--kube-api-burst=400"]
        manager = self._component_kubeconfig("controller-manager",
                                             "system:kube-controller-manager")
        scheduler = self._component_kubeconfig("scheduler", "system:kube-scheduler")
        kubelets = self._component_kubeconfig("kubelets", KUBELETS_USER)
        self._spawn("kube-controller-manager", [
            *common, f"--kubeconfig={manager}",
            "--use-service-account-credentials=true", f"--root-ca-file={pki.cert}",
            f"--service-account-private-key-file={sa_key}",
            f"--cluster-signing-cert-file={pki.cert}", f"--cluster-signing-key-file={pki.key}",
            f"--service-cluster-ip-range={SERVICE_RANGE}", "--controllers=*",
            "--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10"])
        self._spawn("kube-scheduler", [
            *common, f"--kubeconfig={scheduler}"])
        self._spawn("kwok", [
            f"--kubeconfig={kubelets}",
            f"--config={_STAGES}", "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--node-ip=127.0.0.1", "--cidr=127.2.0.1/16", "--node-lease-duration-seconds=40",
            "--server-address="])
        self.request("POST", "/api/v1/nodes", {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": NODE, "annotations": {"kwok.x-k8s.io/node": "fake"},
                         "labels": {"kubernetes.io/hostname": NODE, "type": "kwok"}},
            "status": {"capacity": _NODE_CAPACITY, "allocatable": _NODE_CAPACITY}})
        self._wait("kwok", self._node_ready, timeout=120)
        self._wait("kube-controller-manager",
                   lambda: self._get_ok("/api/v1/namespaces/default/serviceaccounts/default"),
                   timeout=120)

    def _node_ready(self) -> bool:
        node = self.request("GET", f"/api/v1/nodes/{NODE}")
        return any(c.get("type") == "Ready" and c.get("status") == "True"
                   for c in (node.get("status") or {}).get("conditions") or [])

    def _component_kubeconfig(self, stem: str, user: str) -> Path:
        cert = self._authority.client(stem, user=user)
        access = Access(url=self.admin.url, ca=self.admin.ca, client=cert)
        return access.kubeconfig(self.root / "pki" / f"{stem}.kubeconfig", user=user)

    def _grant_kubelets(self) -> None:
        """What the simulated kubelets may do: report node and pod status, renew leases,
        remove pods they finished deleting, record events."""
        rules = [
            {"apiGroups": [""], "resources": ["nodes", "pods"],
             "verbs": ["get", "list", "watch", "patch", "update"]},
            {"apiGroups": [""], "resources": ["nodes/status", "pods/status"],
             "verbs": ["patch", "update"]},
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]},
            {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch", "update"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
             "verbs": ["create", "get", "list", "watch", "patch", "update"]}]
        name = "model-gateway-test-kubelets"
        self.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name}, "rules": rules})
        self.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                          "name": KUBELETS_USER}]})


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310  our own etcd, http
        return bool(answer.status == 200)


def client_configuration(access: Access, *, token: str | None = None) -> Configuration:
    """A kubernetes-asyncio ``Configuration`` for ``access`` (its client certificate, or a
    bearer ``token`` instead)."""
    configuration = Configuration(host=access.url)
    configuration.ssl_ca_cert = str(access.ca)
    if token is None:
        configuration.cert_file = str(access.client.cert)
        configuration.key_file = str(access.client.key)
    else:
        configuration.api_key = {"BearerToken": token}
        configuration.api_key_prefix = {"BearerToken": "Bearer"}
    return configuration


@contextlib.contextmanager
def cached_admin(root: Path) -> Iterator[Configuration]:
    """For the benchmarks: a control plane from the cached binaries under ``root``, as its
    admin's client configuration; exits naming the build command when they are not built."""
    binaries = find_binaries()
    if binaries is None:
        raise SystemExit(f"the real control plane is not built: run `{BUILD_COMMAND}`")
    with ControlPlane.started(binaries, root) as plane:
        yield client_configuration(plane.admin)
