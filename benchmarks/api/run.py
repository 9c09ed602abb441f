"""Benchmark: deployment list queries over HTTP with 1,000 deployments in the API's cache.

Starts a local cluster in-process, installs the chart's CRDs, starts the real API server
(``gateway.api.server.running``), creates one group and instance type and ``--deployments``
PhDeployments (directly in the cluster, as the console would have over time), waits until the
API's watch cache holds them all, then measures, one request at a time from one client:

1. ``phDeployments(first: 12)``: the console's first page;
2. ``phDeployments`` without paging: the full list, as the SDK's ``deployments list`` asks;

both with the SDK's list selection (``primehub/deployments.py``), posted as the SDK posts
(form-encoded, ``Authorization: Bearer``) by a member of the group. Reports the median and
p99 latency of each, after a warm-up, and writes Markdown to ``--output`` when given. It runs
once with CPython's default garbage-collector thresholds and once with the ones
``model-gateway api`` sets (:func:`gateway.api.server.tune_gc`).

    .venv/bin/python benchmarks/api/run.py --output benchmarks/api/RESULTS.md
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

from gateway.api.server import GC_THRESHOLDS, running, tune_gc
from gateway.api.settings import ApiSettings
from gateway.kube import crds, phdeployments
from gateway.kube.client import Kube
from gateway.kube.phdeployments import DeploymentSpec, Endpoint, EnvVar, Predictor
from gateway.localcluster import LocalCluster, LocalClusterSettings

BOOTSTRAP = "benchmark-bootstrap-token"
SELECTION = """id name modelImage imagePullSecret description replicas stop endpointAccessType
  endpointClients { name } status endpoint replicas availableReplicas message pods { name }"""
FIRST_PAGE = f"query ($where: PhDeploymentWhereInput) {{ phDeployments(where: $where, first: 12) " \
             f"{{ {SELECTION} }} }}"
FULL_LIST = f"query ($where: PhDeploymentWhereInput) {{ phDeployments(where: $where) " \
            f"{{ {SELECTION} }} }}"


def spec(index: int) -> DeploymentSpec:
    return DeploymentSpec(
        predictor=Predictor(replicas=1, model_image=f"registry.example.com/model:{index}",
                            instance_type="cpu-1", model_uri=f"gs://bucket/models/{index}",
                            metadata={"owner": "bench", "index": str(index)}),
        display_name=f"model {index}", user_id="alice", user_name="alice", group_id="team-a",
        group_name="team-a", description=f"benchmark deployment {index}",
        update_message="created", update_time=phdeployments.timestamp(),
        env=(EnvVar("MODE", "fast"),), endpoint=Endpoint("private", ("app",)))


async def create_deployments(kube: Kube, count: int) -> None:
    semaphore = asyncio.Semaphore(32)

    async def one(index: int) -> None:
        async with semaphore:
            await phdeployments.create(kube, namespace="default", name=f"bench-{index:05d}",
                                       spec=spec(index))

    await asyncio.gather(*(one(index) for index in range(count)))


async def post(session: aiohttp.ClientSession, url: str, token: str, query: str,
               variables: dict[str, Any]) -> dict[str, Any]:
    async with session.post(f"{url}/graphql", headers={"Authorization": f"Bearer {token}"},
                            data={"query": query, "variables": json.dumps(variables)}) as reply:
        body: dict[str, Any] = await reply.json()
    if reply.status != 200 or body.get("errors"):
        raise RuntimeError(f"benchmark request failed: {reply.status} {body}")
    return body


async def measure(session: aiohttp.ClientSession, url: str, token: str, query: str,
                  expected: int, iterations: int) -> list[float]:
    variables = {"where": {"groupId_in": ["team-a"]}}
    for _ in range(max(3, iterations // 10)):  # warm-up: parser cache, connections
        await post(session, url, token, query, variables)
    timings = []
    for _ in range(iterations):
        started = time.perf_counter()
        body = await post(session, url, token, query, variables)
        timings.append((time.perf_counter() - started) * 1000)
        if len(body["data"]["phDeployments"]) != expected:
            raise RuntimeError("wrong number of deployments in the answer")
    return timings


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


async def run(count: int, iterations: int, full_iterations: int) -> dict[str, Any]:
    async with LocalCluster.running(LocalClusterSettings()) as cluster, \
            ApiClient(Configuration(host=cluster.url)) as client:
        kube = Kube(client)
        await crds.install(kube)
        settings = ApiSettings(port=0, kubernetes_url=cluster.url, bootstrap_token=BOOTSTRAP)
        async with running(settings) as url, aiohttp.ClientSession() as session:
            while True:
                async with session.get(f"{url}/readyz") as reply:
                    if reply.status == 200:
                        break
                await asyncio.sleep(0.05)
            await post(session, url, BOOTSTRAP, """mutation {
                createInstanceType(data: {name: "cpu-1", cpuLimit: 1, memoryLimit: 1}) { id }
                createGroup(data: {name: "team-a", members: ["alice"], enabledDeployment: true,
                                   instanceTypes: ["cpu-1"]}) { id } }""", {})
            made = await post(session, url, BOOTSTRAP, """mutation {
                createApiToken(data: {username: "alice"}) { token } }""", {})
            token = made["data"]["createApiToken"]["token"]
            started = time.perf_counter()
            await create_deployments(kube, count)
            while True:
                body = await post(session, url, token,
                                  "{ phDeploymentsConnection(first: 1) { pageInfo { "
                                  "totalPage } } }", {})
                if body["data"]["phDeploymentsConnection"]["pageInfo"]["totalPage"] == count:
                    break
                await asyncio.sleep(0.05)
            seeded = time.perf_counter() - started
            first = await measure(session, url, token, FIRST_PAGE, 12, iterations)
            full = await measure(session, url, token, FULL_LIST, count, full_iterations)
    return {"deployments": count, "seed_seconds": seeded,
            "first_page": {"n": len(first), "median": statistics.median(first),
                           "p99": p99(first)},
            "full_list": {"n": len(full), "median": statistics.median(full), "p99": p99(full)}}


def rows(result: dict[str, Any], gc_label: str) -> str:
    first, full = result["first_page"], result["full_list"]
    count = result["deployments"]
    return (f"| `phDeployments(first: 12)` | {gc_label} | {first['n']} | "
            f"{first['median']:.2f} ms | {first['p99']:.2f} ms |\n"
            f"| `phDeployments` (all {count}) | {gc_label} | {full['n']} | "
            f"{full['median']:.1f} ms | {full['p99']:.1f} ms |\n")


def markdown(default: dict[str, Any], tuned: dict[str, Any], command: str) -> str:
    return f"""# API list benchmark: results

