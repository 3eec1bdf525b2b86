"""Web platform latency under concurrent users, against a real server on loopback.

    python benchmarks/bench_web.py --home benchmarks/out/net10m [--users 20] [--requests 400]

Starts `chainatlas serve` (one process, as deployed) on the warehouse in --home with a
throwaway app database and a benchmark user, logs 20 clients in, warms the caches the pages
read (one pass over every URL, timed and reported as the cold cost), then runs the measured
mix with `--users` concurrent clients, each request on its own session's cookie:

- 首页 dashboard (`/?region=…` over the cities below),
- 诊断 diagnosis (`/diagnosis?chain=…&region=…` over cities × chains),
- 企业 search (`/enterprises?q=…&region=…`) over a few repeated queries (answered from the
  result cache after their first time), and `search_new`: every request a query not asked
  before (one character of firm names × a city), so each one scans the warehouse.

Prints p50 / p95 / p99 per page and, as the baseline measured in the same run and under the
same concurrency, the health check `/healthz` (no warehouse, no template): the ratio says
how much of the latency is the page's own work rather than the server and the client.
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


def fresh_searches(n: int, seed: int) -> list[str]:
    pairs = [(ch, c) for ch in dict.fromkeys(NAME_CHARS) for c in CITIES]
    random.Random(seed).shuffle(pairs)
    return [f"/enterprises?q={ch}&region={c}" for ch, c in pairs[:n]]


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True, help="CHAINATLAS_HOME with a warehouse")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200, help="per page")
    parser.add_argument("--seed", type=int, default=1)
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
        [*cli, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL
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
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
