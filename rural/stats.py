"""Counts per kind of object, for ``rural stats`` and the status page."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlmodel import SQLModel

from rural import models as m
from rural.enums import UnitLevel

_KINDS: list[tuple[str, str, type[SQLModel]]] = [
    ("households", "户", m.Household),
    ("household_toilets", "户厕", m.HouseholdToilet),
    ("public_toilets", "公厕", m.PublicToilet),
    ("collection_points", "垃圾收集点", m.CollectionPoint),
    ("transfer_stations", "转运站", m.TransferStation),
    ("treatment_facilities", "处理设施", m.TreatmentFacility),
    ("chain_links", "收运链接", m.ChainLink),
    ("collection_logs", "收运记录", m.CollectionLog),
    ("tonnage_records", "吨位记录", m.TonnageRecord),
    ("sorting_inspections", "分类抽查", m.SortingInspection),
    ("sewage_facilities", "污水设施", m.SewageFacility),
    ("sewage_connections", "污水接户", m.SewageConnection),
    ("sewage_inspections", "污水巡检", m.SewageInspection),
    ("effluent_samples", "出水水样", m.EffluentSample),
    ("courtyard_ratings", "美丽庭院评定", m.CourtyardRating),
    ("problems", "问题", m.Problem),
    ("civilized_titles", "文明村镇称号", m.CivilizedTitle),
    ("users", "用户", m.User),
    ("change_log", "变更记录", m.ChangeLog),
]


def count_kinds(engine: Engine) -> list[tuple[str, str, int]]:
    """(kind, Chinese label, count) for each unit level and each kind of object."""
    rows: list[tuple[str, str, int]] = []
    with engine.connect() as conn:
        unit_table = m.Unit.__table__  # type: ignore[attr-defined]
        grouped = conn.execute(
            select(unit_table.c.level, func.count()).group_by(unit_table.c.level)
        ).all()
        by_level = {str(level): int(count) for level, count in grouped}
        for level in UnitLevel:
            rows.append((f"units:{level.value}", level.label, by_level.get(str(level), 0)))
        for kind, label, model in _KINDS:
            table = model.__table__  # type: ignore[attr-defined]
            count = conn.execute(select(func.count()).select_from(table)).scalar_one()
            rows.append((kind, label, int(count)))
    return rows
