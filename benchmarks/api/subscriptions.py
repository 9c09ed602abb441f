"""Benchmark: how soon a status change reaches a subscriber (the console's live pages).

Starts a local cluster in-process, installs the chart's CRDs, starts the real API server,
creates ``--deployments`` PhDeployments in one group, and opens two graphql-transport-ws
subscriptions as a member: ``phDeployment`` on one deployment (the detail page) and
``phDeployments`` (the list page). Then, ``--changes`` times, it writes a new status to that
deployment's ``status`` subresource, as the controller does, and measures from just before the
write until each subscription delivers the new message.

The peer, in the same run and on the same machine, is the best a polling client can do: a
client that asks the ``phDeployment`` query back to back, as fast as the API answers, timed
from the same kind of write until an answer shows the change. Both read the same watch cache,
so the ratio shows what pushing costs or saves against polling flat out (a real console polls
every few seconds, and would be seconds behind). The two are measured in turns, change after
change, so both see the same load.

    .venv/bin/python benchmarks/api/subscriptions.py --output benchmarks/api/SUBSCRIPTIONS.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from kubernetes_asyncio.client import ApiClient, Configuration

from gateway.api.server import running
from gateway.api.settings import ApiSettings
from gateway.kube import crds, groups, instancetypes, phdeployments
from gateway.kube.client import Kube
from gateway.kube.groups import GroupSpec
from gateway.kube.instancetypes import InstanceTypeSpec
from gateway.kube.phdeployments import PHDEPLOYMENTS, DeploymentSpec, Predictor
from gateway.localcluster import LocalCluster, LocalClusterSettings

BOOTSTRAP = "benchmark-bootstrap-token"
NAMESPACE = "default"
WATCHED = "model-0"
ONE = f'subscription {{ phDeployment(where: {{id: "{WATCHED}"}}) {{ id status message }} }}'
LIST = "subscription { phDeployments { type id deployment { id message } } }"
QUERY = f'{{ phDeployment(where: {{id: "{WATCHED}"}}) {{ message }} }}'


def spec(index: int) -> DeploymentSpec:
    return DeploymentSpec(
        predictor=Predictor(replicas=1, model_image=f"registry.example.com/model:{index}",
                            instance_type="cpu-1"),
        display_name=f"model {index}", user_id="alice", user_name="alice", group_id="team-a",
        group_name="team-a", update_time=phdeployments.timestamp())


async def write_status(kube: Kube, message: str) -> None:
    await kube.patch(PHDEPLOYMENTS, namespace=NAMESPACE, name=WATCHED, subresource="status",
                     body={"status": {"phase": "Deployed", "observedGeneration": 1,
                                      "message": message, "availableReplicas": 1}})


class Subscriber:
    """Two subscriptions on one socket; waits for a message to appear on each."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seen: dict[str, dict[str, float]] = {"one": {}, "list": {}}
        self.changed = asyncio.Event()

    async def read(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            if data["type"] == "ping":
                await self.ws.send_json({"type": "pong"})
            if data["type"] != "next":
                continue
            now = time.perf_counter()
            payload = data["payload"]["data"]
            if data["id"] == "one":
                self.seen["one"][payload["phDeployment"]["message"]] = now
            elif payload["phDeployments"]["id"] == WATCHED:
                self.seen["list"][payload["phDeployments"]["deployment"]["message"]] = now
            self.changed.set()

    async def both(self, message: str) -> tuple[float, float]:
        while not all(message in seen for seen in self.seen.values()):
            self.changed.clear()
            await self.changed.wait()
        return self.seen["one"][message], self.seen["list"][message]


async def measure(*, deployments: int, changes: int) -> dict[str, Any]:
    cluster_settings = LocalClusterSettings(pod_start_delay=0.05)
    async with LocalCluster.running(cluster_settings) as cluster, \
            ApiClient(Configuration(host=cluster.url)) as client:
        kube = Kube(client)
        await crds.install(kube)
        await instancetypes.create(kube, namespace=NAMESPACE, name="cpu-1",
                                   spec=InstanceTypeSpec(cpu_limit=1.0, memory_limit=2.0**30))
        await groups.create(kube, namespace=NAMESPACE, name="team-a", spec=GroupSpec(
            members=("alice",), enabled_deployment=True, instance_types=("cpu-1",)))
        for index in range(deployments):
            await phdeployments.create(kube, namespace=NAMESPACE, name=f"model-{index}",
                                       spec=spec(index))
        settings = ApiSettings(port=0, kubernetes_url=cluster.url, namespace=NAMESPACE,
                               bootstrap_token=BOOTSTRAP)
        headers = {"Authorization": f"Bearer {BOOTSTRAP}"}
        async with running(settings) as url, aiohttp.ClientSession(headers=headers) as http:
            while True:
                async with http.get(f"{url}/readyz") as response:
                    if response.status == 200:
                        break
                await asyncio.sleep(0.05)
            async with http.ws_connect(f"{url.replace('http', 'ws', 1)}/graphql",
                                       protocols=("graphql-transport-ws",)) as ws:
                await ws.send_json({"type": "connection_init"})
                assert json.loads((await ws.receive()).data)["type"] == "connection_ack"
                for key, query in (("one", ONE), ("list", LIST)):
                    await ws.send_json({"id": key, "type": "subscribe",
                                        "payload": {"query": query}})
                subscriber = Subscriber(ws)
                reader = asyncio.create_task(subscriber.read())
                one, listed, polled, writes = [], [], [], []
                for index in range(changes):  # interleaved: both see the same conditions
                    message = f"push {index}"
                    started = time.perf_counter()
                    await write_status(kube, message)
                    writes.append(time.perf_counter() - started)
                    at_one, at_list = await asyncio.wait_for(subscriber.both(message), 10)
                    one.append(at_one - started)
                    listed.append(at_list - started)
                    polled.append(await poll_until(http, url, kube, f"poll {index}"))
                reader.cancel()
    return {"one": one, "list": listed, "poll": polled, "write": writes}


async def poll_until(http: aiohttp.ClientSession, url: str, kube: Kube, message: str) -> float:
    """Write ``message`` and ask the query back to back until it shows; seconds taken."""
    started = time.perf_counter()
    await write_status(kube, message)
    while True:
        async with http.post(f"{url}/graphql", json={"query": QUERY}) as response:
            body = await response.json()
        if body["data"]["phDeployment"]["message"] == message:
            return time.perf_counter() - started


def _ms(values: list[float], quantile: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000:.1f} ms"


def report(results: dict[str, Any], *, deployments: int, changes: int, command: str) -> str:
    rows = [("`phDeployment` subscription (detail page)", results["one"]),
            ("`phDeployments` subscription (list page)", results["list"]),
            ("peer: `phDeployment` query polled back to back", results["poll"]),
            ("the status write alone (PATCH round trip)", results["write"])]
    poll = statistics.median(results["poll"])
    lines = [
        "# API subscriptions benchmark: results", "",
        f"Command: `{command}`", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}. One API "
        "process and the local cluster in the same process, over loopback.", "",
        f"{deployments} deployments in the cache; {changes} status writes to one of them, each "
        "timed from just before the write (the controller's PATCH of `status`) until the "
        "subscriber holds the new message. The peer is a client polling the query as fast as "
        "the API answers.", "",
        "| path | changes | median | p99 | median / peer |", "|---|---|---|---|---|"]
    for name, values in rows:
        ratio = statistics.median(values) / poll
        lines.append(f"| {name} | {len(values)} | {_ms(values, 0.5)} | {_ms(values, 0.99)} | "
                     f"{ratio:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--deployments", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    results = asyncio.run(measure(deployments=args.deployments, changes=args.changes))
    command = "python benchmarks/api/subscriptions.py" + (
        f" --output {args.output}" if args.output else "")
    text = report(results, deployments=args.deployments, changes=args.changes, command=command)
    print(text)
    if args.output:
        args.output.write_text(text)
    sys.exit(0)


if __name__ == "__main__":
    main()
