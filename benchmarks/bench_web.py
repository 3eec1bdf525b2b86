"""Web platform latency under concurrent users, against a real server on loopback.

    python benchmarks/bench_web.py --home benchmarks/out/net10m [--users 20] [--requests 400]

Starts `chainatlas serve` (one process, as deployed; `--workers N` for more) on the warehouse in --home with a
throwaway app database and a benchmark user, logs 20 clients in, warms the caches the pages
read (one pass over every URL, timed and reported as the cold cost), then runs the measured
mix with `--users` concurrent clients, each request on its own session's cookie:

- 首页 dashboard (`/?region=…` over the cities below),
- 诊断 diagnosis (`/diagnosis?chain=…&region=…` over cities × chains),
- 企业 search (`/enterprises?q=…&region=…`) over a few repeated queries (answered from the
  result cache after their first time), and `search_new`: every request a query not asked
  before (one character of firm names × a city; two characters under wrk, 8,000 of them),
  which the result cache cannot answer: it filters the city's firms (read from the
  warehouse by the city's first search, then kept in memory).

Prints p50 / p95 / p99 per page and, as the baseline measured in the same run and under the
same concurrency, the health check `/healthz` (no warehouse, no template): the ratio says
how much of the latency is the page's own work rather than the server and the client.

With `--wrk` (Debian package `wrk`), each page is also driven by wrk — 20 connections for
`--seconds`, cycling over the page's URLs with a logged-in session cookie —: a load tool in C
leaves the two cores to the server, where the Python clients above take a share of them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx2 as httpx

CITIES = ["450400", "440100", "320500", "510100", "420100", "450100", "330100", "370200"]
CHAINS = ["sugarcane", "new_energy_vehicle", "green_home", "photovoltaic"]
QUERIES = ["糖业", "机械", "电池", "家居", "医药"]
# characters common in firm names: with the cities, distinct uncached searches
NAME_CHARS = "科技贸易农业机械化工材料电子设备制造食品医药生物能源环保建筑物流服务实业发展工程信息新光华中国广东西南北"
PASSWORD = "Bench-mark-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def page_urls() -> dict[str, list[str]]:
    return {
        "dashboard": [f"/?region={c}" for c in CITIES],
        "diagnosis": [f"/diagnosis?chain={ch}&region={c}" for c in CITIES for ch in CHAINS],
        "search": [f"/enterprises?q={q}&region={c}" for q in QUERIES for c in CITIES[:4]],
        "healthz": ["/healthz"],
    }


def fresh_searches(n: int, seed: int, width: int = 1) -> list[str]:
    """n distinct searches: `width` characters of firm names × a city (width 2 gives
    thousands, so a wrk run never repeats one and the result cache cannot answer it)."""
    chars = list(dict.fromkeys(NAME_CHARS))
    words = chars if width == 1 else [a + b for a in chars for b in chars if a != b]
    pairs = [(w, c) for w in words for c in CITIES]
    random.Random(seed).shuffle(pairs)
    return [f"/enterprises?q={w}&region={c}" for w, c in pairs[:n]]


async def login(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = await client.post(
        "/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token}
    )
    if response.status_code not in (200, 303):
        raise SystemExit(f"login failed: {response.status_code}")


async def run(base: str, users: int, requests: int, seed: int) -> None:
    urls = page_urls()
    clients = [httpx.AsyncClient(base_url=base, timeout=120) for _ in range(users)]
    for client in clients:
        await login(client)

    print("warm-up (first request of each URL, one at a time: the cold cost)")
    for page, paths in urls.items():
        cold = []
        for path in paths:
            t = time.perf_counter()
            response = await clients[0].get(path)
            cold.append(time.perf_counter() - t)
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}")
        print(
            f"  {page:10s} {len(paths):3d} URLs  median {statistics.median(cold) * 1000:8.0f} ms"
            f"  max {max(cold) * 1000:8.0f} ms"
        )

    rng = random.Random(seed)
    plan = [(page, rng.choice(urls[page])) for page in urls for _ in range(requests)]
    plan += [("search_new", path) for path in fresh_searches(requests, seed)]
    rng.shuffle(plan)
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    times: dict[str, list[float]] = {page: [] for page in [*urls, "search_new"]}
    errors = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            page, path = queue.get_nowait()
            t = time.perf_counter()
            response = await client.get(path)
            times[page].append(time.perf_counter() - t)
            errors += response.status_code != 200

    t = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in clients))
    wall = time.perf_counter() - t
    for client in clients:
        await client.aclose()

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    base_p95 = pct(times["healthz"], 0.95)
    print(
        f"\n{users} concurrent users, {len(plan)} requests in {wall:.1f} s "
        f"({len(plan) / wall:.0f} req/s), {errors} non-200"
    )
    print(
        f"{'page':10s} {'n':>5s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} {'p95 / healthz':>14s}"
    )
    for page, values in times.items():
        p95 = pct(values, 0.95)
        print(
            f"{page:10s} {len(values):5d} {pct(values, 0.5):8.0f} {p95:8.0f} "
            f"{pct(values, 0.99):8.0f} {p95 / base_p95:14.1f}"
        )


WRK_SCRIPT = """
local paths = {%s}
local threads = 0
-- each thread starts half-way along from the other: with distinct URLs, no request repeats
setup = function(thread)
  thread:set("id", threads)
  threads = threads + 1
