"""Pod logs through ``pods/<name>/log``: container choice, tailLines, timestamps and follow.

Lines are appended with ``LocalCluster.append_log`` (a test's stand-in for a container writing
to stdout) and read back with the typed client; follow uses ``Watch``, which is how
kubernetes-asyncio streams logs.
"""

from __future__ import annotations

import asyncio
import re

from kubekit import container, eventually, failure, is_ready, pod
from kubernetes_asyncio.client import CoreV1Api
from kubernetes_asyncio.watch import Watch

from gateway.localcluster import LocalCluster

TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"


async def running_pod(
        core: CoreV1Api, name: str, *containers: str, ns: str, init: str = "") -> None:
    """Create a pod with the given containers (and init container) and wait until Ready."""
    await core.create_namespaced_pod(
        ns,
        pod(
            name,
            containers=[container(c) for c in containers],
            init_containers=[container(init)] if init else (),
        ),
    )

    async def ready() -> None:
        assert is_ready(await core.read_namespaced_pod(name, ns))

    await eventually(ready)


async def test_log_returns_the_named_containers_lines(
    cluster: LocalCluster, core: CoreV1Api, ns: str
) -> None:
    """container= selects one container's lines, in the order they were written."""
    await running_pod(core, "duo", "model", "sidecar", ns=ns)
    for line in ("starting model", "loading weights", "serving on 8080"):
        cluster.append_log(ns, "duo", line, container="model")
    cluster.append_log(ns, "duo", "sidecar up", container="sidecar")

    log = await core.read_namespaced_pod_log("duo", ns, container="model")
    assert log == "starting model\nloading weights\nserving on 8080\n"
    assert await core.read_namespaced_pod_log("duo", ns, container="sidecar") == (
        "sidecar up\n"
    )


async def test_single_container_pod_needs_no_container_name(
    cluster: LocalCluster, core: CoreV1Api, ns: str
) -> None:
    """A pod with one container serves its log without container=."""
    await running_pod(core, "solo", "model", ns=ns)
    cluster.append_log(ns, "solo", "hello from the model")
    assert await core.read_namespaced_pod_log("solo", ns) == "hello from the model\n"


async def test_init_container_logs_are_readable_by_name(
    cluster: LocalCluster, core: CoreV1Api, ns: str
) -> None:
    """An init container's log is served when asked for by name."""
    await running_pod(core, "boot", "model", init="copy-model", ns=ns)
    cluster.append_log(ns, "boot", "copied model.bin", container="copy-model")
    log = await core.read_namespaced_pod_log("boot", ns, container="copy-model")
    assert log == "copied model.bin\n"


async def test_tail_lines_returns_only_the_last_lines(
    cluster: LocalCluster, core: CoreV1Api, ns: str
) -> None:
    """tailLines=2 returns the last two lines."""
    await running_pod(core, "solo", "model", ns=ns)
    for line in ("line one", "line two", "line three"):
        cluster.append_log(ns, "solo", line)
    assert await core.read_namespaced_pod_log("solo", ns, tail_lines=2) == (
        "line two\nline three\n"
    )


async def test_timestamps_prefix_each_line(cluster: LocalCluster, core: CoreV1Api, ns: str) -> None:
    """timestamps=true prefixes every line with an RFC 3339 UTC time and a space."""
    await running_pod(core, "solo", "model", ns=ns)
    for line in ("line one", "line two"):
        cluster.append_log(ns, "solo", line)
    log = await core.read_namespaced_pod_log("solo", ns, timestamps=True)
    lines = log.splitlines()
    assert len(lines) == 2
    for line, text in zip(lines, ("line one", "line two"), strict=True):
        assert re.fullmatch(rf"{TIMESTAMP} {text}", line), line


async def test_follow_streams_lines_as_they_are_written(
    cluster: LocalCluster, core: CoreV1Api, ns: str
) -> None:
    """follow=true sends existing lines, then each new line, and ends when the pod goes away."""
    await running_pod(core, "solo", "model", ns=ns)
    cluster.append_log(ns, "solo", "before follow")

    async with Watch() as watch, asyncio.timeout(10):
        lines = watch.stream(core.read_namespaced_pod_log, name="solo", namespace=ns)
        assert await anext(lines) == "before follow\n"
        cluster.append_log(ns, "solo", "while following")
        assert await anext(lines) == "while following\n"

        await core.delete_namespaced_pod("solo", ns, grace_period_seconds=0)
        rest = [line async for line in lines]
    assert rest == []


async def test_ambiguous_container_is_bad_request(core: CoreV1Api, ns: str) -> None:
    """Omitting container= on a multi-container pod answers 400 listing the choices."""
    await running_pod(core, "duo", "model", "sidecar", ns=ns)
    status = await failure(core.read_namespaced_pod_log("duo", ns))
    assert status["code"] == 400
    assert status["reason"] == "BadRequest"
    assert status["message"] == (
        "a container name must be specified for pod duo, choose one of: [model sidecar]"
    )


async def test_unknown_container_is_bad_request(core: CoreV1Api, ns: str) -> None:
    """Naming a container the pod does not have answers 400."""
    await running_pod(core, "solo", "model", ns=ns)
    status = await failure(core.read_namespaced_pod_log("solo", ns, container="nope"))
    assert status["code"] == 400
    assert status["reason"] == "BadRequest"
    assert status["message"] == "container nope is not valid for pod solo"


async def test_log_of_a_missing_pod_is_not_found(core: CoreV1Api, ns: str) -> None:
    """Asking for a missing pod's log answers 404."""
    status = await failure(core.read_namespaced_pod_log("ghost", ns))
    assert status["code"] == 404
    assert status["message"] == 'pods "ghost" not found'
