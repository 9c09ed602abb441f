"""Benchmark the auth proxy against PrimeHub's nginx + APR1 basic auth, on loopback.

Four targets, measured in one run with the same load tool (wrk) and the same upstream (an
nginx worker answering ``200 ok``, standing in for a model so the proxies' own cost shows):

1. the upstream directly;
2. nginx with ``auth_basic`` over an APR1 htpasswd (PrimeHub's path), one worker;
3. nginx without auth, one worker;
4. our proxy, one worker, a private deployment, a client with a pbkdf2_sha256 hash in Redis.

Both proxies keep a keep-alive pool to the upstream and write an access log to a file. Rounds
are interleaved (every target once per round) so a noisy neighbour hurts all targets alike;
the median round is reported. With ``taskset`` available, the proxy under test runs on CPU 0
and the upstream and wrk on CPU 1.

Usage: ``.venv/bin/python benchmarks/proxy/run.py [--duration 10] [--rounds 3]
[--connections 50] [--output benchmarks/proxy/RESULTS.md]``. Needs ``wrk`` and ``nginx``
(Debian: ``apt-get update && apt-get install -y wrk nginx-light``) and the dev virtualenv.
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
from proxy.publishing import publish_deployment  # noqa: E402
from proxy.records import Access, Route  # noqa: E402

CLIENT = "bench-client"
DEPLOYMENT = "bench-model1"


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


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


def nginx_conf(work: Path, name: str, server: str) -> Path:
    conf = work / f"{name}.conf"
    conf.write_text(f"""
worker_processes 1;
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


def wrk(url: str, headers: dict[str, str], *, seconds: int, connections: int) -> Result:
    command = [*pinned(1), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True,  # noqa: S603
                         check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit(f"errors while loading {url}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return Result(rate, _percentile(out, "50%"), _percentile(out, "99%"))


def _percentile(out: str, label: str) -> float:
    value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out,  # type: ignore[union-attr]
                            re.MULTILINE).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def publish(redis_url: str, token: str) -> None:
    redis = Redis.from_url(redis_url)
    route = Route(DEPLOYMENT, "127.0.0.1", UPSTREAM_PORT, Access.PRIVATE, stopped=False,
                  ready=True)
    await publish_deployment(redis, route=route,
                             credentials={CLIENT: make_context().hash(token)})
    await redis.aclose()


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
    ports = {name: free_port() for name in ("apr1", "plain", "ours", "metrics")}

    with tempfile.TemporaryDirectory(prefix="proxy-bench-") as directory:
        work = Path(directory)
        work.chmod(0o755)  # nginx workers run as an unprivileged user and read htpasswd
        (work / "htpasswd").write_text(f"{CLIENT}:{apr1}\n")
        proxied = ("proxy_http_version 1.1; proxy_set_header Connection \"\"; "
                   "proxy_set_header Authorization \"\"; proxy_pass http://model;")
        upstream_conf = nginx_conf(work, "upstream", f"""
  server {{ listen 127.0.0.1:{UPSTREAM_PORT}; access_log off;
           location / {{ return 200 "ok\\n"; }} }}""")
        apr1_conf = nginx_conf(work, "apr1", f"""
  server {{ listen 127.0.0.1:{ports['apr1']};
           location / {{ auth_basic "model-gateway"; auth_basic_user_file {work}/htpasswd;
                         {proxied} }} }}""")
        plain_conf = nginx_conf(work, "plain", f"""
  server {{ listen 127.0.0.1:{ports['plain']}; location / {{ {proxied} }} }}""")
        redis_server = RedisServer(work / "redis")
        redis_server.start()
        env = os.environ | {
            "MODEL_GATEWAY_REDIS_URL": redis_server.url,
            "MODEL_GATEWAY_PROXY_PORT": str(ports["ours"]),
            "MODEL_GATEWAY_PROXY_METRICS_PORT": str(ports["metrics"]),
            "MODEL_GATEWAY_PROXY_WORKERS": "1",
        }
        nginx = ["nginx", "-p", str(work), "-c"]
        try:
            asyncio.run(publish(redis_server.url, token))
            with process([*pinned(1), *nginx, str(upstream_conf)], work / "upstream.out"), \
                    process([*pinned(0), *nginx, str(apr1_conf)], work / "apr1.out"), \
                    process([*pinned(0), *nginx, str(plain_conf)], work / "plain.out"), \
                    process([*pinned(0), sys.executable, "-m", "proxy"], work / "ours.log",
                            env=env) as ours:
                targets = {
                    "upstream directly": (f"http://127.0.0.1:{UPSTREAM_PORT}/", {}),
                    "nginx + auth_basic (APR1)": (f"http://127.0.0.1:{ports['apr1']}/", auth),
                    "nginx, no auth": (f"http://127.0.0.1:{ports['plain']}/", {}),
                    "model-gateway proxy, private": (
                        f"http://127.0.0.1:{ports['ours']}/deployment/{DEPLOYMENT}/", auth),
                }
                for url, headers in targets.values():
                    wait_for(url, headers)
                    wrk(url, headers, seconds=2, connections=options.connections)  # warm up
                rounds: dict[str, list[Result]] = {name: [] for name in targets}
                for round_number in range(options.rounds):
                    for name, (url, headers) in targets.items():
                        result = wrk(url, headers, seconds=options.duration,
                                     connections=options.connections)
                        rounds[name].append(result)
                        print(f"round {round_number + 1} {name}: "
                              f"{result.requests_per_second:,.0f} req/s", file=sys.stderr)
                if options.profile is not None:
                    url, headers = targets["model-gateway proxy, private"]
                    profile(ours.pid, url, headers, options)
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


def profile(pid: int, url: str, headers: dict[str, str], options: argparse.Namespace) -> None:
    """Sample the proxy's stacks with py-spy during one measurement; keep and summarise them."""
    spy = shutil.which("py-spy")
    if spy is None:
        sys.exit("--profile needs py-spy (`pip install py-spy`)")
    options.profile.mkdir(parents=True, exist_ok=True)
    collapsed = options.profile / "profile.collapsed"
    sampler = subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", "200",  # noqa: S603
                                "--duration", str(options.duration), "--format", "raw",
                                "--output", str(collapsed)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)  # py-spy attaches
    result = wrk(url, headers, seconds=options.duration, connections=options.connections)
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


