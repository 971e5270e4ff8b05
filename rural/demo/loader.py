"""``load_demo``: put a generated demo into a database (refusing one that holds real data) and
give its demo users a login (see ``rural.demo.logins``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, MetaData, text

from rural import migrate, users
from rural import models as m
from rural.bulk import bulk_load, checkpoint
from rural.demo import logins
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
    login_file: Path | None = None,
) -> str:
    """Generate the demo for ``params`` into ``engine``'s database; returns a short report with
    the demo users' logins.

    Refuses (DemoDataError) a database holding data not marked demo. With ``if_missing``, does
    nothing when the same parameters are already loaded but reports the saved logins (resetting
    the demo users' password when the file is gone); otherwise rebuilds the database. Every
    demo user gets one new random password, saved in ``login_file`` (default: beside the
    database, see ``rural.demo.logins``) with mode 0600.
    """
    started = time.perf_counter()
    path = login_file or logins.login_file_for(engine.url.render_as_string(hide_password=False))
    migrate.upgrade(engine)
    state = database_state(engine)
    refuse_real_data(state)
    if if_missing and state.is_demo and state.params_json == params.to_json():
        existing = f"示例数据已存在（参数相同：{_describe(params)}），未重新生成。"
        return existing + "\n" + _saved_logins(engine, path, actor=actor)
    password = logins.new_password()
    password_hash = users.hash_password(password)
    with _progress(console) as bar:
        gen_task = bar.add_task("生成示例数据", total=len(STEPS)) if bar else None

        def generated(step: str) -> None:
            if bar is not None and gen_task is not None:
                bar.update(gen_task, advance=1, description=f"生成示例数据: {step}")

        dataset = generate(params, progress=generated)
        _set_password_hash(dataset, password_hash)
        if state.has_data:
            reset_database(engine)
        write_task = bar.add_task("写入数据库", total=dataset.rows) if bar else None

        def written(rows: int) -> None:
            if bar is not None and write_task is not None:
                bar.update(write_task, advance=rows)

        counts = write_dataset(engine, dataset, actor=actor, progress=written)
    content = logins.login_text(logins.demo_users(engine), password)
    logins.write_login_file(path, content)
    report = _report(dataset, counts, time.perf_counter() - started)
    return f"{report}\n{content}{logins.saved_note(path)}"


def _set_password_hash(dataset: DemoDataset, password_hash: str) -> None:
    """Every demo user gets the same hash (of the one password of this load)."""
    table = dataset.tables["user_account"]
    table.columns["password_hash"] = [password_hash] * len(table)


def _saved_logins(engine: Engine, path: Path, *, actor: str) -> str:
    """The logins saved beside the database; when the file is gone, new ones (the demo users'
    password reset and saved again)."""
    if path.exists():
        content = path.read_text(encoding="utf-8")
        report = content + logins.saved_note(path)
        password = logins.password_in(content)
        with engine.connect() as conn:
            stored = conn.execute(
                text("SELECT password_hash FROM user_account WHERE username = :u"),
                {"u": logins.demo_usernames()[0]},
            ).scalar()
        if password is None or not users.verify_password(password, stored):
            report += (
                f"\n注意：{path} 中的密码与数据库中的示例账号不符（可能已在系统中修改）。"
                "删除该文件后再运行 rural demo --if-missing 可重置示例账号密码。"
            )
        return report
    note = f"登录说明文件 {path} 不存在，已重置示例账号密码"
    password = logins.reset_passwords(engine, actor=actor, note=note)
    content = logins.login_text(logins.demo_users(engine), password)
    logins.write_login_file(path, content)
    return f"{note}。\n{content}{logins.saved_note(path)}"


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
