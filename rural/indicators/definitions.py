"""Indicator definitions and engine options as data (``rules/indicators.toml``), validated on load.

Errors name the file and the entry, e.g. ``rural/rules/indicators.toml: indicators.x.numerator:
unknown measure 'foo'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from rural.enums import FacilityStatus, TonnageFate, UnitLevel
from rural.indicators.measures import MEASURES, POPULATIONS
from rural.rules_loader import (
    check_keys,
    enum_values,
    fail,
    number,
    read_rules,
    str_list,
    table,
)
from rural.villages import VillageRule, parse_village_rule

DOMAINS = ("sanitation", "garbage", "sewage", "courtyard", "civilization")
OPTION_CHOICES: dict[str, tuple[str, ...]] = {
    "toilet_denominator": ("resident", "registered", "due"),
    "population": POPULATIONS,
}
LEVEL_ORDER = (
    UnitLevel.VILLAGE,
    UnitLevel.TOWN,
    UnitLevel.COUNTY,
    UnitLevel.CITY,
    UnitLevel.PROVINCE,
)
TITLE_LEVELS = ("county", "city", "province", "nation")


@dataclass(frozen=True)
class IndicatorDef:
    id: str
    name: str
    domain: str
    numerator: tuple[str, ...]  # measure names, may hold {option} placeholders
    denominator: tuple[str, ...]
    percent: bool = True
    min_level: UnitLevel = UnitLevel.VILLAGE
    note: str = ""

    def resolve(self, options: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The numerator and denominator measures with the options filled in."""
        return (
            tuple(m.format(**options) for m in self.numerator),
            tuple(m.format(**options) for m in self.denominator),
        )

    def shown_at(self, level: UnitLevel) -> bool:
        return LEVEL_ORDER.index(level) >= LEVEL_ORDER.index(self.min_level)


@dataclass(frozen=True)
class GarbageRules:
    terminal_fates: frozenset[TonnageFate]
    recycled_fates: frozenset[TonnageFate]
    resource_use_fates: frozenset[TonnageFate]
    harmless_fates_outside_facilities: frozenset[TonnageFate]


@dataclass(frozen=True)
class ChainRules:
    overload_ratio: float = 1.0
    balance_tolerance: float = 0.10


@dataclass(frozen=True)
class IndicatorRules:
    options: dict[str, str]
    villages: VillageRule
    garbage: GarbageRules
    pass_stars: int
    require_published: bool
    in_service_statuses: frozenset[FacilityStatus]
    treating_statuses: frozenset[FacilityStatus]
    min_title_level: str
    chain: ChainRules
    indicators: dict[str, IndicatorDef] = field(default_factory=dict)

    def with_options(self, **options: str | None) -> IndicatorRules:
        """A copy with some options changed (None leaves an option as it is)."""
        merged = dict(self.options)
        for key, value in options.items():
            if value is None:
                continue
            check_option(key, value, source="options", entry=key)
            merged[key] = value
        return replace(self, options=merged)


def check_option(key: str, value: Any, *, source: str, entry: str) -> None:
    if key not in OPTION_CHOICES:
        fail(source, entry, f"unknown option (one of {sorted(OPTION_CHOICES)})")
    if value not in OPTION_CHOICES[key]:
        fail(source, entry, f"{value!r} is not one of {OPTION_CHOICES[key]}")


def _parse_indicator(key: str, body: Any, *, source: str) -> IndicatorDef:
    entry = f"indicators.{key}"
    if not isinstance(body, dict):
        fail(source, entry, "must be a table")
    allowed = {"name", "domain", "numerator", "denominator", "percent", "min_level", "note"}
    check_keys(body, allowed, source=source, entry=entry)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        fail(source, f"{entry}.name", "missing Chinese name")
    domain = body.get("domain")
    if domain not in DOMAINS:
        fail(source, f"{entry}.domain", f"{domain!r} is not one of {DOMAINS}")
    parts: dict[str, tuple[str, ...]] = {}
    for part in ("numerator", "denominator"):
        names = str_list(body.get(part), source=source, entry=f"{entry}.{part}")
        if not names:
            fail(source, f"{entry}.{part}", "needs at least one measure")
        for raw in names:
            _check_measure(raw, source=source, entry=f"{entry}.{part}")
        parts[part] = tuple(names)
    level_raw = body.get("min_level", "village")
    try:
        min_level = UnitLevel(level_raw)
    except ValueError:
        min_level = UnitLevel.NATURAL_VILLAGE
    if min_level not in LEVEL_ORDER:
        fail(
            source,
            f"{entry}.min_level",
            f"{level_raw!r} is not one of {[str(lv) for lv in LEVEL_ORDER]}",
        )
    percent = body.get("percent", True)
    if not isinstance(percent, bool):
        fail(source, f"{entry}.percent", f"must be true or false, got {percent!r}")
    return IndicatorDef(
        id=key,
        name=name,
        domain=str(domain),
        numerator=parts["numerator"],
        denominator=parts["denominator"],
        percent=percent,
        min_level=min_level,
        note=str(body.get("note", "")),
    )


