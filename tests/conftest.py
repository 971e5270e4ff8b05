"""Shared fixtures: real SQLite files, a throwaway PostGIS cluster, headless Chromium.

A test that needs PostGIS or Chromium skips with a one-line reason when they are absent, and
fails instead when ``RURAL_REQUIRE_ALL=1`` (CI, after ``make system-deps``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine

from rural import migrate
from rural.db import make_engine
from rural.settings import get_settings
from tests import pgcluster

if TYPE_CHECKING:
    from tests.apiworld import World

REQUIRE_ALL = os.environ.get("RURAL_REQUIRE_ALL") == "1"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason`` on a workstation; fail when everything is required (CI)."""
    if REQUIRE_ALL:
        pytest.fail(f"RURAL_REQUIRE_ALL=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees another's settings or the developer's environment."""
    for key in list(os.environ):
        if key.startswith("RURAL_") and key != "RURAL_REQUIRE_ALL":
            monkeypatch.delenv(key)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pgcluster.Cluster | None]:
    """One PostGIS cluster for the whole run, or None when it cannot start here."""
    reason = pgcluster.unavailable_reason()
    if reason:
        yield None
        return
    cluster = pgcluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgis_url(pg_cluster: pgcluster.Cluster | None) -> Iterator[str]:
    """A fresh, empty database on the throwaway cluster."""
    if pg_cluster is None:
        skip_or_fail(f"PostGIS unavailable: {pgcluster.unavailable_reason()}")
        return
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_cluster.create_database(name)
    yield url
    pg_cluster.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rural.db'}"


@pytest.fixture
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_url: str) -> Iterator[World]:
    """The API test world (tests/apiworld.py), copied into this test's SQLite file. A module
    that needs it changed overrides ``world`` and takes this one as its argument."""
    from tests.apiworld import copy_world

    built = copy_world(tmp_path_factory.getbasetemp(), sqlite_url)
    yield built
    built.engine.dispose()


@pytest.fixture(params=["sqlite", "postgis"])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs on a real SQLite file and on the throwaway PostGIS."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgis_url"))


@pytest.fixture
def make_db() -> Iterator[Callable[[str], Engine]]:
    """Factory: a migrated engine for a URL; disposed at the end of the test."""
    engines: list[Engine] = []

    def _make(url: str) -> Engine:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engines.append(engine)
        return engine

    yield _make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def engine(sqlite_url: str, make_db: Callable[[str], Engine]) -> Engine:
    """A migrated, empty SQLite database in a real file."""
    return make_db(sqlite_url)


@pytest.fixture
def any_engine(any_db_url: str, make_db: Callable[[str], Engine]) -> Engine:
    """A migrated, empty database: SQLite file and PostGIS (parametrized)."""
    return make_db(any_db_url)


def chromium_path() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright (no ``playwright install`` needed)."""
    path = chromium_path()
    if path is None:
        skip_or_fail("Chromium not installed (make system-deps)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed")
        raise
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
