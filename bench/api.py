"""Benchmark: the web service under concurrent clients, on SQLite.

A real ``rural serve`` process (uvicorn) on a copy of the scale's database. Each of
``CLIENTS`` asyncio clients owns one collection point; in the same run:

- ``api.get_rps`` / ``api.get_p50_ms`` / ``api.get_p99_ms``: an authenticated GET of a
  collection point (the object's detail with its ETag);
- ``api.status_rps`` / ``api.status_p50_ms`` / ``api.status_p99_ms``: status updates of the
  same objects (POST .../status with If-Match; each is committed with the change log and the
  dated status history, synchronous=FULL, before the answer), beside the GET figures.

Target: status updates at least ``TARGET_RATIO`` x the GET's throughput. Bounded in requests,
loopback only.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from statistics import quantiles

import httpx
from sqlmodel import Session, col, select

from bench.framework import Context, Figure
from rural import migrate, users
from rural.db import make_engine, write_session
from rural.enums import FacilityStatus, Role, UnitLevel
from rural.models import CollectionPoint, Unit
from rural.permissions import Actor

CLIENTS = 8
REQUESTS_PER_CLIENT = 150
WARMUP_PER_CLIENT = 10
TARGET_RATIO = 0.3
USERNAME = "bench_admin"
PASSWORD = "bench password 1"  # a throwaway user in a scratch copy


def say(text: str) -> None:
    print(f"  [api] {text}", file=sys.stderr, flush=True)


def _prepare(database: Path) -> list[int]:
    """A county admin and the operating collection points the clients will own."""
    engine = make_engine(f"sqlite:///{database}")
    try:
        migrate.upgrade(engine)
        with Session(engine) as session:
            county = session.exec(
                select(Unit).where(Unit.level == UnitLevel.COUNTY).order_by(col(Unit.code))
            ).first()
            points = session.exec(
                select(CollectionPoint.id)
                .where(CollectionPoint.status == FacilityStatus.OPERATING)
                .order_by(col(CollectionPoint.id))
                .limit(CLIENTS)
            ).all()
        if county is None or len(points) < CLIENTS:
            msg = "the bench database needs a county and operating collection points"
            raise RuntimeError(msg)
        with write_session(engine) as session:
            if users.user_by_name(session, USERNAME) is None:
                users.create_user(
                    session,
                    actor=Actor.operator("bench"),
                    username=USERNAME,
                    role=Role.COUNTY_ADMIN,
                    unit_code=county.code,
                    password=PASSWORD,
                )
        return [int(p) for p in points if p is not None]
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(database: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RURAL_")}
    env["RURAL_DATABASE_URL"] = f"sqlite:///{database}"
    rural = Path(sys.executable).parent / "rural"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(rural), "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if process.poll() is not None:
            msg = f"server exited: {log.read_text(errors='replace')[-2000:]}"
            raise RuntimeError(msg)
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    msg = "server did not start"
    raise RuntimeError(msg)


async def _gets(
    client: httpx.AsyncClient, point: int, n: int, headers: dict[str, str]
) -> list[float]:
    latencies = []
    for _ in range(n):
        start = time.perf_counter()
        response = await client.get(f"/api/collection-points/{point}", headers=headers)
        latencies.append(time.perf_counter() - start)
        response.raise_for_status()
    return latencies


async def _updates(
    client: httpx.AsyncClient, point: int, n: int, headers: dict[str, str]
) -> list[float]:
    current = await client.get(f"/api/collection-points/{point}", headers=headers)
    etag, status = current.headers["etag"], current.json()["status"]
    latencies = []
    for i in range(n):
        target = "fault" if status == "operating" else "operating"
        start = time.perf_counter()
        response = await client.post(
            f"/api/collection-points/{point}/status",
            json={"to_status": target, "note": f"bench {i}"},
            headers={**headers, "If-Match": etag},
        )
        latencies.append(time.perf_counter() - start)
        response.raise_for_status()
        etag, status = response.headers["etag"], response.json()["status"]
    return latencies


async def _phase(
    base: str, points: list[int], headers: dict[str, str], kind: str, n: int
) -> tuple[float, list[float]]:
    limits = httpx.Limits(max_connections=len(points), max_keepalive_connections=len(points))
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        work = _gets if kind == "get" else _updates
        start = time.perf_counter()
        results = await asyncio.gather(*(work(client, p, n, headers) for p in points))
        elapsed = time.perf_counter() - start
    latencies = [x for r in results for x in r]
    return len(latencies) / elapsed, latencies


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    cuts = quantiles(latencies, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def run(ctx: Context) -> list[Figure]:
    folder = ctx.scratch_dir("api")
    database = folder / "api.db"
    shutil.copyfile(ctx.database(), database)
    points = _prepare(database)
    process, base = _start_server(database, folder / "server.log")
    try:
        token = httpx.post(
            base + "/auth/token", data={"username": USERNAME, "password": PASSWORD}, timeout=30
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        asyncio.run(_phase(base, points, headers, "get", WARMUP_PER_CLIENT))
        get_rps, get_lat = asyncio.run(_phase(base, points, headers, "get", REQUESTS_PER_CLIENT))
        say(f"GET: {get_rps:.0f}/s over {len(get_lat)} requests")
        put_rps, put_lat = asyncio.run(_phase(base, points, headers, "update", REQUESTS_PER_CLIENT))
        say(f"status updates: {put_rps:.0f}/s over {len(put_lat)} requests")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    get_p50, get_p99 = _percentiles(get_lat)
    put_p50, put_p99 = _percentiles(put_lat)
    ratio = put_rps / get_rps
    verdict = "MET" if ratio >= TARGET_RATIO else "MISSED"
    load = os.getloadavg()[0]
    shape = f"{CLIENTS} concurrent clients x {REQUESTS_PER_CLIENT} requests, load avg {load:.1f}"
    get_label = "authenticated GET of the same objects, same run"
    return [
        Figure("api.get_rps", get_rps, "req/s", f"authenticated GET detail; {shape}"),
        Figure("api.get_p50_ms", get_p50, "ms", "GET latency, median"),
        Figure("api.get_p99_ms", get_p99, "ms", "GET latency, 99th percentile"),
        Figure(
            "api.status_rps",
            put_rps,
            "req/s",
            f"status update with If-Match, committed (WAL, synchronous=FULL) with change log "
            f"and history before the answer; target >= {TARGET_RATIO} x GET: {verdict}",
            baseline=get_rps,
            baseline_label=get_label,
        ),
        Figure(
            "api.status_p50_ms",
            put_p50,
            "ms",
            "status update latency, median",
            baseline=get_p50,
            baseline_label="GET median",
        ),
        Figure(
            "api.status_p99_ms",
            put_p99,
            "ms",
            "status update latency, 99th percentile",
            baseline=get_p99,
            baseline_label="GET 99th percentile",
        ),
    ]
