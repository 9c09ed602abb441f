"""Benchmark the auth proxy against PrimeHub's nginx + APR1 basic auth, on loopback.

Measured in one run with the same load tool (wrk) and the same upstream (an nginx worker
answering ``200 ok``, standing in for a model so the proxies' own cost shows):

1. the upstream directly;
2. nginx with ``auth_basic`` over an APR1 htpasswd (PrimeHub's path), one worker;
3. nginx without auth, one worker;
4. our proxy, one worker, a private deployment, a client with a pbkdf2_sha256 hash in Redis;
5. 1, 2 and 4 again at one connection, for the latency the proxy adds to the upstream alone;
6. nginx + APR1 and our proxy with two workers each (not pinned: both CPUs).

Both proxies keep a keep-alive pool to the upstream and write an access log to a file. Rounds
are interleaved (every target once per round) so a noisy neighbour hurts all targets alike;
ratios are taken round by round and their median reported, for requests per second and for
requests per CPU-second of the server under test (its processes' user and system time, from
``/proc``: throughput per core, steady however busy the machine is). With ``taskset``, the
one-worker proxies run on CPU 0 and the upstream and wrk on CPU 1. ``--profile DIR`` samples
our proxy with py-spy during one more measurement and summarises where its time goes.

Usage: ``.venv/bin/python benchmarks/proxy/run.py [--duration 10] [--rounds 3]
[--connections 50] [--output benchmarks/proxy/RESULTS.md] [--profile DIR]``. Needs ``wrk`` and
``nginx`` (Debian: ``apt-get update && apt-get install -y wrk nginx-light``), the dev
virtualenv, and for ``--profile`` py-spy (``pip install py-spy``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from redis_server import RedisServer  # noqa: E402

from proxy.hashing import make_context  # noqa: E402
from proxy.publishing import replace_everything  # noqa: E402
from proxy.records import Access, Route  # noqa: E402

CLIENT = "bench-client"
DEPLOYMENT = "bench-model1"


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float | None = None  # CPU time of the server under test, per answer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_tools() -> None:
    missing = [tool for tool in ("wrk", "nginx") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}; install with "
                 "`apt-get update && apt-get install -y wrk nginx-light` (as root)")


def pinned(cpu: int) -> list[str]:
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return []
    return ["taskset", "-c", str(cpu)]


def nginx_conf(work: Path, name: str, server: str, *, workers: int = 1) -> Path:
    conf = work / f"{name}.conf"
    conf.write_text(f"""
worker_processes {workers};
daemon off;
pid {work}/{name}.pid;
error_log {work}/{name}.error.log;
events {{ worker_connections 4096; }}
http {{
  access_log {work}/{name}.access.log;
  upstream model {{ server 127.0.0.1:{UPSTREAM_PORT}; keepalive 128; }}
  {server}
}}
""")
    return conf


UPSTREAM_PORT = free_port()


@contextmanager
def process(command: list[str], log: Path,
            env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        child = subprocess.Popen(command, stdout=output, stderr=output, env=env)  # noqa: S603
        try:
            yield child
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def wait_for(url: str, headers: dict[str, str], deadline: float = 30.0) -> None:
    import urllib.request

    started = time.monotonic()
    while True:
        request = urllib.request.Request(url, headers=headers)  # noqa: S310  loopback only
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() - started > deadline:
            raise SystemExit(f"{url} did not answer 200 within {deadline}s")
        time.sleep(0.1)


def cpu_seconds(root: int) -> float:
    """User and system CPU time used so far by process ``root`` and every process below it."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += used.get(pid, 0.0)
        stack.extend(children.get(pid, ()))
    return total


