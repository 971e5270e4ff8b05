"""Rules as data: the shipped files load, and a bad file names the file and the entry."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rural.enums import ExcretaDestination, ToiletClass, ToiletCondition, ToiletType
from rural.errors import RulesError
from rural.indicators.definitions import load_indicator_rules, parse_indicator_rules
from rural.rules_loader import (
    load_garbage_categories,
    load_toilet_class,
    parse_garbage_categories,
    parse_toilet_class,
)

RULES = Path(__file__).parents[1] / "rural" / "rules"


def _read(name: str) -> dict[str, Any]:
    return tomllib.loads((RULES / name).read_text("utf-8"))


# ---- garbage categories -------------------------------------------------------------------------


def test_shipped_schemes_map_to_the_four_classes() -> None:
    rules = load_garbage_categories()
    assert rules.active == "four_class"
    assert list(rules.scheme.categories) == ["recyclable", "hazardous", "perishable", "other"]
    assert [c.label for c in rules.scheme.categories.values()] == [
        "可回收物",
        "有害垃圾",
        "易腐垃圾",
        "其他垃圾",
    ]
    two_step = rules.schemes["rural_two_step"]
    assert {k: c.maps_to for k, c in two_step.categories.items()} == {
        "rots": "perishable",
        "sellable": "recyclable",
        "unsellable": "other",
        "hazardous": "hazardous",
    }
    assert rules.four_class("rots") == "perishable"
    assert rules.four_class("glass") is None


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (
            lambda d: d.update(active="three_class"),
            r"garbage_categories.toml: active: 'three_class'",
        ),
        (
            lambda d: d["schemes"]["rural_two_step"]["categories"]["rots"].update(maps_to="food"),
            r"schemes\.rural_two_step\.categories\.rots\.maps_to: 'food'",
        ),
        (
            lambda d: d["schemes"]["four_class"]["categories"].pop("hazardous"),
            r"schemes\.four_class\.categories: must be exactly",
        ),
        (
            lambda d: d["schemes"]["four_class"]["categories"]["other"].pop("label"),
            r"schemes\.four_class\.categories\.other\.label: missing",
        ),
        (
            lambda d: d["schemes"]["rural_two_step"]["categories"]["rots"].update(step=3),
            r"categories\.rots\.step: must be 1 or 2",
        ),
    ],
)
def test_a_bad_category_file_names_the_entry(
    mutate: Callable[[dict[str, Any]], None], match: str
) -> None:
    data = copy.deepcopy(_read("garbage_categories.toml"))
    mutate(data)
    with pytest.raises(RulesError, match=match):
        parse_garbage_categories(data, source="garbage_categories.toml")


# ---- toilet class -------------------------------------------------------------------------------

T, C, D = ToiletType, ToiletCondition, ExcretaDestination


@pytest.mark.parametrize(
    ("kind", "condition", "destination", "expected"),
    [
        (T.THREE_COMPARTMENT, C.IN_USE, D.ONSITE_TANK, ToiletClass.HARMLESS),
        (T.FLUSH_SEWER, C.IN_USE, D.SEWER_TREATED, ToiletClass.HARMLESS),
        (T.DOUBLE_PIT, C.BLOCKED, D.FIELD_AFTER_TREATMENT, ToiletClass.HARMLESS),
        # a harmless type whose excreta goes somewhere unknown is sanitary only
        (T.THREE_COMPARTMENT, C.IN_USE, D.UNKNOWN, ToiletClass.SANITARY),
        (T.DEEP_PIT_FROSTPROOF, C.IN_USE, D.ONSITE_TANK, ToiletClass.SANITARY),
        (T.LOFT, C.UNUSED, D.ONSITE_TANK, ToiletClass.SANITARY),
        # a flush toilet piped straight to a ditch is not sanitary
        (T.FLUSH_OTHER, C.IN_USE, D.UNTREATED_DISCHARGE, ToiletClass.NON_SANITARY),
        (T.THREE_COMPARTMENT, C.IN_USE, D.UNTREATED_DISCHARGE, ToiletClass.NON_SANITARY),
        # a leaking tank is not sealed
        (T.THREE_COMPARTMENT, C.LEAKING, D.ONSITE_TANK, ToiletClass.NON_SANITARY),
        (T.SINGLE_PIT, C.IN_USE, D.UNKNOWN, ToiletClass.NON_SANITARY),
        (T.OPEN_PIT, C.IN_USE, D.ONSITE_TANK, ToiletClass.NON_SANITARY),
        # 完整上下水道水冲式 is harmless only when its excreta reaches a treated sewer
        (T.FLUSH_SEWER, C.IN_USE, D.ONSITE_TANK, ToiletClass.SANITARY),
        (T.NONE, C.IN_USE, D.UNKNOWN, ToiletClass.NON_SANITARY),
    ],
)
def test_toilet_class_from_type_condition_and_destination(
    kind: ToiletType, condition: ToiletCondition, destination: ExcretaDestination, expected: str
) -> None:
    assert load_toilet_class().classify(kind, condition, destination) == expected


def test_only_toilets_in_use_count() -> None:
    rule = load_toilet_class()
    assert rule.counts("in_use")
    assert not any(rule.counts(c) for c in ("leaking", "blocked", "frozen", "unused", "building"))


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d["harmless_types"].append("golden"), r"harmless_types: 'golden'"),
        (lambda d: d["sanitary_types"].append("biogas"), r"sanitary_types: also listed"),
        (lambda d: d.update(counting_conditions=[]), r"counting_conditions: at least one"),
        (lambda d: d.update(class_source="guess"), r"class_source: must be"),
        (lambda d: d.pop("treated_destinations"), r"treated_destinations: missing"),
        (lambda d: d.update(colour="blue"), r"\(top level\): unknown key"),
        (
            lambda d: d["type_destinations"].update(loft=["onsite_tank"]),
            r"type_destinations.loft: 'loft' is not one of harmless_types",
        ),
        (
            lambda d: d["type_destinations"].update(flush_sewer=["river"]),
            r"type_destinations.flush_sewer: 'river' is not a ExcretaDestination",
        ),
    ],
)
def test_a_bad_toilet_class_file_names_the_entry(
    mutate: Callable[[dict[str, Any]], None], match: str
) -> None:
    data = copy.deepcopy(_read("toilet_class.toml"))
    mutate(data)
    with pytest.raises(RulesError, match=f"toilet_class.toml: {match}"):
        parse_toilet_class(data, source="toilet_class.toml")


# ---- indicator definitions ----------------------------------------------------------------------


def test_shipped_indicator_definitions() -> None:
    rules = load_indicator_rules()
    assert rules.options == {"toilet_denominator": "resident", "population": "resident"}
    toilets = rules.indicators["harmless_toilet_rate"]
    assert toilets.name == "无害化卫生厕所普及率"
    assert toilets.resolve({"toilet_denominator": "due", "population": "all"}) == (
        ("toilet_harmless_due",),
        ("households_due",),
    )
    # measured and estimated tonnage are separate indicators, the estimated ones labelled 估算
    assert rules.indicators["recycling_rate"].numerator == ("tonnes_recycled_measured",)
    assert rules.indicators["recycling_rate_estimated"].note == "估算"
    assert rules.villages.village_parts == ((200, 399),)
    assert rules.pass_stars == 3
    assert rules.chain.balance_tolerance == 0.10


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (
            lambda d: d["indicators"]["recycling_rate"].update(numerator=["tonnes_gold"]),
            r"indicators\.recycling_rate\.numerator: unknown measure 'tonnes_gold'",
        ),
        (
            lambda d: d["indicators"]["sanitary_toilet_rate"].update(
                denominator=["households_{colour}"]
            ),
            r"indicators\.sanitary_toilet_rate\.denominator: 'households_\{colour\}'",
        ),
        (
            lambda d: d["options"].update(toilet_denominator="everyone"),
            r"options\.toilet_denominator: 'everyone' is not one of",
        ),
        (
            lambda d: d["indicators"]["station_load"].update(min_level="hamlet"),
            r"indicators\.station_load\.min_level: 'hamlet'",
        ),
        (
            lambda d: d["indicators"]["station_load"].update(domain="weather"),
            r"indicators\.station_load\.domain: 'weather'",
        ),
        (
            lambda d: d["garbage"]["terminal_fates"].append("transferred"),
            r"garbage\.terminal_fates: 'transferred' is a stage",
        ),
        (
            lambda d: d["garbage"]["recycled_fates"].append("buried"),
            r"garbage\.recycled_fates: 'buried' is not a TonnageFate",
        ),
        (
            lambda d: d["villages"].update(village_parts=[[400, 300]]),
            r"villages\.village_parts: \[400, 300\]",
        ),
        (lambda d: d["courtyard"].update(pass_stars=6), r"courtyard\.pass_stars: must be 1\.\.5"),
        (
            lambda d: d["chain"].update(balance_tolerance=10),
            r"chain\.balance_tolerance: must be a fraction",
        ),
        (
            lambda d: d["sewage"].update(treating_statuses=["running"]),
            r"sewage\.treating_statuses: 'running'",
        ),
    ],
)
def test_a_bad_indicators_file_names_the_entry(
    mutate: Callable[[dict[str, Any]], None], match: str
) -> None:
    data = copy.deepcopy(_read("indicators.toml"))
    mutate(data)
    with pytest.raises(RulesError, match=f"indicators.toml: {match}"):
        parse_indicator_rules(data, source="indicators.toml")


def test_options_can_be_overridden_per_call_and_are_checked() -> None:
    rules = load_indicator_rules().with_options(toilet_denominator="registered")
    assert rules.options["toilet_denominator"] == "registered"
    with pytest.raises(RulesError, match="'nobody' is not one of"):
        rules.with_options(population="nobody")
