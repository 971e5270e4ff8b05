"""Discharge limits and the class rule as data, and judging samples against a facility's class."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rural.enums import DischargeClass, SewageMode, WaterClass
from rural.errors import RulesError
from rural.models import EffluentSample, SewageFacility
from rural.rules_loader import (
    load_discharge_class_rule,
    load_discharge_limits,
    parse_discharge_class_rule,
    parse_discharge_limits,
)
from rural.sewage import facility_class, judge_frame, judge_sample

RULES = Path(__file__).parents[1] / "rural" / "rules"


def _read(name: str) -> dict[str, Any]:
    return tomllib.loads((RULES / name).read_text("utf-8"))


def test_shipped_limits_are_db33_973_2021() -> None:
    limits = load_discharge_limits()
    assert limits.standard == "DB33/973-2021"
    one = limits.for_class("1")
    two = limits.for_class("2")
    three = limits.for_class("3")
    assert one is not None
    assert two is not None
    assert three is not None
    assert one.ph == (6.0, 9.0)
    assert one.limits == {"cod": 60, "ss": 20, "nh3n": 8, "tn": 20, "tp": 1}
    assert one.cold_limits == {"nh3n": 15}
    assert two.limits == {"cod": 100, "ss": 30, "nh3n": 15, "tp": 2}
    assert two.cold_limits == {"nh3n": 25}
    assert three.limits == {"cod": 120, "ss": 50, "nh3n": 25, "tp": 3}
    assert "cod" in three.unverified  # no official text found for 三级
    assert limits.for_class("1A") is None


@pytest.mark.parametrize(
    ("water", "capacity", "expected"),
    [
        (WaterClass.II, 50.0, DischargeClass.CLASS_1),
        (WaterClass.III, None, DischargeClass.CLASS_1),
        (WaterClass.IV, 50.0, DischargeClass.CLASS_2),
        (WaterClass.V, 50.0, DischargeClass.CLASS_2),
        (WaterClass.POND_DITCH, 5.0, DischargeClass.CLASS_3),
        (WaterClass.NONE, 50.0, None),  # piped: the sewer's own rules
        (None, 50.0, None),
    ],
)
def test_class_follows_the_receiving_water(
    water: WaterClass | None, capacity: float | None, expected: DischargeClass | None
) -> None:
    rule = load_discharge_class_rule()
    assert rule.class_for(water, capacity) == expected
    assert WaterClass.POND_DITCH in rule.unverified


def test_scale_rules_come_first_and_bound_by_capacity() -> None:
    data = _read("discharge_class_rule.toml")
    data["scale_rules"] = [
        {"water_classes": ["IV", "V"], "max_m3d": 20, "class": "3"},
        {"min_m3d": 500, "class": "1"},
    ]
    rule = parse_discharge_class_rule(data, source="test")
    assert rule.class_for("IV", 19.9) == DischargeClass.CLASS_3  # small plant, relaxed
    assert rule.class_for("IV", 20.0) == DischargeClass.CLASS_2  # max is exclusive
    assert rule.class_for("IV", None) == DischargeClass.CLASS_2  # unknown scale: water decides
    assert rule.class_for("V", 600.0) == DischargeClass.CLASS_1  # large plant, stricter
    assert rule.class_for("III", 10.0) == DischargeClass.CLASS_1


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (
            lambda d: d["classes"]["1"]["limits"].update(lead=0.1),
            r'classes\."1"\.limits\.lead: not a declared item',
        ),
        (lambda d: d["classes"]["2"].update(ph=[9, 6]), r'classes\."2"\.ph: must be min < max'),
        (
            lambda d: d["classes"]["1"]["cold_limits"].update(nh3n=5),
            r'classes\."1"\.cold_limits\.nh3n: is stricter',
        ),
        (lambda d: d["classes"].update({"4": {"label": "四级"}}), r'classes\."4": \'4\' is not'),
        (
            lambda d: d["classes"]["1"]["limits"].update(cod="sixty"),
            r'classes\."1"\.limits\.cod: must be a number',
        ),
        (
            lambda d: d["classes"]["3"]["unverified"].append("tn"),
            r'classes\."3"\.unverified: \'tn\' has no limit',
        ),
        (lambda d: d["items"].update(turbidity={"label": "浊度"}), r"items\.turbidity"),
    ],
)
def test_a_bad_limits_file_names_the_entry(
    mutate: Callable[[dict[str, Any]], None], match: str
) -> None:
    data = copy.deepcopy(_read("discharge_limits.toml"))
    mutate(data)
    with pytest.raises(RulesError, match=f"discharge_limits.toml: {match}"):
        parse_discharge_limits(data, source="discharge_limits.toml")


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d["by_water_class"].update(VI="2"), r"by_water_class\.VI: 'VI'"),
        (lambda d: d["by_water_class"].update(II="0"), r"by_water_class\.II: '0'"),
        (
            lambda d: d.update(scale_rules=[{"min_m3d": 50, "max_m3d": 20, "class": "2"}]),
            r"scale_rules\[0\]: min_m3d 50.0 must be below",
        ),
        (lambda d: d.update(scale_rules=[{"max_m3d": 20}]), r"scale_rules\[0\]\.class: missing"),
    ],
)
def test_a_bad_class_rule_names_the_entry(
    mutate: Callable[[dict[str, Any]], None], match: str
) -> None:
    data = copy.deepcopy(_read("discharge_class_rule.toml"))
    mutate(data)
    with pytest.raises(RulesError, match=f"rule.toml: {match}"):
        parse_discharge_class_rule(data, source="rule.toml")


def _facility(**kwargs: Any) -> SewageFacility:
    values = {
        "id": 1,
        "village_code": "331128101201",
        "name": "王家村污水站",
        "mode": SewageMode.CENTRALIZED,
        "status": "operating",
        "water_class": WaterClass.III,
        "design_capacity_m3d": 50.0,
        **kwargs,
    }
    return SewageFacility(**values)


def test_a_sample_is_judged_against_its_facility_class() -> None:
    sample = EffluentSample(facility_id=1, ph=7.1, cod=75.0, nh3n=10.0, tp=0.8)
    # water III -> class 1: COD 75 > 60 and NH3-N 10 > 8 exceed
    strict = judge_sample(sample, _facility())
    assert strict.discharge_class == DischargeClass.CLASS_1
    assert strict.compliant is False
    assert [e.item for e in strict.exceedances] == ["cod", "nh3n"]
    assert "化学需氧量(COD) 75 (限值 ≤60)" in strict.text
    # water IV -> class 2: COD 75 <= 100, NH3-N 10 <= 15, TP 0.8 <= 2: complies
    assert judge_sample(sample, _facility(water_class=WaterClass.IV)).compliant is True
    # the class on the facility's file wins over the rule
    filed = judge_sample(sample, _facility(discharge_class=DischargeClass.CLASS_2))
    assert (filed.discharge_class, filed.compliant) == (DischargeClass.CLASS_2, True)


def test_cold_water_uses_the_looser_ammonia_limit() -> None:
    sample = EffluentSample(facility_id=1, nh3n=12.0)
    # class 1: NH3-N 12 > 8 normally, <= 15 at water <= 12 °C
    assert judge_sample(sample, _facility()).compliant is False
    assert judge_sample(sample, _facility(), water_temp_c=12.0).compliant is True
    assert judge_sample(sample, _facility(), water_temp_c=12.5).compliant is False


def test_ph_is_a_range_and_unmeasured_items_pass() -> None:
    assert judge_sample(EffluentSample(facility_id=1, ph=5.9), _facility()).compliant is False
    assert judge_sample(EffluentSample(facility_id=1, ph=9.0), _facility()).compliant is True


def test_a_sample_with_no_limited_item_measured_is_not_judged() -> None:
    """ "Complies when every measured item is within its limits" needs one measured item."""
    empty = judge_sample(EffluentSample(facility_id=1), _facility())
    assert empty.compliant is None
    assert "未测任何" in empty.text
    # class 3 (pond) limits no TN: a sample measuring only TN cannot be judged either
    pond = _facility(water_class=WaterClass.POND_DITCH)
    assert judge_sample(EffluentSample(facility_id=1, tn=30.0), pond).compliant is None


def test_samples_without_a_class_are_not_judged() -> None:
    piped = _facility(mode=SewageMode.PIPED, water_class=WaterClass.NONE)
    verdict = judge_sample(EffluentSample(facility_id=1, cod=500.0), piped)
    assert verdict.compliant is None
    assert "无执行标准等级" in verdict.text
    one_a = judge_sample(
        EffluentSample(facility_id=1, cod=10.0), _facility(discharge_class=DischargeClass.CLASS_1A)
    )
    assert one_a.compliant is None
    assert "一级A" in one_a.text


def test_unverified_items_are_reported() -> None:
    pond = _facility(water_class=WaterClass.POND_DITCH)
    verdict = judge_sample(EffluentSample(facility_id=1, cod=100.0, tn=30.0), pond)
    # class 3: COD 100 <= 120 (unverified value); TN not limited in class 3
    assert verdict.compliant is True
    assert verdict.unverified_items == ("cod",)


def test_vectorised_verdicts_match_one_by_one() -> None:
    rows = [
        # discharge_class, water_class, capacity, ph, cod, nh3n, tp -> expected
        (None, "III", 50.0, 7.0, 45.0, 5.0, 0.5, True),
        (None, "III", 50.0, 7.0, 75.0, 5.0, 0.5, False),  # COD 75 > 60
        (None, "IV", 50.0, 7.0, 75.0, 12.0, 0.5, True),  # class 2
        (None, "IV", 50.0, 9.5, 75.0, 12.0, 0.5, False),  # pH
        ("2", "II", 50.0, None, 80.0, None, None, True),  # filed class 2
        (None, "none", 50.0, 7.0, 300.0, None, None, None),  # no class
        (None, None, None, 7.0, 10.0, None, None, None),  # no class
        ("1A", "III", 50.0, 7.0, 10.0, None, None, None),  # class not in the limits file
        (None, "III", 50.0, None, None, None, None, None),  # nothing measured
        (None, "IV", 50.0, None, None, 20.0, None, False),  # only NH3-N, 20 > 15
    ]
    frame = pd.DataFrame(
        [r[:-1] for r in rows],
        columns=[
            "discharge_class",
            "water_class",
            "design_capacity_m3d",
            "ph",
            "cod",
            "nh3n",
            "tp",
        ],
    )
    for item in ("bod5", "ss", "tn", "fecal_coliform"):
        frame[item] = None
    verdict = judge_frame(frame)
    assert [None if pd.isna(v) else bool(v) for v in verdict] == [r[-1] for r in rows]
    for dc, wc, cap, *_rest in rows:
        if wc not in (None, "none") or dc is not None:
            assert (
                facility_class(discharge_class=dc, water_class=wc, design_capacity_m3d=cap)
                is not None
            )