def wrk(target: Target, *, seconds: int) -> Result:
    command = [*pinned(1), "wrk", "-t1", f"-c{target.connections}", f"-d{seconds}s", "--latency"]
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    cpu_before = cpu_seconds(target.pid) if target.pid is not None else 0.0
    out = subprocess.run([*command, target.url], capture_output=True, text=True,  # noqa: S603
                         check=True).stdout
    cpu = cpu_seconds(target.pid) - cpu_before if target.pid is not None else None
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit(f"errors while loading {target.url}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    answered = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    per_request = None if cpu is None else cpu * 1e6 / max(answered, 1)
    return Result(rate, _percentile(out, "50%"), _percentile(out, "99%"), per_request)


def _percentile(out: str, label: str) -> float:
    value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out,  # type: ignore[union-attr]
                            re.MULTILINE).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def publish(redis_url: str, token: str) -> None:
    """The private deployment and its client, as the controller publishes them."""
    redis = Redis.from_url(redis_url)
    route = Route(DEPLOYMENT, "127.0.0.1", UPSTREAM_PORT, Access.PRIVATE, stopped=False,
                  ready=True)
    await replace_everything(redis, deployments=[(route, {CLIENT: make_context().hash(token)})],
                             epoch="benchmark")
    await redis.aclose()


@dataclass(frozen=True)
class Target:
    """One row: what wrk loads, with which headers and connections."""

    url: str
    headers: dict[str, str]
    connections: int
    pid: int | None = None  # the server under test, whose CPU time (and its children's) counts


UPSTREAM = "upstream directly"
APR1 = "nginx + auth_basic (APR1)"
PLAIN = "nginx, no auth"
OURS = "model-gateway proxy, private"
APR1_2 = "nginx + auth_basic (APR1), 2 workers"
OURS_2 = "model-gateway proxy, private, 2 workers"
AT_1 = ", c=1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--output", type=Path, help="write the Markdown results here too")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="after the rounds, sample our proxy with py-spy under the same load "
                             "and write profile.collapsed and profile.md into DIR")
    options = parser.parse_args()
    require_tools()
    token = f"mgc_{secrets.token_urlsafe(32)}"
    auth = {"Authorization": "Basic " + base64.b64encode(f"{CLIENT}:{token}".encode()).decode()}
    apr1 = make_context().handler("apr_md5_crypt").hash(token)
    ports = {name: free_port() for name in ("apr1", "apr1_2", "plain", "ours", "ours_2",
                                            "metrics", "metrics_2")}

    with tempfile.TemporaryDirectory(prefix="proxy-bench-") as directory:
        work = Path(directory)
        work.chmod(0o755)  # nginx workers run as an unprivileged user and read htpasswd
        (work / "htpasswd").write_text(f"{CLIENT}:{apr1}\n")
        proxied = ("proxy_http_version 1.1; proxy_set_header Connection \"\"; "
                   "proxy_set_header Authorization \"\"; proxy_pass http://model;")
        upstream_conf = nginx_conf(work, "upstream", f"""
  server {{ listen 127.0.0.1:{UPSTREAM_PORT}; access_log off;
           location / {{ return 200 "ok\\n"; }} }}""")

        def apr1_server(port: int) -> str:
            return f"""
  server {{ listen 127.0.0.1:{port};
           location / {{ auth_basic "model-gateway"; auth_basic_user_file {work}/htpasswd;
                         {proxied} }} }}"""

        apr1_conf = nginx_conf(work, "apr1", apr1_server(ports["apr1"]))
        apr1_2_conf = nginx_conf(work, "apr1_2", apr1_server(ports["apr1_2"]), workers=2)
        plain_conf = nginx_conf(work, "plain", f"""
  server {{ listen 127.0.0.1:{ports['plain']}; location / {{ {proxied} }} }}""")
        redis_server = RedisServer(work / "redis")
        redis_server.start()

        def ours_env(port: str, metrics: str, workers: int) -> dict[str, str]:
            return os.environ | {
                "MODEL_GATEWAY_REDIS_URL": redis_server.url,
                "MODEL_GATEWAY_PROXY_PORT": str(ports[port]),
                "MODEL_GATEWAY_PROXY_METRICS_PORT": str(ports[metrics]),
                "MODEL_GATEWAY_PROXY_WORKERS": str(workers),
            }

        nginx = ["nginx", "-p", str(work), "-c"]
        ours_command = [sys.executable, "-m", "proxy"]
        private = f"/deployment/{DEPLOYMENT}/"
        connections = options.connections
        try:
            asyncio.run(publish(redis_server.url, token))
            with process([*pinned(1), *nginx, str(upstream_conf)],
                         work / "upstream.out") as upstream, \
                    process([*pinned(0), *nginx, str(apr1_conf)], work / "apr1.out") as apr1_1, \
                    process([*nginx, str(apr1_2_conf)], work / "apr1_2.out") as apr1_2, \
                    process([*pinned(0), *nginx, str(plain_conf)], work / "plain.out") as plain, \
                    process([*pinned(0), *ours_command], work / "ours.log",
                            env=ours_env("ours", "metrics", 1)) as ours, \
                    process(ours_command, work / "ours_2.log",
                            env=ours_env("ours_2", "metrics_2", 2)) as ours_2:
                upstream_url = f"http://127.0.0.1:{UPSTREAM_PORT}/"
                apr1_url = f"http://127.0.0.1:{ports['apr1']}/"
                ours_url = f"http://127.0.0.1:{ports['ours']}{private}"
                targets = {
                    UPSTREAM: Target(upstream_url, {}, connections, upstream.pid),
                    APR1: Target(apr1_url, auth, connections, apr1_1.pid),
                    PLAIN: Target(f"http://127.0.0.1:{ports['plain']}/", {}, connections,
                                  plain.pid),
                    OURS: Target(ours_url, auth, connections, ours.pid),
                    UPSTREAM + AT_1: Target(upstream_url, {}, 1, upstream.pid),
                    APR1 + AT_1: Target(apr1_url, auth, 1, apr1_1.pid),
                    OURS + AT_1: Target(ours_url, auth, 1, ours.pid),
                    APR1_2: Target(f"http://127.0.0.1:{ports['apr1_2']}/", auth, connections,
                                   apr1_2.pid),
                    OURS_2: Target(f"http://127.0.0.1:{ports['ours_2']}{private}", auth,
                                   connections, ours_2.pid),
                }
                for target in targets.values():
                    wait_for(target.url, target.headers)
                    wrk(target, seconds=2)  # warm up
                rounds: dict[str, list[Result]] = {name: [] for name in targets}
                for round_number in range(options.rounds):
                    for name, target in targets.items():
                        result = wrk(target, seconds=options.duration)
                        rounds[name].append(result)
                        print(f"round {round_number + 1} {name}: "
                              f"{result.requests_per_second:,.0f} req/s", file=sys.stderr)
                if options.profile is not None:
                    profile(ours.pid, targets[OURS], options)
        except SystemExit:
            for log in sorted(work.glob("*.out")) + sorted(work.glob("*.log")):
                print(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}",
                      file=sys.stderr)
            raise
        finally:
            redis_server.stop()
    report = render(rounds, options)
    print(report)
    if options.output is not None:
        options.output.write_text(report)