end
init = function(args)
  i = (id or 0) * math.floor(#paths / 2)
end
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%.1f %%.1f %%.1f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def run_wrk(base: str, users: int, seconds: int) -> None:
    async def cookie() -> str:
        async with httpx.AsyncClient(base_url=base) as client:
            await login(client)
            return "; ".join(f"{k}={v}" for k, v in client.cookies.items())

    jar = asyncio.run(cookie())
    urls = page_urls()
    urls["search_new"] = fresh_searches(8000, 7, width=2)
    print(f"\nwrk: {users} connections, {seconds} s per page")
    print(
        f"{'page':10s} {'requests':>9s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} {'p95 / healthz':>14s}"
    )
    results = {}
    for page in ["healthz", "dashboard", "diagnosis", "search", "search_new"]:
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        quoted = [quote(p, safe="/?=&") for p in urls[page]]
        script.write_text(WRK_SCRIPT % ", ".join(f'"{p}"' for p in quoted), "utf-8")
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{users}",
                f"-d{seconds}s",
                "-H",
                f"Cookie: {jar}",
                "-s",
                str(script),
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        script.unlink()
        line = next(x for x in out.splitlines() if x.startswith("RESULT"))
        n, errors, p50, p95, p99 = line.split()[1:]
        results[page] = float(p95)
        print(
            f"{page:10s} {int(n):9d} {float(p50):8.0f} {float(p95):8.0f} {float(p99):8.0f} "
            f"{float(p95) / results['healthz']:14.1f}"
            + (f"  ({errors} errors)" if int(errors) else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True, help="CHAINATLAS_HOME with a warehouse")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200, help="per page")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wrk", action="store_true", help="also measure with wrk")
    parser.add_argument("--seconds", type=int, default=15, help="per page, with --wrk")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (`chainatlas serve --workers`)"
    )
    args = parser.parse_args()
    if not (args.home / "warehouse.duckdb").exists():
        raise SystemExit(f"no warehouse in {args.home}")

    scratch = Path(tempfile.mkdtemp(prefix="bench-web-"))
    env = {
        **os.environ,
        "CHAINATLAS_HOME": str(args.home.resolve()),
        "CHAINATLAS_DATABASE_URL": f"sqlite:///{scratch / 'app.db'}",
        "CHAINATLAS_WEB__SECRET_KEY": "bench",
    }
    cli = [sys.executable, "-m", "chainatlas"]
    subprocess.run(
        [*cli, "users", "add", "bench", "--role", "admin", "--password", PASSWORD],
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        asyncio.run(run(base, args.users, args.requests, args.seed))
        if args.wrk:
            run_wrk(base, args.users, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
