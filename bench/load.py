"""Benchmark: generating the demo dataset and loading it, beside a bare-driver baseline.

Figures (value, then the baseline measured in the same run):

- ``load.generate_s``: generating the dataset (timed when its cache was built), beside the bare
  sqlite3 insert of the same rows;
- ``load.cache_read_s``: reading the cached dataset, beside generating it;
- ``load.sqlite_s`` / ``load.sqlite_rows_per_s``: ``rural.demo.loader.write_dataset`` (rural.bulk:
  conversion + executemany, one transaction, WAL checkpoint) into a fresh migrated SQLite file,
  beside plain ``sqlite3.executemany`` of prepared tuples into the same schema with the same
  pragmas (WAL, foreign keys on, synchronous off) and the same final checkpoint;
- ``load.sqlite_size_mb``: the database file, beside the baseline's;
- ``load.orm_vs_bulk_s``: 5,000 households through rural.bulk, beside the same through the ORM;
- ``load.postgis_s``: the same load into PostGIS (COPY), beside plain psycopg COPY of prepared
  tuples with the same foreign keys and indexes deferred, when a throwaway cluster can start
  here (tests/pgcluster.py) and the run was not started with ``--no-postgis``.
"""

from __future__ import annotations

import sqlite3
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bench.framework import Context, Figure
from rural import bulk, migrate
from rural import models as m
from rural.db import database_size_bytes, make_engine
from rural.demo import DemoDataset
from rural.demo.loader import write_dataset

BASELINE_CHUNK = 500_000
ORM_SAMPLE = 5_000
SQLITE_BASELINE = "plain sqlite3 executemany of prepared tuples, same schema and pragmas"
PG_BASELINE = "plain psycopg COPY of prepared tuples, same schema, same deferred keys/indexes"


def say(text: str) -> None:
    print(f"  [load] {text}", file=sys.stderr, flush=True)


def run(ctx: Context) -> list[Figure]:
    cached = ctx.cached
    dataset = cached.dataset
    rows = dataset.rows
    say(f"dataset: {rows:,} rows ({'cached' if cached.read_seconds is not None else 'generated'})")
    folder = ctx.scratch_dir("load")

    bulk_path = folder / "bulk.db"
    bulk_seconds, bulk_cpu = _load_sqlite(dataset, bulk_path)
    say(f"rural.bulk into SQLite: {bulk_seconds:.1f} s (CPU {bulk_cpu:.1f} s)")
    base_path = folder / "baseline.db"
    base_seconds, base_cpu = _baseline_sqlite(dataset, base_path)
    say(f"bare sqlite3 executemany: {base_seconds:.1f} s (CPU {base_cpu:.1f} s)")
    cpu_note = f"CPU {bulk_cpu:.1f} s vs {base_cpu:.1f} s (SQLite runs in this process)"
    bulk_size = _file_size(bulk_path)
    base_size = _file_size(base_path)
    base_path.unlink()
    ctx.adopt_database(bulk_path)

    figures = [
        Figure(
            "load.generate_s",
            cached.generation_seconds,
            "s",
            f"{rows:,} rows; timed when the cache was built ({cached.built_at})",
            base_seconds,
            "sqlite3 insert of the same rows (this run)",
        ),
    ]
    if cached.read_seconds is not None:
        figures.append(
            Figure(
                "load.cache_read_s",
                cached.read_seconds,
                "s",
                "unpickling the cached dataset",
                cached.generation_seconds,
                "generating it",
            )
        )
    figures += [
        Figure(
            "load.sqlite_s",
            bulk_seconds,
            "s",
            f"write_dataset; {cpu_note}",
            base_seconds,
            SQLITE_BASELINE,
        ),
        Figure(
            "load.sqlite_rows_per_s",
            rows / bulk_seconds,
            "rows/s",
            "write_dataset",
            rows / base_seconds,
            SQLITE_BASELINE,
        ),
        Figure(
            "load.sqlite_size_mb",
            bulk_size / 1e6,
            "MB",
            "database file after the load",
            base_size / 1e6,
            "baseline's file",
        ),
        _orm_versus_bulk(dataset, folder),
    ]
    if ctx.postgis:
        figures += _postgis(dataset)
    else:
        say("PostGIS skipped (--no-postgis)")
    return figures


def _file_size(path: Path) -> int:
    engine = make_engine(f"sqlite:///{path}")
    try:
        return database_size_bytes(engine)
    finally:
        engine.dispose()


