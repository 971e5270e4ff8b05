"""No lost updates, against a real server process (uvicorn running the app, SQLite WAL):

* many clients update one facility with the same ETag at once: exactly one wins per round, the
  others get 412, and the change log holds exactly the successful writes;
* ``kill -9`` in the middle of a burst of writes loses no acknowledged write.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import httpx
import pytest
from shapely.geometry import Point
from sqlalchemy import text
from sqlmodel import Session, select

from rural.db import make_engine, write_session
from rural.enums import CollectionPointKind, FacilityStatus
from rural.models import ChangeLog, CollectionPoint, StatusChange
from tests.apiworld import VILLAGE_A1, World, running_server

ROUNDS = 5
CLIENTS = 8
BURST_CLIENTS = 6
KILL_AFTER_ACKS = 60

pytestmark = pytest.mark.slow


def _toggle(status: str) -> str:
    return "fault" if status == "operating" else "operating"


def _race(
    clients: list[httpx.Client], url: str, body: dict[str, str], headers: dict[str, str]
) -> list[int]:
    """Every client sends the same update at once (released together by a barrier)."""
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []
    lock = threading.Lock()

    def update(client: httpx.Client) -> None:
        barrier.wait()
        response = client.post(url, json=body, headers=headers)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=update, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_same_etag_exactly_one_wins_per_round(world: World, tmp_path: Path) -> None:
    point = world.inside.ids["collection_point"]
    headers = world.bearer("cadre_a")
    url_path = f"/api/collection-points/{point}"
    world.engine.dispose()  # the server owns the database while it runs
    outcomes: list[list[int]] = []
    with running_server(world.settings.database_url, tmp_path) as server:
        clients = [httpx.Client(base_url=server.base_url, timeout=30) for _ in range(CLIENTS)]
        try:
            for _ in range(ROUNDS):
                current = clients[0].get(url_path, headers=headers)
                assert current.status_code == 200
                etag, status = current.headers["etag"], current.json()["status"]
                body = {"to_status": _toggle(status), "note": "并发"}
                statuses = _race(clients, url_path + "/status", body, {**headers, "If-Match": etag})
                outcomes.append(sorted(statuses))
        finally:
            for client in clients:
                client.close()
    expected = sorted([200] + [412] * (CLIENTS - 1))
    assert outcomes == [expected] * ROUNDS, outcomes
    engine = make_engine(world.settings.database_url)
    try:
        with Session(engine) as session:
            logs = session.exec(
                select(ChangeLog).where(
                    ChangeLog.object_type == "collection_point", ChangeLog.object_id == str(point)
                )
            ).all()
            changes = session.exec(
                select(StatusChange).where(StatusChange.object_id == point)
            ).all()
            final = session.get(CollectionPoint, point)
            assert final is not None
        assert len(logs) == ROUNDS
        assert len(changes) == ROUNDS
        assert final.version == 1 + ROUNDS
    finally:
        engine.dispose()
    print(f"\nsame ETag: {ROUNDS} rounds x {CLIENTS} clients -> {outcomes[0]} per round")


def _add_points(world: World, n: int) -> list[int]:
    ids = []
    with write_session(world.engine) as session:
        for i in range(n):
            point = CollectionPoint(
                village_code=VILLAGE_A1,
                name=f"压测点{i}",
                kind=CollectionPointKind.POINT,
                status=FacilityStatus.OPERATING,
                geom=Point(119.01 + i * 0.001, 28.01),
            )
            session.add(point)
            session.flush()
            ids.append(int(point.id or 0))
    return ids


def test_kill_9_loses_no_acknowledged_write(world: World, tmp_path: Path) -> None:
    points = _add_points(world, BURST_CLIENTS)
    headers = world.bearer("cadre_a")
    world.engine.dispose()
    acked: list[tuple[int, int, str]] = []  # (point, version after, note)
    lock = threading.Lock()
    enough = threading.Event()
    with running_server(world.settings.database_url, tmp_path) as server:

        def burst(point: int) -> None:
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                got = client.get(f"/api/collection-points/{point}", headers=headers)
                version, status = int(got.headers["etag"].strip('"')), got.json()["status"]
                n = 0
                while True:
                    n += 1
                    note = f"p{point}-n{n}"
                    try:
                        response = client.post(
                            f"/api/collection-points/{point}/status",
                            json={"to_status": _toggle(status), "note": note},
                            headers={**headers, "If-Match": f'"{version}"'},
                        )
                    except httpx.HTTPError:
                        return  # the server is gone
                    if response.status_code != 200:
                        return
                    version = int(response.headers["etag"].strip('"'))
                    status = response.json()["status"]
                    with lock:
                        acked.append((point, version, note))
                        if len(acked) >= KILL_AFTER_ACKS:
                            enough.set()

        threads = [threading.Thread(target=burst, args=(p,)) for p in points]
        for thread in threads:
            thread.start()
        assert enough.wait(timeout=120), "the burst did not reach the kill point"
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        for thread in threads:
            thread.join(timeout=60)
        with lock:
            acknowledged = list(acked)
    assert server.process.returncode == -signal.SIGKILL
    engine = make_engine(world.settings.database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        with Session(engine) as session:
            notes = set(session.exec(select(ChangeLog.note)).all())
            versions = {
                p.id: p.version
                for p in session.exec(select(CollectionPoint).where(CollectionPoint.id.in_(points)))  # type: ignore[union-attr]
            }
    finally:
        engine.dispose()
    lost = [a for a in acknowledged if a[2] not in notes]
    assert not lost, f"{len(lost)} acknowledged writes lost: {lost[:5]}"
    for point, version, _ in acknowledged:
        assert versions[point] >= version
    print(f"\nkill -9 after {len(acknowledged)} acknowledged writes: 0 lost")
