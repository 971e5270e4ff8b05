"""Which units count as rural villages: the default rule, hand overrides, validity dates."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Engine

from rural.errors import RulesError
from rural.villages import VillageRule, load_village_rule, parse_village_rule, rural_villages
from tests.world import TOWN, TOWN_B, World


@pytest.mark.parametrize(
    ("code", "urc", "override", "expected"),
    [
        ("331128101201", "220", None, True),  # 村委会, 村庄
        ("331128101399", "121", None, True),  # 村委会 even in a town centre
        ("331128101001", "111", None, False),  # 居委会, 主城区
        ("331128101002", "220", None, True),  # 居委会 but 村庄: a 2xx code counts
        ("331128101003", "210", None, True),  # 乡中心区
        ("331128101004", None, None, False),  # 居委会, no code
        ("331128101400", "122", None, False),  # 400s: neither
        ("331128101201", "220", False, False),  # excluded by hand
        ("331128101001", "111", True, True),  # 村改居 still farming: included by hand
    ],
)
def test_default_rule(code: str, urc: str | None, override: bool | None, expected: bool) -> None:
    rule = load_village_rule()
    assert rule.includes(code, urc, override) is expected
    frame = pd.DataFrame(
        {
            "code": [code],
            "urban_rural_code": [urc],
            "rural_override": pd.Series([override], dtype=object),
        }
    )
    assert bool(rule.mask(frame).iloc[0]) is expected


def test_the_rule_is_data() -> None:
    strict = parse_village_rule(
        {"village_parts": [[200, 299]], "urban_rural_prefixes": []}, source="t"
    )
    assert strict.includes("331128101250", "111")
    assert not strict.includes("331128101350", "220")
    assert not strict.includes("331128101002", "220")
    with pytest.raises(RulesError, match=r"t: villages\.urban_rural_prefixes: '2x'"):
        parse_village_rule({"village_parts": [], "urban_rural_prefixes": ["2x"]}, source="t")
    with pytest.raises(RulesError, match=r"t: villages: unknown key"):
        parse_village_rule({"villages": []}, source="t")
    assert VillageRule() == load_village_rule()


def test_rural_villages_on_a_day(engine: Engine) -> None:
    world = World(engine)
    world.hierarchy(towns=(TOWN, TOWN_B))
    world.village("331128101201")
    world.village("331128101001", urban_rural_code="111")  # 居委会: out
    world.village("331128101002", urban_rural_code="220")  # 居委会 in 村庄: in
    world.village("331128101202", rural_override=False)  # out by hand
    world.village("331128101003", urban_rural_code="121", rural_override=True)  # in by hand
    world.village("331128101203", valid_to=date(2026, 7, 1))  # revoked 1 July
    world.village("331128101204", valid_from=date(2026, 8, 15))  # created 15 August
    world.village("331128102201")  # another town
    june = rural_villages(engine, on=date(2026, 6, 30), within=TOWN)
    assert list(june["code"]) == ["331128101002", "331128101003", "331128101201", "331128101203"]
    september = rural_villages(engine, on=date(2026, 9, 30), within=TOWN)
    assert list(september["code"]) == [
        "331128101002",
        "331128101003",
        "331128101201",
        "331128101204",
    ]
    # the revoked unit is gone on the very day of its valid_to
    assert "331128101203" not in set(rural_villages(engine, on=date(2026, 7, 1))["code"])
    everything = rural_villages(engine, on=date(2026, 9, 30))
    assert len(everything) == 5  # the four above + 331128102201
    assert list(everything["town_code"].unique()) == [TOWN, TOWN_B]
    one = rural_villages(engine, on=date(2026, 9, 30), within="331128102201")
    assert list(one["code"]) == ["331128102201"]