Command: `{command}`

Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()},
{platform.system()} {platform.release()}. One client, one request at a time, over loopback
HTTP, against one API process; the local cluster runs in the same process and is idle
during the measurements (every read is served from the API's watch cache).

{tuned['deployments']} deployments in the cache (created in {tuned['seed_seconds']:.1f} s,
until the API's cache held them all), all in the caller's group; both queries select what the
SDK's `deployments list` selects. "GC" is the garbage collector's thresholds: CPython's
default, or those `model-gateway api` sets ({GC_THRESHOLDS}, see `tune_gc`).

| query | GC | requests | median | p99 |
|---|---|---|---|---|
{rows(default, "default")}{rows(tuned, "model-gateway api")}"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=500,
                        help="requests measured for the first page")
    parser.add_argument("--full-iterations", type=int, default=100,
                        help="requests measured for the full list")
    parser.add_argument("--output", type=Path, help="write the results as Markdown here")
    args = parser.parse_args()
    default = asyncio.run(run(args.deployments, args.iterations, args.full_iterations))
    tune_gc()
    tuned = asyncio.run(run(args.deployments, args.iterations, args.full_iterations))
    print(json.dumps({"default_gc": default, "tuned_gc": tuned}, indent=2))
    if args.output is not None:
        command = " ".join(["python", "benchmarks/api/run.py", *sys.argv[1:]])
        args.output.write_text(markdown(default, tuned, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
