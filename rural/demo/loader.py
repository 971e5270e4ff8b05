"""``load_demo``: put a generated demo into a database, refusing one that holds real data."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, MetaData, text

from rural import migrate
from rural import models as m
from rural.bulk import bulk_load, checkpoint
from rural.demo.generate import STEPS, DemoDataset, generate
from rural.demo.params import DemoParams
from rural.enums import ChangeAction
from rural.errors import DemoDataError

# Tables that are not data: Alembic's bookkeeping and PostGIS's own.
NOT_DATA = frozenset({"alembic_version", "spatial_ref_sys"})


@dataclass(frozen=True)
class DatabaseState:
    is_demo: bool
    params_json: str | None
    nonempty: dict[str, bool]

    @property
    def has_data(self) -> bool:
        return any(self.nonempty.values())


def database_state(engine: Engine) -> DatabaseState:
    """Whether the (migrated) database is empty, a demo, or holds real data."""
    tables = [t for t in m.metadata.sorted_tables if t.name not in NOT_DATA]
    with engine.connect() as conn:
        nonempty = {
            t.name: conn.execute(text(f"SELECT 1 FROM {t.name} LIMIT 1")).first() is not None
            for t in tables
        }
        info: dict[str, str] = dict(
            conn.execute(
                text("SELECT key, value FROM dataset_info WHERE key IN ('demo', 'params')")
            ).all()
        )
    return DatabaseState(
        is_demo=info.get("demo") == "true", params_json=info.get("params"), nonempty=nonempty
    )


def refuse_real_data(state: DatabaseState) -> None:
    if state.has_data and not state.is_demo:
        tables = "、".join(name for name, full in state.nonempty.items() if full)
        msg = (
            f"数据库中已有非示例数据（{tables}），拒绝写入示例数据；请换用空数据库。"
            f" (The database holds data that is not demo data, in: "
            f"{', '.join(n for n, f in state.nonempty.items() if f)}; dataset_info has no"
            " demo='true'. Refusing to overwrite it: point RURAL_DATABASE_URL at an empty"
            " database.)"
        )
        raise DemoDataError(msg)


def reset_database(engine: Engine) -> None:
    """Drop every table (the change log refuses DELETE) and run the migrations again."""
    postgresql = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        dbapi: Any = conn.connection.driver_connection
        if not postgresql:
            dbapi.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                reflected = MetaData()
                reflected.reflect(conn)
                for name in NOT_DATA - {"alembic_version"}:
                    if name in reflected.tables:
                        reflected.remove(reflected.tables[name])
                reflected.drop_all(conn)
                if postgresql:
                    _drop_functions(conn)
        finally:
            if not postgresql:
                dbapi.execute("PRAGMA foreign_keys=ON")
        if not postgresql:
            dbapi.execute("VACUUM")
    migrate.upgrade(engine)


def _drop_functions(conn: Any) -> None:
    """Functions the migrations created (trigger functions), not those of extensions."""
    rows = conn.exec_driver_sql(
        "SELECT p.oid::regprocedure::text FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = current_schema()"
        " AND NOT EXISTS (SELECT 1 FROM pg_depend d"
        "   WHERE d.objid = p.oid AND d.deptype = 'e')"
    ).all()
    for (signature,) in rows:
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {signature} CASCADE")


def write_dataset(
    engine: Engine,
    dataset: DemoDataset,
    *,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Bulk-load every table of ``dataset`` and one change-log row, in one transaction, with
    the secondary indexes (and PostgreSQL's foreign keys) created again after the rows."""
    with bulk_load(engine, defer_foreign_keys=True, defer_indexes=True) as writer:
        for table in dataset.tables.values():
            writer.insert(table.model, table.columns, progress=progress)
        counts = dict(writer.counts)
        writer.insert(
            m.ChangeLog,
            [
                {
                    "actor": actor,
                    "action": ChangeAction.IMPORT,
                    "object_type": "dataset",
                    "object_id": "demo",
                    "new": {"params": dataset.params.to_dict(), "counts": counts},
                    "note": "生成示例数据",
                }
            ],
        )
    checkpoint(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return counts


@contextmanager
def _progress(console: Console | None) -> Iterator[Progress | None]:
    if console is None:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        yield bar


def load_demo(
    engine: Engine,
    params: DemoParams,
    *,
    actor: str,
    if_missing: bool = False,
    console: Console | None = None,
) -> str:
    """Generate the demo for ``params`` into ``engine``'s database; returns a short report.

    Refuses (DemoDataError) a database holding data not marked demo. With ``if_missing``, does
    nothing when the same parameters are already loaded; otherwise rebuilds the database.
    """
    started = time.perf_counter()
    migrate.upgrade(engine)
    state = database_state(engine)
    refuse_real_data(state)
    if if_missing and state.is_demo and state.params_json == params.to_json():
        return f"示例数据已存在（参数相同：{_describe(params)}），未重新生成。"
    with _progress(console) as bar:
        gen_task = bar.add_task("生成示例数据", total=len(STEPS)) if bar else None

        def generated(step: str) -> None:
            if bar is not None and gen_task is not None:
                bar.update(gen_task, advance=1, description=f"生成示例数据: {step}")

        dataset = generate(params, progress=generated)
        if state.has_data:
            reset_database(engine)
        write_task = bar.add_task("写入数据库", total=dataset.rows) if bar else None

        def written(rows: int) -> None:
            if bar is not None and write_task is not None:
                bar.update(write_task, advance=rows)

        counts = write_dataset(engine, dataset, actor=actor, progress=written)
    return _report(dataset, counts, time.perf_counter() - started)


def _describe(params: DemoParams) -> str:
    return f"{params.villages:,} 个村、{params.households:,} 户、种子 {params.seed}"


def _report(dataset: DemoDataset, counts: dict[str, int], seconds: float) -> str:
    units = dataset.tables["unit"].columns["level"]
    levels = list(units)  # type: ignore[arg-type]
    manifest = dataset.manifest
    counties = levels.count("county")
    return (
        f"已生成示例数据（{_describe(dataset.params)}）：{counties} 个县、"
        f"{levels.count('town')} 个乡镇、{levels.count('village')} 个村级单位、"
        f"{counts.get('household', 0):,} 户，共写入 {sum(counts.values()):,} 行，"
        f"用时 {seconds:.1f} 秒。\n"
        f"埋设的问题：收运断链 {len(manifest.chain_breaks)} 处、污水设施故障/停运"
        f" {len(manifest.faulty_sewage_facilities)} 个、"
        f"不达标水样 {len(manifest.failing_samples)} 份、"
        f"逾期未销号问题 {len(manifest.overdue_problems)} 个（清单见 dataset_info.demo_manifest）。"
    )