def _check_measure(raw: str, *, source: str, entry: str) -> None:
    """Every way of filling the placeholders must name a known measure."""
    variants = [raw]
    for option, choices in OPTION_CHOICES.items():
        token = "{" + option + "}"
        variants = (
            [v.replace(token, choice) for v in variants for choice in choices]
            if any(token in v for v in variants)
            else variants
        )
    for name in variants:
        if "{" in name or "}" in name:
            fail(source, entry, f"{raw!r}: unknown placeholder (options: {sorted(OPTION_CHOICES)})")
        if name not in MEASURES:
            fail(source, entry, f"unknown measure {name!r} (from {raw!r})")


def _fates(data: Mapping[str, Any], key: str, *, source: str) -> frozenset[TonnageFate]:
    entry = f"garbage.{key}"
    if key not in data:
        fail(source, entry, "missing")
    return enum_values(
        str_list(data[key], source=source, entry=entry), TonnageFate, source=source, entry=entry
    )


def parse_indicator_rules(data: Mapping[str, Any], *, source: str) -> IndicatorRules:
    """Validate the whole indicators document."""
    allowed = {
        "version",
        "options",
        "villages",
        "garbage",
        "courtyard",
        "sewage",
        "civilization",
        "chain",
        "indicators",
    }
    check_keys(data, allowed, source=source, entry="(top level)")
    options_raw = table(data, "options", source=source, entry="")
    for key, value in options_raw.items():
        check_option(key, value, source=source, entry=f"options.{key}")
    missing = sorted(set(OPTION_CHOICES) - set(options_raw))
    if missing:
        fail(source, "options", f"missing option(s) {missing}")
    villages = parse_village_rule(table(data, "villages", source=source, entry=""), source=source)

    garbage_raw = table(data, "garbage", source=source, entry="")
    check_keys(
        garbage_raw,
        {
            "terminal_fates",
            "recycled_fates",
            "resource_use_fates",
            "harmless_fates_outside_facilities",
        },
        source=source,
        entry="garbage",
    )
    terminal = _fates(garbage_raw, "terminal_fates", source=source)
    if TonnageFate.TRANSFERRED in terminal:
        fail(source, "garbage.terminal_fates", "'transferred' is a stage, not an end")
    garbage = GarbageRules(
        terminal_fates=terminal,
        recycled_fates=_fates(garbage_raw, "recycled_fates", source=source),
        resource_use_fates=_fates(garbage_raw, "resource_use_fates", source=source),
        harmless_fates_outside_facilities=_fates(
            garbage_raw, "harmless_fates_outside_facilities", source=source
        ),
    )
    for key in ("recycled_fates", "resource_use_fates", "harmless_fates_outside_facilities"):
        outside = getattr(garbage, key) - terminal
        if outside:
            fail(source, f"garbage.{key}", f"not terminal fates: {sorted(outside)}")

    courtyard = table(data, "courtyard", source=source, entry="")
    check_keys(courtyard, {"pass_stars", "require_published"}, source=source, entry="courtyard")
    stars = courtyard.get("pass_stars")
    if stars not in (1, 2, 3, 4, 5) or isinstance(stars, bool):
        fail(source, "courtyard.pass_stars", f"must be 1..5, got {stars!r}")
    published = courtyard.get("require_published", False)
    if not isinstance(published, bool):
        fail(source, "courtyard.require_published", f"must be true or false, got {published!r}")

    sewage = table(data, "sewage", source=source, entry="")
    check_keys(sewage, {"in_service_statuses", "treating_statuses"}, source=source, entry="sewage")
    statuses = {}
    for key in ("in_service_statuses", "treating_statuses"):
        entry = f"sewage.{key}"
        statuses[key] = enum_values(
            str_list(sewage.get(key), source=source, entry=entry),
            FacilityStatus,
            source=source,
            entry=entry,
        )

    civ = table(data, "civilization", source=source, entry="")
    check_keys(civ, {"min_title_level"}, source=source, entry="civilization")
    title_level = civ.get("min_title_level", "county")
    if title_level not in TITLE_LEVELS:
        fail(
            source, "civilization.min_title_level", f"{title_level!r} is not one of {TITLE_LEVELS}"
        )

    chain_raw = table(data, "chain", source=source, entry="")
    check_keys(chain_raw, {"overload_ratio", "balance_tolerance"}, source=source, entry="chain")
    chain = ChainRules(
        overload_ratio=number(
            chain_raw.get("overload_ratio", 1.0), source=source, entry="chain.overload_ratio"
        ),
        balance_tolerance=number(
            chain_raw.get("balance_tolerance", 0.1), source=source, entry="chain.balance_tolerance"
        ),
    )
    if chain.balance_tolerance >= 1:
        fail(source, "chain.balance_tolerance", "must be a fraction below 1 (e.g. 0.10)")

    indicators_raw = table(data, "indicators", source=source, entry="")
    if not indicators_raw:
        fail(source, "indicators", "no indicators")
    indicators = {
        key: _parse_indicator(key, body, source=source) for key, body in indicators_raw.items()
    }
    return IndicatorRules(
        options={k: str(v) for k, v in options_raw.items()},
        villages=villages,
        garbage=garbage,
        pass_stars=int(stars),
        require_published=published,
        in_service_statuses=statuses["in_service_statuses"],
        treating_statuses=statuses["treating_statuses"],
        min_title_level=str(title_level),
        chain=chain,
        indicators=indicators,
    )


@lru_cache(maxsize=1)
def load_indicator_rules() -> IndicatorRules:
    """The shipped ``rural/rules/indicators.toml``."""
    data, source = read_rules("indicators.toml")
    return parse_indicator_rules(data, source=source)
