"""Judging effluent samples against the discharge limits of their facility's class.

A facility's class is the one on its file (``discharge_class``, 执行标准等级); else the class rule
picks it from the receiving water and the plant's scale (``rules/discharge_class_rule.toml``).
A sample complies when every item it measured is within the class limits
(``rules/discharge_limits.toml``): pH inside its range, every other item at or below its limit.
NH3-N is judged against its cold-water limit when the water temperature is given and at or
below the standard's threshold. A facility with no class (e.g. 纳管 with no class on file) or a
class the limits file does not define cannot be judged: such samples are reported apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rural.enums import DischargeClass, WaterClass
from rural.models import EffluentSample, SewageFacility
from rural.rules_loader import (
    ClassLimits,
    DischargeClassRule,
    DischargeLimits,
    load_discharge_class_rule,
    load_discharge_limits,
)

ITEM_FIELDS = ("ph", "cod", "bod5", "ss", "nh3n", "tn", "tp", "fecal_coliform")


@dataclass(frozen=True)
class Exceedance:
    """One item outside its limit."""

    item: str
    label: str
    value: float
    limit: str  # "6-9" or "≤60"

    @property
    def text(self) -> str:
        return f"{self.label} {self.value:g} (限值 {self.limit})"


@dataclass(frozen=True)
class SampleJudgement:
    """The verdict on one sample. ``compliant`` is None when the sample cannot be judged."""

    discharge_class: DischargeClass | None
    compliant: bool | None
    exceedances: tuple[Exceedance, ...] = ()
    reason: str | None = None
    unverified_items: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        if self.compliant is None:
            return f"无法判定: {self.reason}"
        if self.compliant:
            return "达标"
        return "超标: " + "; ".join(e.text for e in self.exceedances)


def facility_class(
    *,
    discharge_class: DischargeClass | str | None,
    water_class: WaterClass | str | None,
    design_capacity_m3d: float | None,
    rule: DischargeClassRule | None = None,
) -> DischargeClass | None:
    """The class a facility must meet: its own, else the class rule's (None: no class)."""
    if discharge_class is not None:
        return DischargeClass(discharge_class)
    return (rule or load_discharge_class_rule()).class_for(water_class, design_capacity_m3d)


def class_of(
    facility: SewageFacility, *, rule: DischargeClassRule | None = None
) -> DischargeClass | None:
    return facility_class(
        discharge_class=facility.discharge_class,
        water_class=facility.water_class,
        design_capacity_m3d=facility.design_capacity_m3d,
        rule=rule,
    )


def judge_values(
    values: Mapping[str, float | None],
    limits: ClassLimits,
    *,
    items: Mapping[str, tuple[str, str]] | None = None,
    water_temp_c: float | None = None,
    cold_water_max_c: float | None = None,
) -> list[Exceedance]:
    """The items of one sample outside ``limits`` (empty: compliant). Unmeasured items pass."""
    labels = items or {}
    found: list[Exceedance] = []
    ph = values.get("ph")
    if limits.ph is not None and ph is not None:
        lo, hi = limits.ph
        if not lo <= ph <= hi:
            found.append(Exceedance("ph", labels.get("ph", ("pH", ""))[0], ph, f"{lo:g}-{hi:g}"))
    cold = (
        water_temp_c is not None
        and cold_water_max_c is not None
        and water_temp_c <= cold_water_max_c
    )
    for item, limit in limits.limits.items():
        value = values.get(item)
        if value is None:
            continue
        bound = limits.cold_limits.get(item, limit) if cold else limit
        if value > bound:
            label = labels.get(item, (item, ""))[0]
            found.append(Exceedance(item, label, value, f"≤{bound:g}"))
    return found


def judge_sample(
    sample: EffluentSample,
    facility: SewageFacility,
    *,
    limits: DischargeLimits | None = None,
    rule: DischargeClassRule | None = None,
    water_temp_c: float | None = None,
) -> SampleJudgement:
    """Judge one sample against its facility's class."""
    table = limits or load_discharge_limits()
    klass = class_of(facility, rule=rule)
    if klass is None:
        reason = f"设施 {facility.id} 无执行标准等级 (no discharge class for {facility.name})"
        return SampleJudgement(None, None, reason=reason)
    class_limits = table.for_class(klass)
    if class_limits is None:
        reason = f"{table.standard} 未规定 {klass.label} 的限值 (class {klass.value} not in limits)"
        return SampleJudgement(klass, None, reason=reason)
    values = {item: getattr(sample, item) for item in ITEM_FIELDS}
    judged = set(class_limits.limits) | ({"ph"} if class_limits.ph is not None else set())
    if not any(values.get(item) is not None for item in judged):
        reason = f"未测任何 {klass.label} 限值项目 (no limited item measured)"
        return SampleJudgement(klass, None, reason=reason)
    found = judge_values(
        values,
        class_limits,
        items=table.items,
        water_temp_c=water_temp_c,
        cold_water_max_c=table.cold_water_max_c,
    )
    measured = {item for item, value in values.items() if value is not None}
    unverified = tuple(sorted(measured & class_limits.unverified))
    return SampleJudgement(klass, not found, tuple(found), unverified_items=unverified)


def judge_frame(
    samples: pd.DataFrame,
    *,
    limits: DischargeLimits | None = None,
    rule: DischargeClassRule | None = None,
) -> pd.Series:
    """Vectorised verdicts: True (complies), False (exceeds) or NA (cannot be judged: no class,
    no limits for it, or none of its limited items measured).

    ``samples`` has the item columns plus the facility's ``discharge_class``, ``water_class`` and
    ``design_capacity_m3d``; no water temperature, so NH3-N uses its normal limit.
    """
    table = limits or load_discharge_limits()
    rule = rule or load_discharge_class_rule()
    verdict = pd.Series(pd.NA, index=samples.index, dtype="boolean")
    if samples.empty:
        return verdict
    keys = samples[["discharge_class", "water_class", "design_capacity_m3d"]].astype(object)
    keys = keys.where(keys.notna(), None)
    klass = pd.Series(
        [
            _class_value(dc, wc, cap, rule)
            for dc, wc, cap in keys.itertuples(index=False, name=None)
        ],
        index=samples.index,
        dtype=object,
    )
    for value, group in samples.groupby(klass, dropna=True):
        class_limits = table.for_class(str(value))
        if class_limits is None:
            continue
        ok = np.ones(len(group), dtype=bool)
        measured = np.zeros(len(group), dtype=bool)  # a sample with no limited item: NA
        if class_limits.ph is not None:
            ph = pd.to_numeric(group["ph"], errors="coerce")
            lo, hi = class_limits.ph
            ok &= (ph.isna() | ph.between(lo, hi)).to_numpy()
            measured |= ph.notna().to_numpy()
        for item, bound in class_limits.limits.items():
            column = pd.to_numeric(group[item], errors="coerce")
            ok &= (column.isna() | (column <= bound)).to_numpy()
            measured |= column.notna().to_numpy()
        verdict.loc[group.index[measured]] = ok[measured]
    return verdict


def _class_value(dc: Any, wc: Any, cap: Any, rule: DischargeClassRule) -> str | None:
    klass = facility_class(
        discharge_class=dc,
        water_class=wc,
        design_capacity_m3d=None if cap is None else float(cap),
        rule=rule,
    )
    return None if klass is None else str(klass)