def profile(pid: int, target: Target, options: argparse.Namespace) -> None:
    """Sample the proxy's stacks with py-spy during one measurement; keep and summarise them."""
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=Path(sys.executable).parent)
    if spy is None:
        sys.exit("--profile needs py-spy (`pip install py-spy`)")
    options.profile.mkdir(parents=True, exist_ok=True)
    collapsed = options.profile / "profile.collapsed"
    # --gil: only the thread running Python counts (not the idle hashing threads).
    sampler = subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", "200",  # noqa: S603
                                "--duration", str(options.duration), "--format", "raw", "--gil",
                                "--output", str(collapsed)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)  # py-spy attaches
    result = wrk(target, seconds=options.duration)
    sampler.wait(timeout=options.duration + 30)
    summary = summarize(collapsed.read_text(), result, options.connections)
    (options.profile / "profile.md").write_text(summary)


def summarize(collapsed: str, result: Result, connections: int) -> str:
    """The functions with the most samples: where they ran (self) and below them (total)."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        # "function (file:line)" -> "function (file)": a function's lines count together.
        frames = [re.sub(r" \((?:.*/(?:site-packages|lib/python3\.\d+)/|.*?/(?=proxy/))?"
                         r"([^:]*):\d+\)$", r" (\1)", frame)
                  for frame in stack.split(";")]
        if frames and frames[0].startswith("process "):
            frames = frames[1:]
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + count
    lines = [f"py-spy, {samples} samples of the proxy under "
             f"`wrk -t1 -c{connections}` "
             f"({result.requests_per_second:,.0f} req/s while sampled).", ""]
    for title, table in (("Self time", own), ("Total time (with callees)", total)):
        lines += [f"## {title}", "", "| share | function |", "|---:|---|"]
        for frame, count in sorted(table.items(), key=lambda item: -item[1])[:30]:
            lines.append(f"| {100 * count / max(samples, 1):.1f}% | `{frame}` |")
        lines.append("")
    return "\n".join(lines)


def median_round(results: list[Result]) -> Result:
    ordered = sorted(results, key=lambda result: result.requests_per_second)
    return ordered[len(ordered) // 2]


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _ratio_lines(rounds: dict[str, list[Result]], ours: str, peer: str) -> list[str]:
    """Throughput and p99 of ``ours`` against ``peer``, round by round (same load, same time)."""
    pairs = list(zip(rounds[ours], rounds[peer], strict=True))
    ratios = [mine.requests_per_second / theirs.requests_per_second for mine, theirs in pairs]
    faster = sum(ratio > 1 for ratio in ratios)
    lower_p99 = sum(mine.p99_ms < theirs.p99_ms for mine, theirs in pairs)
    every = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    per_core = [theirs.cpu_us_per_request / mine.cpu_us_per_request for mine, theirs in pairs
                if mine.cpu_us_per_request and theirs.cpu_us_per_request]
    every_core = ", ".join(f"{ratio:.2f}" for ratio in per_core)
    return [
        f"- {ours} / {peer}, throughput: **{_median(ratios):.2f}x** (median of the per-round "
        f"ratios {every}; faster in {faster} of {len(pairs)} rounds)",
        f"- {ours} / {peer}, requests per CPU-second (per core): "
        f"**{_median(per_core):.2f}x** (per round {every_core})",
        f"- p99, {ours} vs {peer}: {_median([r.p99_ms for r in rounds[ours]]):.2f} ms vs "
        f"{_median([r.p99_ms for r in rounds[peer]]):.2f} ms (median over rounds; lower in "
        f"{lower_p99} of {len(pairs)} rounds)",
    ]


def render(rounds: dict[str, list[Result]], options: argparse.Namespace) -> str:
    command = (f"python benchmarks/proxy/run.py --duration {options.duration} "
               f"--rounds {options.rounds} --connections {options.connections}")
    lines = [
        "| target | requests/s (median round) | all rounds | p50 ms | p99 ms "
        "| CPU µs per request (median) |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for name, results in rounds.items():
        chosen = median_round(results)
        every = ", ".join(f"{r.requests_per_second:,.0f}" for r in results)
        cpu = [r.cpu_us_per_request for r in results if r.cpu_us_per_request is not None]
        lines.append(f"| {name} | {chosen.requests_per_second:,.0f} | {every} | "
                     f"{chosen.p50_ms:.2f} | {chosen.p99_ms:.2f} | "
                     f"{_median(cpu) if cpu else float('nan'):.0f} |")
    lines += ["", *_ratio_lines(rounds, OURS, APR1), *_ratio_lines(rounds, OURS, PLAIN),
              *_ratio_lines(rounds, OURS_2, APR1_2), "",
              "Latency the proxy adds to the upstream alone (median over rounds of each "
              "percentile, ours minus upstream directly):", "",
              "| connections | upstream p50 | ours p50 | added p50 | upstream p99 | ours p99 "
              "| added p99 | nginx+APR1 p50 / p99 |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for suffix, connections in ((AT_1, 1), ("", options.connections)):
        upstream, ours, apr1 = (rounds[name + suffix] for name in (UPSTREAM, OURS, APR1))
        up50, up99 = _median([r.p50_ms for r in upstream]), _median([r.p99_ms for r in upstream])
        our50, our99 = _median([r.p50_ms for r in ours]), _median([r.p99_ms for r in ours])
        apr50, apr99 = _median([r.p50_ms for r in apr1]), _median([r.p99_ms for r in apr1])
        lines.append(f"| {connections} | {up50:.3f} ms | {our50:.3f} ms | {our50 - up50:.3f} ms "
                     f"| {up99:.3f} ms | {our99:.3f} ms | {our99 - up99:.3f} ms "
                     f"| {apr50:.3f} / {apr99:.3f} ms |")
    lines += [
        "",
        f"Command: `{command}` (wrk -t1; one worker per proxy unless the row says 2; "
        f"{os.cpu_count()} CPUs).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
