"""Which units count as rural villages 村 for the living-environment indicators.

The rule is data (``[villages]`` in ``rules/indicators.toml``; DOMAIN.md, configurable): every
village-level unit whose village part (digits 10-12) falls in a configured range (default
200-399, 村委会), plus every village-level unit whose urban-rural code 城乡分类代码 starts with a
configured prefix (default ``2``: 210 乡中心区, 220 村庄); then a unit with ``rural_override``
True is added and one with ``rural_override`` False removed (村改居 communities still farming,
or the reverse). Only units valid on the day asked (``valid_from <= day < valid_to``) count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from rural import codes
from rural.enums import UnitLevel
from rural.models import Unit, UnitSuccessor
from rural.rules_loader import check_keys, fail, read_rules, str_list

VILLAGE_COLUMNS = ["code", "name", "town_code", "urban_rural_code", "rural_override"]


@dataclass(frozen=True)
class VillageRule:
    village_parts: tuple[tuple[int, int], ...] = ((200, 399),)
    urban_rural_prefixes: tuple[str, ...] = ("2",)

    def includes(
        self, code: str, urban_rural_code: str | None = None, rural_override: bool | None = None
    ) -> bool:
        """Whether one village-level unit counts as a rural village."""
        if rural_override is not None:
            return rural_override
        part = int(code[9:12])
        if any(lo <= part <= hi for lo, hi in self.village_parts):
            return True
        return bool(urban_rural_code) and any(
            str(urban_rural_code).startswith(p) for p in self.urban_rural_prefixes
        )

    def mask(self, units: pd.DataFrame) -> pd.Series:
        """Vectorised :meth:`includes` over a frame with code, urban_rural_code, rural_override."""
        part = units["code"].str.slice(9, 12).astype(int)
        by_part = pd.Series(False, index=units.index)
        for lo, hi in self.village_parts:
            by_part |= part.between(lo, hi)
        urc = units["urban_rural_code"].fillna("").astype(str)
        by_urc = pd.Series(False, index=units.index)
        for prefix in self.urban_rural_prefixes:
            by_urc |= urc.str.startswith(prefix) & (urc != "")
        default = by_part | by_urc
        override = units["rural_override"]
        forced_in = override.eq(True) & override.notna()
        forced_out = override.eq(False) & override.notna()
        return (default | forced_in) & ~forced_out


def parse_village_rule(data: Mapping[str, Any], *, source: str) -> VillageRule:
    """The ``[villages]`` table of the indicators rules file."""
    entry = "villages"
    check_keys(data, {"village_parts", "urban_rural_prefixes"}, source=source, entry=entry)
    parts_raw = data.get("village_parts", [])
    if not isinstance(parts_raw, list):
        fail(source, f"{entry}.village_parts", "must be a list of [low, high] ranges")
    parts: list[tuple[int, int]] = []
    for item in parts_raw:
        ok = (
            isinstance(item, list)
            and len(item) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in item)
            and 1 <= item[0] <= item[1] <= 999
        )
        if not ok:
            fail(source, f"{entry}.village_parts", f"{item!r} is not a range [low, high] in 1..999")
        parts.append((item[0], item[1]))
    prefixes = str_list(
        data.get("urban_rural_prefixes", []), source=source, entry=f"{entry}.urban_rural_prefixes"
    )
    for prefix in prefixes:
        if not (prefix.isdigit() and 1 <= len(prefix) <= 3):
            fail(source, f"{entry}.urban_rural_prefixes", f"{prefix!r} is not a code prefix")
    return VillageRule(tuple(parts), tuple(prefixes))


@lru_cache(maxsize=1)
def load_village_rule() -> VillageRule:
    data, source = read_rules("indicators.toml")
    raw = data.get("villages")
    if not isinstance(raw, dict):
        fail(source, "villages", "missing table")
    return parse_village_rule(raw, source=source)


def valid_on(columns: Any, on: date) -> ColumnElement[bool]:
    """Rows in force on ``on``: valid_from <= on < valid_to (open ends where NULL)."""
    return and_(
        or_(columns.valid_from.is_(None), columns.valid_from <= on),
        or_(columns.valid_to.is_(None), columns.valid_to > on),
    )


def village_units(
    conn: Connection | Engine, *, on: date, within: str | None = None
) -> pd.DataFrame:
    """Every village-level unit valid on ``on`` (under ``within``), rural or not."""
    unit = Unit.__table__.c  # type: ignore[attr-defined]
    stmt = select(
        unit.code, unit.name, unit.parent_code, unit.urban_rural_code, unit.rural_override
    ).where(unit.level == UnitLevel.VILLAGE.value, valid_on(unit, on))
    if within is not None:
        prefix = codes.prefix_of(within)
        if len(prefix) < 12:
            stmt = stmt.where(unit.code.startswith(prefix, autoescape=True))
        else:
            stmt = stmt.where(unit.code == within)
    if isinstance(conn, Engine):
        with conn.connect() as c:
            rows = c.execute(stmt).all()
    else:
        rows = conn.execute(stmt).all()
    frame = pd.DataFrame(
        [tuple(r) for r in rows],
        columns=["code", "name", "parent_code", "urban_rural_code", "rural_override"],
    )
    frame["town_code"] = frame["code"].str.slice(0, 9) + "000"
    frame["rural_override"] = frame["rural_override"].astype(object)
    return frame[VILLAGE_COLUMNS].sort_values("code").reset_index(drop=True)


def rural_villages(
    conn: Connection | Engine,
    *,
    on: date,
    within: str | None = None,
    rule: VillageRule | None = None,
) -> pd.DataFrame:
    """The rural villages valid on ``on`` under ``within`` (all when None), sorted by code.

    Columns: code, name, town_code, urban_rural_code, rural_override.
    """
    units = village_units(conn, on=on, within=within)
    if units.empty:
        return units
    keep = (rule or load_village_rule()).mask(units)
    return units[keep.to_numpy()].reset_index(drop=True)


def successors_on(conn: Connection | Engine, *, on: date) -> dict[str, str]:
    """Each merged or revoked unit whose figures roll into one successor by ``on``: code ->
    the end of its chain of successors (A merged into B, B into C: A -> C).

    A unit with several successors (a split) maps to none: its figures cannot be shared out
    without knowing how, so they count nowhere after it is revoked.
    """
    table = UnitSuccessor.__table__  # type: ignore[attr-defined]
    stmt = select(table.c.code, table.c.successor_code).where(table.c.effective_on <= on)
    if isinstance(conn, Engine):
        with conn.connect() as connection:
            rows = connection.execute(stmt).all()
    else:
        rows = conn.execute(stmt).all()
    targets: dict[str, set[str]] = {}
    for code, successor in rows:
        targets.setdefault(str(code), set()).add(str(successor))
    single = {code: next(iter(found)) for code, found in targets.items() if len(found) == 1}
    resolved: dict[str, str] = {}
    for code in single:
        seen = {code}
        end = single[code]
        while end in single and single[end] not in seen:  # a cycle stops where it closes
            seen.add(end)
            end = single[end]
        resolved[code] = end
    return resolved