def _fresh_sqlite(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    return engine


def _load_sqlite(dataset: DemoDataset, path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of write_dataset into a fresh migrated file."""
    engine = _fresh_sqlite(path)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        write_dataset(engine, dataset, actor="bench")
        return time.perf_counter() - start, time.process_time() - cpu
    finally:
        engine.dispose()


def _baseline_sqlite(dataset: DemoDataset, path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of the driver calls only; preparing the tuples is not timed."""
    engine = _fresh_sqlite(path)
    dialect = engine.dialect
    engine.dispose()
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("PRAGMA synchronous=OFF")
        timed = cpu = 0.0
        start, started_cpu = time.perf_counter(), time.process_time()
        con.execute("BEGIN IMMEDIATE")
        timed += time.perf_counter() - start
        cpu += time.process_time() - started_cpu
        for table in dataset.tables.values():
            names, chunks = bulk.prepared_rows(
                table.model, table.columns, dialect, chunk_rows=BASELINE_CHUNK
            )
            sql = (
                f'INSERT INTO "{table.model.__tablename__}" ({", ".join(names)})'
                f" VALUES ({', '.join('?' for _ in names)})"
            )
            for chunk in chunks:
                start, started_cpu = time.perf_counter(), time.process_time()
                con.executemany(sql, chunk)
                timed += time.perf_counter() - start
                cpu += time.process_time() - started_cpu
        start, started_cpu = time.perf_counter(), time.process_time()
        con.execute("COMMIT")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        timed += time.perf_counter() - start
        cpu += time.process_time() - started_cpu
        return timed, cpu
    finally:
        con.close()


def _orm_versus_bulk(dataset: DemoDataset, folder: Path) -> Figure:
    """The first households and their villages: through the ORM, and through rural.bulk."""
    household = dataset.tables["household"]
    sample = {name: _head(column, ORM_SAMPLE) for name, column in household.columns.items()}
    units = dataset.tables["unit"]
    unit_rows = bulk.materialize(units.columns)
    household_rows = bulk.materialize(sample)

    orm = _fresh_sqlite(folder / "orm.db")
    fast = _fresh_sqlite(folder / "orm_bulk.db")
    try:
        bulk.bulk_insert(orm, m.Unit, unit_rows)
        bulk.bulk_insert(fast, m.Unit, unit_rows)
        start = time.perf_counter()
        with Session(orm) as session:
            session.add_all([m.Household(**row) for row in household_rows])
            session.commit()
        orm_seconds = time.perf_counter() - start
        start = time.perf_counter()
        bulk.bulk_insert(fast, m.Household, sample)
        bulk_seconds = time.perf_counter() - start
    finally:
        orm.dispose()
        fast.dispose()
    return Figure(
        "load.orm_vs_bulk_s",
        bulk_seconds,
        "s",
        f"{len(household_rows):,} households through rural.bulk",
        orm_seconds,
        "the same through the ORM (add_all + commit)",
    )


def _head(column: Any, n: int) -> Any:
    if isinstance(column, bulk.Categorical):
        return bulk.Categorical(column.codes[:n], column.categories)
    if isinstance(column, bulk.Points):
        return bulk.Points(column.x[:n], column.y[:n])
    return column[:n]


def _postgis(dataset: DemoDataset) -> list[Figure]:
    from tests import pgcluster

    reason = pgcluster.unavailable_reason()
    if reason:
        say(f"PostGIS skipped: {reason}")
        return []
    say("starting a throwaway PostGIS cluster")
    cluster = pgcluster.start()
    try:
        names = [f"bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
        engines = [make_engine(cluster.create_database(name)) for name in names]
        for engine in engines:
            migrate.upgrade(engine)
        start = time.perf_counter()
        write_dataset(engines[0], dataset, actor="bench")
        bulk_seconds = time.perf_counter() - start
        say(f"rural.bulk into PostGIS: {bulk_seconds:.1f} s")
        base_seconds = _baseline_postgis(dataset, engines[1])
        say(f"bare psycopg COPY: {base_seconds:.1f} s")
        sizes = [database_size_bytes(engine) for engine in engines]
        for engine in engines:
            engine.dispose()
    finally:
        cluster.stop()
    rows = dataset.rows
    return [
        Figure(
            "load.postgis_s",
            bulk_seconds,
            "s",
            "write_dataset (COPY, then ANALYZE)",
            base_seconds,
            PG_BASELINE,
        ),
        Figure(
            "load.postgis_rows_per_s",
            rows / bulk_seconds,
            "rows/s",
            "write_dataset",
            rows / base_seconds,
            PG_BASELINE,
        ),
        Figure(
            "load.postgis_size_mb",
            sizes[0] / 1e6,
            "MB",
            "pg_database_size after the load",
            sizes[1] / 1e6,
            "baseline's database",
        ),
    ]


def _baseline_postgis(dataset: DemoDataset, engine: Engine) -> float:
    """Bare COPY of prepared tuples, with the same dropping and re-adding of foreign keys and
    secondary indexes around it; preparing the tuples is not timed."""
    timed = 0.0
    start = time.perf_counter()
    with bulk.bulk_load(engine, defer_foreign_keys=True, defer_indexes=True) as writer:
        timed += time.perf_counter() - start
        dbapi: Any = writer.connection.connection.driver_connection
        with dbapi.cursor() as cursor:
            for table in dataset.tables.values():
                names, chunks = bulk.prepared_rows(
                    table.model, table.columns, engine.dialect, chunk_rows=BASELINE_CHUNK
                )
                sql = f'COPY "{table.model.__tablename__}" ({", ".join(names)}) FROM STDIN'
                for chunk in chunks:
                    start = time.perf_counter()
                    with cursor.copy(sql) as copy:
                        for row in chunk:
                            copy.write_row(row)
                    timed += time.perf_counter() - start
        start = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return timed + time.perf_counter() - start