def render(rounds: dict[str, list[Result]], options: argparse.Namespace) -> str:
    chosen = {name: median_round(results) for name, results in rounds.items()}
    ours = chosen["model-gateway proxy, private"]
    apr1 = chosen["nginx + auth_basic (APR1)"]
    plain = chosen["nginx, no auth"]
    command = (f"python benchmarks/proxy/run.py --duration {options.duration} "
               f"--rounds {options.rounds} --connections {options.connections}")
    lines = [
        "| target | requests/s (median round) | all rounds | p50 ms | p99 ms |",
        "|---|---:|---|---:|---:|",
    ]
    for name, result in chosen.items():
        every = ", ".join(f"{r.requests_per_second:,.0f}" for r in rounds[name])
        lines.append(f"| {name} | {result.requests_per_second:,.0f} | {every} | "
                     f"{result.p50_ms:.2f} | {result.p99_ms:.2f} |")
    lines += [
        "",
        f"- ours / nginx+APR1 throughput: "
        f"**{ours.requests_per_second / apr1.requests_per_second:.2f}x**",
        f"- ours / nginx without auth throughput: "
        f"{ours.requests_per_second / plain.requests_per_second:.2f}x",
        f"- nginx+APR1 / nginx without auth throughput: "
        f"{apr1.requests_per_second / plain.requests_per_second:.2f}x",
        f"- p50 latency, ours vs nginx+APR1: {ours.p50_ms:.2f} ms vs {apr1.p50_ms:.2f} ms",
        "",
        f"Command: `{command}` (wrk -t1 -c{options.connections}; one worker per proxy; "
        f"{os.cpu_count()} CPUs).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
