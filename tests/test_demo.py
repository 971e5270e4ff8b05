"""The demo county, loaded once through ``rural demo`` into a SQLite file and checked by querying
the database: geography, codes, fake personal data, stated distributions, histories, and the
manifest of planted faults (each verified here by its own query, not by generator internals)."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
import shapely
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from rural import codes
from rural.cli import app
from rural.db import make_engine
from rural.demo import DemoParams, Manifest
from rural.demo import distributions as dist
from rural.enums import ChainBreakKind, TitleLevel, ToiletCondition, ToiletType
from rural.lifecycle import STATEFUL_KINDS, default_lifecycles
from rural.settings import get_settings

PARAMS = DemoParams()  # the default demo: 200 villages, 60,000 households, seed 7
AS_OF = PARAMS.as_of
WINDOW_START = date(2025, 11, 1)
WINDOW_DAYS = 365

# The toilet rule of DOMAIN.md, written out here independently of the generator.
HARMLESS = {
    "three_compartment",
    "double_urn",
    "biogas",
    "urine_diverting",
    "double_pit",
    "flush_sewer",
    "central_emptying",
}
SANITARY = {"deep_pit_frostproof", "loft", "flush_other"}
TREATED = {"onsite_tank", "sewer_treated", "central_emptying", "field_after_treatment"}

# Zhejiang DB33/973-2021 as given in the brief: (normal limit, limit at water <= 12 °C).
LIMITS: dict[str, dict[str, tuple[float, float]]] = {
    "1": {"cod": (60, 60), "nh3n": (8, 15), "tn": (20, 20), "tp": (1, 1), "ss": (20, 20)},
    "2": {"cod": (100, 100), "nh3n": (15, 25), "tp": (2, 2), "ss": (30, 30)},
    "3": {"cod": (120, 120), "nh3n": (25, 25), "tp": (3, 3), "ss": (50, 50)},
}


def run_cli(url: str, *args: str) -> Any:
    get_settings.cache_clear()
    result = CliRunner().invoke(
        app, ["--as", "测试员", *args], env={"RURAL_DATABASE_URL": url, "COLUMNS": "200"}
    )
    get_settings.cache_clear()
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    result = run_cli(f"sqlite:///{path}", "demo")
    assert result.exit_code == 0, result.output
    assert "已生成示例数据" in result.output
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def manifest(demo: Engine) -> Manifest:
    value = scalar(demo, "SELECT value FROM dataset_info WHERE key = 'demo_manifest'")
    return Manifest.from_json(value)


@pytest.fixture(scope="module")
def group_of(demo: Engine, manifest: Manifest) -> dict[str, str]:
    """Every village-level unit's progress group: as the manifest lists the rural villages;
    the others (urban communities) draw as typical."""
    listed = {code: g for g, codes in manifest.progress_groups.items() for code in codes}
    villages = [c for (c,) in rows(demo, "SELECT code FROM unit WHERE level = 'village'")]
    return {code: listed.get(code, "typical") for code in villages}


def per_group(counts: list[tuple[str, int]], group_of: dict[str, str]) -> dict[str, int]:
    """(village code, count) rows summed per progress group."""
    total: Counter[str] = Counter()
    for code, n in counts:
        total[group_of[code]] += n
    return dict(total)


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def assert_share(count: int, n: int, p: float, what: str) -> None:
    """``count`` of ``n`` is within 4 binomial standard errors of the stated share ``p``."""
    sigma = math.sqrt(p * (1 - p) / n)
    assert abs(count / n - p) <= 4 * sigma, f"{what}: {count}/{n} = {count / n:.4f}, stated {p}"


def assert_mixture(count: int, terms: list[tuple[int, float]], what: str) -> None:
    """``count`` is a sum of binomials, ``n`` trials with probability ``p`` for each (n, p) of
    ``terms``: within 4 standard deviations of its mean sum(n p)."""
    mean = sum(n * p for n, p in terms)
    sigma = math.sqrt(sum(n * p * (1 - p) for n, p in terms))
    total = sum(n for n, _ in terms)
    assert abs(count - mean) <= 4 * sigma, (
        f"{what}: {count}/{total} = {count / total:.4f}, expected {mean / total:.4f}"
        f" ± {4 * sigma / total:.4f}"
    )


def geoms(values: list[bytes]) -> np.ndarray:
    return shapely.from_wkb(np.array(values, dtype=object))


# --- counts and the CLI ------------------------------------------------------------------------


def test_rural_stats_prints_the_demo_counts(demo: Engine) -> None:
    result = run_cli(demo.url.render_as_string(hide_password=False), "stats")
    assert result.exit_code == 0, result.output
    lines = {line.split()[0].strip("│┃ "): line for line in result.output.splitlines() if line}
    counts = {}
    for line in result.output.splitlines():
        cells = [c.strip() for c in line.replace("┃", "│").split("│") if c.strip()]
        if len(cells) == 3:
            counts[cells[0]] = cells[2]
    assert counts["units:town"] == "12", lines
    assert counts["units:village"] == "200"
    assert counts["units:county"] == "1"
    assert counts["households"] == "60,000"


def test_if_missing_keeps_the_loaded_demo(demo: Engine) -> None:
    result = run_cli(demo.url.render_as_string(hide_password=False), "demo", "--if-missing")
    assert result.exit_code == 0, result.output
    assert "已存在" in result.output
    assert scalar(demo, "SELECT count(*) FROM change_log") == 1


def test_the_load_is_recorded_once_in_the_change_log(demo: Engine) -> None:
    ((actor, action, object_type, note),) = rows(
        demo, "SELECT actor, action, object_type, note FROM change_log"
    )
    assert (actor, action, object_type) == ("测试员", "import", "dataset")
    assert "示例" in note
    info = dict(rows(demo, "SELECT key, value FROM dataset_info"))
    assert info["demo"] == "true"
    assert info["seed"] == "7"
    assert DemoParams.from_json(info["params"]) == PARAMS


def test_foreign_keys_hold(demo: Engine) -> None:
    assert rows(demo, "PRAGMA foreign_key_check") == []


# --- geography and codes -----------------------------------------------------------------------


def test_units_have_valid_codes_under_their_parents(demo: Engine) -> None:
    units = rows(demo, "SELECT code, name, level, parent_code FROM unit")
    by_level = Counter(level for _, _, level, _ in units)
    assert by_level == {"province": 1, "city": 1, "county": 1, "town": 12, "village": 200}
    for code, _, level, parent in units:
        assert codes.validate(code) == code
        assert codes.level_of(code).value == level
        assert codes.parent_of(code) == parent
    (county,) = [(c, n) for c, n, level, _ in units if level == "county"]
    assert county[0] == "331128000000"
    assert "示例" in county[1]
    names_by_parent = Counter((parent, name) for _, name, _, parent in units)
    assert max(names_by_parent.values()) == 1


def test_town_and_village_kinds(demo: Engine) -> None:
    towns = [c for (c,) in rows(demo, "SELECT code FROM unit WHERE level = 'town'")]
    kinds = Counter(codes.town_kind(c) for c in towns)
    assert kinds["街道"] == 1
    assert kinds["镇"] > kinds["乡"] > 0
    villages = rows(
        demo,
        "SELECT code, urban_rural_code, rural_override FROM unit WHERE level = 'village'",
    )
    committees = [v for v in villages if codes.village_kind(v[0]) == "村委会"]
    communities = [v for v in villages if codes.village_kind(v[0]) == "居委会"]
    assert len(committees) + len(communities) == 200
    assert 3 <= len(communities) <= 25
    assert {urc for _, urc, _ in committees} <= {"220", "210"}
    assert {urc for _, urc, _ in communities} <= {"111", "112", "121"}
    overridden = [v for v in villages if v[2] is not None]
    assert len(overridden) == 1
    code, urc, override = overridden[0]
    assert codes.village_kind(code) == "居委会"
    assert (urc, override) == ("112", 1)


def test_the_county_is_in_lishui_and_not_a_rectangle(demo: Engine) -> None:
    (wkb,) = rows(demo, "SELECT geom FROM unit WHERE level = 'county'")[0]
    county = shapely.from_wkb(wkb)
    minx, miny, maxx, maxy = county.bounds
    assert 119.6 <= minx < maxx <= 120.1
    assert 28.2 <= miny < maxy <= 28.6
    assert county.area < 0.9 * county.envelope.area
    assert len(shapely.get_coordinates(county)) > 50


@pytest.mark.parametrize(("child", "parent"), [("village", "town"), ("town", "county")])
def test_children_tile_their_parent(demo: Engine, child: str, parent: str) -> None:
    parents = dict(rows(demo, "SELECT code, geom FROM unit WHERE level = :l", l=parent))
    children = rows(demo, "SELECT code, parent_code, geom FROM unit WHERE level = :l", l=child)
    cells = geoms([g for _, _, g in children])
    assert all(g.geom_type == "MultiPolygon" for g in cells)
    assert shapely.is_valid(cells).all()
    for code, wkb in parents.items():
        whole = shapely.from_wkb(wkb)
        mine = [cell for (_, p, _), cell in zip(children, cells, strict=True) if p == code]
        union = shapely.union_all(mine)
        assert abs(union.area - whole.area) <= 1e-9 * whole.area
        assert union.symmetric_difference(whole).area <= 1e-9 * whole.area
    tree = shapely.STRtree(cells)
    left, right = tree.query(cells, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(cells[left[pairs]], cells[right[pairs]]))
    assert overlap.max(initial=0.0) < 1e-12  # degrees²: well under a square metre


def test_households_lie_inside_their_villages(demo: Engine) -> None:
    villages = dict(rows(demo, "SELECT code, geom FROM unit WHERE level = 'village'"))
    households = rows(demo, "SELECT village_code, geom, minx, miny FROM household")
    by_village: dict[str, list[bytes]] = defaultdict(list)
    for village, wkb, minx, miny in households:
        by_village[village].append(wkb)
        assert minx is not None
        assert miny is not None
    assert set(by_village) == set(villages)
    for village, wkbs in by_village.items():
        points = geoms(wkbs)
        polygon = shapely.from_wkb(villages[village])
        assert shapely.contains(polygon, points).all(), village


# --- households and fake personal data ---------------------------------------------------------


def _id_check(body: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def test_households_carry_plainly_fake_personal_data(demo: Engine) -> None:
    households = rows(
        demo, "SELECT code, village_code, id_number, phone, householder FROM household"
    )
    assert len({h[0] for h in households}) == len(households) == 60_000
    for code, village, id_number, phone, name in households[::97]:
        assert code[:12] == village
        assert len(code) == 16
        assert code[12:].isdigit()
        assert id_number.startswith("999999")
        assert len(id_number) == 18
        assert id_number[17] == _id_check(id_number[:17])
        assert date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        assert phone.startswith("100")
        assert len(phone) == 11
        assert phone.isdigit()
        assert 2 <= len(name) <= 3


def test_household_flags_follow_their_stated_shares(demo: Engine) -> None:
    n, resident, registered, due = rows(
        demo,
        "SELECT count(*), sum(resident), sum(registered), sum(due_for_renovation) FROM household",
    )[0]
    assert_share(resident, n, dist.RESIDENT_SHARE, "resident")
    assert_share(registered, n, dist.REGISTERED_SHARE, "registered")
    assert_share(due, n, dist.DUE_FOR_RENOVATION_SHARE, "due for renovation")


# --- toilets -----------------------------------------------------------------------------------


def _class(toilet_type: str, condition: str, destination: str) -> str:
    if destination == "untreated_discharge" or condition == "leaking":
        return "non_sanitary"
    if toilet_type in HARMLESS:
        return "harmless" if destination in TREATED else "sanitary"
    if toilet_type in SANITARY:
        return "sanitary"
    return "non_sanitary"


def type_share(group: str, toilet_type: ToiletType) -> float:
    """A type's stated share of a group's toilets: its family's share, split by type weight
    (0 for a type in no family, such as "none")."""
    families = [f for f, members in dist.TOILET_FAMILIES.items() if toilet_type in members]
    if not families:
        return 0.0
    (family,) = families
    weight = sum(dist.TOILET_TYPE_WEIGHTS[t] for t in dist.TOILET_FAMILIES[family])
    return dist.TOILET_FAMILY_SHARES[group][family] * dist.TOILET_TYPE_WEIGHTS[toilet_type] / weight


def renovated_condition_shares(group: str) -> dict[ToiletCondition, float]:
    """Stated condition shares of a group's renovated toilets."""
    in_use = dist.RENOVATED_IN_USE_SHARES[group]
    shares = {c: (1 - in_use) * s for c, s in dist.RENOVATED_OUT_OF_USE_SHARES.items()}
    return {ToiletCondition.IN_USE: in_use, **shares}


def class_shares(group: str) -> Counter[str]:
    """Stated share of each class among a group's toilets, from type, destination and
    condition shares through the rule."""
    expected: Counter[str] = Counter()
    for toilet_type in ToiletType:
        share = type_share(group, toilet_type)
        if share == 0:
            continue
        untreated = dist.UNTREATED_SHARE.get(toilet_type, 0.0)
        default = str(dist.DESTINATION_BY_TYPE[toilet_type])
        conditions = (
            dist.OLD_CONDITION_SHARES
            if toilet_type in dist.OLD_TYPES
            else renovated_condition_shares(group)
        )
        for condition, c_share in conditions.items():
            for destination, d_share in (
                ("untreated_discharge", untreated),
                (default, 1 - untreated),
            ):
                klass = _class(str(toilet_type), str(condition), destination)
                expected[klass] += share * c_share * d_share
    return expected


def in_use_share(group: str, types: set[str]) -> float:
    """Stated share of a group's households whose toilet is of one of ``types``, discharges
    to its treated destination and is in use (old pits never count: none is in ``types``)."""
    has = 1 - dist.NO_TOILET_SHARES[group]
    treated = sum(
        type_share(group, t) * (1 - dist.UNTREATED_SHARE.get(t, 0.0))
        for t in ToiletType
        if str(t) in types
    )
    return has * treated * dist.RENOVATED_IN_USE_SHARES[group]


def test_stated_toilet_shares_are_distributions() -> None:
    assert sum(dist.PROGRESS_VILLAGE_SHARES.values()) == pytest.approx(1)
    for group in dist.PROGRESS_GROUPS:
        assert sum(type_share(group, t) for t in ToiletType) == pytest.approx(1)
        assert sum(class_shares(group).values()) == pytest.approx(1)
    assert set().union(*dist.TOILET_FAMILIES.values()) == set(ToiletType) - {ToiletType.NONE}
    assert sum(dist.RENOVATED_OUT_OF_USE_SHARES.values()) == pytest.approx(1)
    # Harmless in use, by hand (of the harmless family, the three-compartment tanks are 0.52 of
    # 0.77 and 0.02 of them discharge untreated: 1 - 0.02 x 0.52 / 0.77 = 0.98649):
    # lagging 0.95 x 0.40 x 0.98649 x 0.82 = 0.3074, leading 1.00 x 0.99 x 0.98649 x 0.99
    # = 0.9669, typical 0.98 x 0.84 x 0.98649 x 0.92 = 0.7471.
    for group, by_hand in (("lagging", 0.3074), ("leading", 0.9669), ("typical", 0.7471)):
        assert in_use_share(group, HARMLESS) == pytest.approx(by_hand, abs=5e-5)
    assert in_use_share("lagging", HARMLESS) < dist.LAGGING_HARMLESS_CEILING - 0.1


@pytest.fixture(scope="module")
def toilets(demo: Engine) -> list[Any]:
    return rows(
        demo,
        "SELECT t.id, t.toilet_type, t.condition, t.excreta_destination, t.toilet_class,"
        " h.village_code FROM household_toilet t JOIN household h ON h.id = t.household_id",
    )


def test_toilet_types_conditions_and_no_toilet_shares(
    demo: Engine, toilets: list[Any], group_of: dict[str, str]
) -> None:
    """Each group's households draw from the group's shares: the county counts are sums of
    binomials over the groups, with the groups' sizes as generated."""
    households = per_group(
        rows(demo, "SELECT village_code, count(*) FROM household GROUP BY 1"), group_of
    )
    have = Counter(group_of[t[5]] for t in toilets)
    no_toilet = sum(households.values()) - len(toilets)
    terms = [(households[g], dist.NO_TOILET_SHARES[g]) for g in households]
    assert_mixture(no_toilet, terms, "no toilet")
    types = Counter(t[1] for t in toilets)
    for toilet_type in ToiletType:
        terms = [(have[g], type_share(g, toilet_type)) for g in have]
        assert_mixture(types[str(toilet_type)], terms, str(toilet_type))
    old = {str(t) for t in dist.OLD_TYPES}
    renovated = [t for t in toilets if t[1] not in old]
    renovated_by_group = Counter(group_of[t[5]] for t in renovated)
    conditions = Counter(t[2] for t in renovated)
    assert set(conditions) <= {str(c) for c in ToiletCondition}
    for condition in renovated_condition_shares("typical"):
        terms = [
            (n, renovated_condition_shares(g)[condition]) for g, n in renovated_by_group.items()
        ]
        assert_mixture(conditions[str(condition)], terms, f"renovated {condition}")
    pits = [t for t in toilets if t[1] in old]
    conditions = Counter(t[2] for t in pits)
    assert set(conditions) <= {str(c) for c in dist.OLD_CONDITION_SHARES}
    for condition, share in dist.OLD_CONDITION_SHARES.items():
        assert_share(conditions[str(condition)], len(pits), share, f"old pit {condition}")


def test_toilet_classes_follow_the_rule_and_the_stated_shares(
    toilets: list[Any], group_of: dict[str, str]
) -> None:
    for _, toilet_type, condition, destination, toilet_class, _ in toilets:
        assert toilet_class == _class(toilet_type, condition, destination)
    have = Counter(group_of[t[5]] for t in toilets)
    got = Counter(t[4] for t in toilets)
    for klass in ("harmless", "sanitary", "non_sanitary"):
        terms = [(n, class_shares(g)[klass]) for g, n in have.items()]
        assert_mixture(got[klass], terms, klass)


# --- renovation progress: the villages that lag ------------------------------------------------


def _is_rural(code: str, urban_rural_code: str | None, override: int | None) -> bool:
    """The default rule of DOMAIN.md: every 村委会 plus any 2xx unit, or as set by hand."""
    if override is not None:
        return bool(override)
    return 200 <= int(code[9:12]) <= 399 or (urban_rural_code or "").startswith("2")


def test_every_rural_village_has_a_progress_group_in_the_stated_proportions(
    demo: Engine, manifest: Manifest
) -> None:
    units = rows(
        demo,
        "SELECT code, name, urban_rural_code, rural_override FROM unit WHERE level = 'village'",
    )
    rural = {code for code, _, urc, override in units if _is_rural(code, urc, override)}
    listed = [code for codes in manifest.progress_groups.values() for code in codes]
    assert sorted(listed) == sorted(rural)  # each rural village once, nothing else
    assert set(manifest.progress_groups) == set(dist.PROGRESS_GROUPS)
    for group, share in dist.PROGRESS_VILLAGE_SHARES.items():
        # rounded to whole villages within the county
        assert abs(len(manifest.progress_groups[group]) - share * len(rural)) < 1, group
    names = {code: name for code, name, _, _ in units}
    lagging = [(v.village_code, v.name) for v in manifest.lagging_villages]
    assert sorted(lagging) == sorted((c, names[c]) for c in manifest.progress_groups["lagging"])
    assert len(lagging) >= 10


@pytest.fixture(scope="module")
def harmless_rates(demo: Engine) -> dict[str, tuple[int, int]]:
    """(resident households with a harmless toilet in use, resident households) per village."""
    counts = rows(
        demo,
        "SELECT h.village_code,"
        " sum(CASE WHEN t.toilet_class = 'harmless' AND t.condition = 'in_use' THEN 1 END),"
        " count(*) FROM household h LEFT JOIN household_toilet t ON t.household_id = h.id"
        " WHERE h.resident GROUP BY h.village_code",
    )
    return {code: (harmless or 0, n) for code, harmless, n in counts}


def test_lagging_villages_stay_below_the_ceiling_and_the_map_shows_every_class(
    manifest: Manifest, harmless_rates: dict[str, tuple[int, int]]
) -> None:
    for village in manifest.lagging_villages:
        harmless, n = harmless_rates[village.village_code]
        assert harmless / n < dist.LAGGING_HARMLESS_CEILING, (village, harmless, n)
    rural = [code for codes in manifest.progress_groups.values() for code in codes]
    rates = [harmless_rates[code][0] / harmless_rates[code][1] for code in rural]
    # the overview map's classes: < 50%, 50-70%, 70-85%, 85-95%, >= 95%
    bounds = [0.0, 0.5, 0.7, 0.85, 0.95, 1.01]
    per_class = Counter(
        next(i for i in range(5) if bounds[i] <= rate < bounds[i + 1]) for rate in rates
    )
    assert all(per_class[i] >= 3 for i in range(5)), per_class
    assert per_class[0] >= len(manifest.lagging_villages)
    in_the_middle = sum(0.6 <= rate < 0.9 for rate in rates)
    assert in_the_middle > len(rates) / 2  # most villages lie between 60% and 90%


def test_remote_villages_lag_and_towns_rank_apart(
    demo: Engine, manifest: Manifest, harmless_rates: dict[str, tuple[int, int]]
) -> None:
    """Where the groups fall (rural.demo.progress): remote villages lag more often, and towns
    differ, so the town ranking and the map show something."""
    (county,) = rows(demo, "SELECT geom FROM unit WHERE level = 'county'")[0]
    centre = shapely.from_wkb(county).centroid
    villages = dict(rows(demo, "SELECT code, geom FROM unit WHERE level = 'village'"))

    def mean_distance(group: str) -> float:
        codes_ = manifest.progress_groups[group]
        return float(np.mean([shapely.from_wkb(villages[c]).distance(centre) for c in codes_]))

    lagging = mean_distance("lagging")
    assert all(mean_distance(g) < lagging for g in dist.PROGRESS_GROUPS if g != "lagging")
    towns: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for codes_ in manifest.progress_groups.values():
        for code in codes_:
            harmless, n = harmless_rates[code]
            towns[code[:9]][0] += harmless
            towns[code[:9]][1] += n
    rates = [harmless / n for harmless, n in towns.values()]
    assert max(rates) - min(rates) > 0.2, sorted(rates)


# --- civilized titles -------------------------------------------------------------------------

# The seven yearly campaigns up to 20 December 2025 (as_of is 31 October 2026); the re-check of
# March 2026 revoked titles. Issuers: 青溪县, 丽水市, 浙江省 and the central commission.
CAMPAIGN_YEARS = range(2019, 2026)
ISSUERS = {"county": "青文明委", "city": "丽文明委", "province": "浙文明委", "nation": "中央文明委"}
RANK = {level.value: i for i, level in enumerate(TitleLevel)}


@pytest.fixture(scope="module")
def titles(demo: Engine) -> list[Any]:
    return rows(
        demo,
        "SELECT t.unit_code, u.level, t.level, t.title, t.campaign, t.document_no,"
        " t.awarded_on, t.revoked_on, t.revoke_reason"
        " FROM civilized_title t JOIN unit u ON u.code = t.unit_code",
    )


def test_no_title_or_toilet_predates_its_unit(demo: Engine) -> None:
    early_titles = rows(
        demo,
        "SELECT count(*) FROM civilized_title t JOIN unit u ON u.code = t.unit_code"
        " WHERE t.awarded_on < u.valid_from",
    )
    early_states = rows(
        demo,
        "SELECT count(*) FROM toilet_state s JOIN household_toilet t ON t.id = s.toilet_id"
        " JOIN household h ON h.id = t.household_id JOIN unit u ON u.code = h.village_code"
        " WHERE s.effective_on < u.valid_from",
    )
    assert (early_titles, early_states) == ([(0,)], [(0,)])


def test_titles_carry_valid_levels_dates_campaigns_and_documents(
    titles: list[Any], manifest: Manifest
) -> None:
    rural = {code for codes in manifest.progress_groups.values() for code in codes}
    by_unit: dict[str, list[tuple[int, date, date | None]]] = defaultdict(list)
    for unit, unit_level, level, title, campaign, document, awarded, revoked, reason in titles:
        awarded = date.fromisoformat(awarded)
        assert (awarded.month, awarded.day) == (12, 20)
        assert awarded.year in CAMPAIGN_YEARS
        label = TitleLevel(level).label
        assert campaign == f"{awarded.year}年度{label}文明村镇评选"
        assert document.startswith(f"{ISSUERS[level]}〔{awarded.year}〕")
        assert document.endswith("号")
        assert document.removeprefix(f"{ISSUERS[level]}〔{awarded.year}〕")[:-1].isdigit()
        if unit_level == "village":
            assert unit in rural
            assert title == "文明村"
        else:
            assert (unit_level, title) == ("town", "文明乡镇")
        if revoked is None:
            assert reason is None
        else:
            revoked = date.fromisoformat(revoked)
            assert date(2026, 3, 1) <= revoked <= date(2026, 3, 31)
            assert awarded < revoked
            assert reason
            assert level == "county"
        by_unit[unit].append((RANK[level], awarded, revoked))
    towns = [u for u in by_unit if u.endswith("000")]
    assert len(towns) == dist.TOWN_TITLES
    for unit, held in by_unit.items():
        if unit in towns:
            continue
        if any(revoked is not None for _, _, revoked in held):
            assert len(held) == 1  # a village whose only title was revoked
            continue
        # named level by level from the county up, a later campaign for each higher level
        held.sort()
        assert [rank for rank, _, _ in held] == list(range(len(held)))
        years = [awarded.year for _, awarded, _ in held]
        assert years == sorted(set(years))
    # a campaign's titles share its document
    documents = defaultdict(set)
    for *_, campaign, document, _, _, _ in titles:
        documents[campaign].add(document)
    assert all(len(d) == 1 for d in documents.values())


def test_titles_in_force_follow_the_stated_shares(titles: list[Any], manifest: Manifest) -> None:
    in_force: dict[str, int] = {}
    revoked: set[str] = set()
    for unit, unit_level, level, *_, revoked_on, _ in titles:
        if unit_level != "village":
            continue
        if revoked_on is None:
            in_force[unit] = max(in_force.get(unit, -1), RANK[level])
        else:
            revoked.add(unit)
    assert not revoked & set(in_force)
    groups = manifest.progress_groups
    held = [(len(codes), dist.TITLE_HELD_SHARES[g]) for g, codes in groups.items()]
    assert_mixture(len(in_force), held, "villages holding a title")
    lost = [(len(codes), dist.TITLE_REVOKED_SHARES[g]) for g, codes in groups.items()]
    assert_mixture(len(revoked), lost, "villages whose title was revoked")
    highest = Counter(in_force.values())
    for level, share in dist.TITLE_LEVEL_SHARES.items():
        assert_share(highest[RANK[level.value]], len(in_force), share, f"highest {level}")
    # lagging villages seldom hold one, leading ones mostly do
    lagging = {v.village_code for v in manifest.lagging_villages}
    assert len(lagging & set(in_force)) < len(lagging) / 2
    assert len(set(groups["leading"]) & set(in_force)) > len(groups["leading"]) / 2


# --- histories ---------------------------------------------------------------------------------


def test_status_histories_follow_the_lifecycles_and_end_in_the_current_status(
    demo: Engine,
) -> None:
    history = rows(
        demo,
        "SELECT object_type, object_id, from_status, to_status, effective_on FROM status_change"
        " ORDER BY object_type, object_id, effective_on, id",
    )
    lifecycles = default_lifecycles()
    last: dict[tuple[str, int], str] = {}
    for object_type, object_id, from_status, to_status, on in history:
        key = (object_type, object_id)
        cycle = lifecycles[STATEFUL_KINDS[object_type].lifecycle]
        assert date.fromisoformat(on) <= AS_OF
        if key not in last:
            assert from_status is None, key
        else:
            assert from_status == last[key], key
            assert cycle.allowed(from_status, to_status), (key, from_status, to_status)
        last[key] = to_status
    for object_type, kind in STATEFUL_KINDS.items():
        table = kind.model.__tablename__  # type: ignore[attr-defined]
        current = rows(demo, f"SELECT id, {kind.status_field} FROM {table}")
        assert current, object_type
        for object_id, status in current:
            assert last[(object_type, object_id)] == status, (object_type, object_id)


# --- courtyards, sorting, sewage connections, samples -------------------------------------------


def test_courtyards_follow_their_stated_shares(demo: Engine) -> None:
    households = scalar(demo, "SELECT count(*) FROM household")
    ratings = rows(demo, "SELECT household_id, stars, level FROM courtyard_rating")
    assert len({r[0] for r in ratings}) == len(ratings)
    assert_share(len(ratings), households, dist.COURTYARD_RATED_SHARE, "rated")
    stars = Counter(r[1] for r in ratings)
    for star, share in dist.COURTYARD_STAR_SHARES.items():
        assert_share(stars[star], len(ratings), share, f"{star} stars")
    assert {r[2] for r in ratings if r[1] == 5} == {"county"}
    assert {r[2] for r in ratings} == {"town", "county"}


def test_sorting_checks_follow_their_stated_shares(demo: Engine) -> None:
    households = scalar(demo, "SELECT count(*) FROM household")
    checks = rows(demo, "SELECT participated, correct FROM sorting_inspection")
    assert_share(len(checks), households, dist.SORTING_SAMPLE_SHARE, "checked")
    took_part = [c for c in checks if c[0]]
    assert_share(len(took_part), len(checks), dist.SORTING_PARTICIPATION, "participated")
    assert_share(sum(c[1] for c in took_part), len(took_part), dist.SORTING_ACCURACY, "accuracy")
    assert all(c[1] is None for c in checks if not c[0])


def test_sewage_connections_follow_the_stated_share(demo: Engine) -> None:
    eligible, connected = rows(
        demo,
        "SELECT count(*), count(c.id) FROM household h"
        " LEFT JOIN sewage_connection c ON c.household_id = h.id"
        " WHERE h.village_code IN (SELECT village_code FROM sewage_facility)",
    )[0]
    assert_share(connected, eligible, dist.SEWAGE_CONNECTION_SHARE, "connected")
    wrong_village = scalar(
        demo,
        "SELECT count(*) FROM sewage_connection c JOIN household h ON h.id = c.household_id"
        " JOIN sewage_facility f ON f.id = c.facility_id WHERE f.village_code != h.village_code",
    )
    assert wrong_village == 0


def _failing(values: dict[str, float | None], limits: dict[str, tuple[float, float]], cold: bool):
    bad = [
        item
        for item, (normal, cold_limit) in limits.items()
        if values[item] is not None and values[item] > (cold_limit if cold else normal)
    ]
    if values["ph"] is not None and not 6 <= values["ph"] <= 9:
        bad.append("ph")
    return tuple(sorted(bad))


def test_failing_samples_are_exactly_those_the_limits_fail(
    demo: Engine, manifest: Manifest
) -> None:
    samples = rows(
        demo,
        "SELECT s.id, s.facility_id, f.discharge_class, s.ph, s.cod, s.ss, s.nh3n, s.tn, s.tp"
        " FROM effluent_sample s JOIN sewage_facility f ON f.id = s.facility_id",
    )
    found = {}
    for sample_id, facility_id, klass, ph, cod, ss, nh3n, tn, tp in samples:
        values = {"ph": ph, "cod": cod, "ss": ss, "nh3n": nh3n, "tn": tn, "tp": tp}
        failing = _failing(values, LIMITS[klass], cold=False)
        assert failing == _failing(values, LIMITS[klass], cold=True)  # no temperature doubt
        if failing:
            found[sample_id] = (facility_id, klass, failing)
    listed = {
        s.sample_id: (s.facility_id, s.discharge_class, s.failing_items)
        for s in manifest.failing_samples
    }
    assert found == listed
    assert_share(len(samples) - len(found), len(samples), dist.SAMPLE_PASS_RATE, "pass rate")


def test_faulty_sewage_facilities_are_listed_with_their_dates(
    demo: Engine, manifest: Manifest
) -> None:
    faulty = rows(
        demo,
        "SELECT f.id, f.status, max(s.effective_on) FROM sewage_facility f"
        " JOIN status_change s ON s.object_type = 'sewage_facility' AND s.object_id = f.id"
        " WHERE f.status != 'operating' GROUP BY f.id, f.status",
    )
    listed = {
        (f.facility_id, str(f.status), f.since.isoformat())
        for f in manifest.faulty_sewage_facilities
    }
    assert set(faulty) == listed
    assert listed


def test_overdue_problems_are_listed(demo: Engine, manifest: Manifest) -> None:
    overdue = rows(
        demo,
        "SELECT id, village_code, deadline, status FROM problem"
        " WHERE deadline < :as_of AND status != 'closed'",
        as_of=AS_OF.isoformat(),
    )
    listed = {
        (p.problem_id, p.village_code, p.deadline.isoformat(), str(p.status))
        for p in manifest.overdue_problems
    }
    assert set(overdue) == listed
    assert 150 <= scalar(demo, "SELECT count(*) FROM problem") <= 450
    assert listed
    escalated = scalar(
        demo,
        "SELECT count(*) FROM problem WHERE escalation != 'none' AND status != 'closed'"
        " AND deadline < :as_of",
        as_of=AS_OF.isoformat(),
    )
    assert escalated == len(listed)


# --- the garbage chain -------------------------------------------------------------------------


def _month_of(day: str) -> str:
    return day[:7]


def audit(demo: Engine) -> set[tuple[str, str, str, str | None]]:
    """The chain breaks on ``as_of`` and in each month's flows, by queries written here:
    (kind, object type, object id, the month of an unbalanced one or a mixed link's category)."""
    found: set[tuple[str, str, str, str | None]] = set()
    point_status = dict(rows(demo, "SELECT id, status FROM collection_point"))
    station_status = dict(rows(demo, "SELECT id, status FROM transfer_station"))
    villages = rows(
        demo, "SELECT code, urban_rural_code, rural_override FROM unit WHERE level = 'village'"
    )
    village_points: dict[str, list[int]] = defaultdict(list)
    for code, point in rows(
        demo, "SELECT village_code, collection_point_id FROM chain_link WHERE source_kind='village'"
    ):
        village_points[code].append(point)
    for code, urc, override in villages:
        rural = 200 <= int(code[9:12]) <= 399 or (urc or "").startswith("2")
        if override is not None:
            rural = bool(override)
        if rural and not any(point_status[p] == "operating" for p in village_points[code]):
            found.add(("village_no_point", "village", code, None))
    point_stations: dict[int, list[int]] = defaultdict(list)
    for point, station in rows(
        demo,
        "SELECT collection_point_id, transfer_station_id FROM chain_link"
        " WHERE source_kind = 'collection_point'",
    ):
        point_stations[point].append(station)
    for point, status in point_status.items():
        in_service = status in ("operating", "fault", "stopped")
        if in_service and not any(station_status[s] == "operating" for s in point_stations[point]):
            found.add(("point_no_station", "collection_point", str(point), None))
    for table in ("collection_point", "transfer_station", "treatment_facility"):
        for (object_id,) in rows(
            demo, f"SELECT id FROM {table} WHERE status IN ('fault','stopped')"
        ):
            found.add(("facility_down", table, str(object_id), None))
    accepted = {
        fid: set(json.loads(cats))
        for fid, cats in rows(demo, "SELECT id, accepted_categories FROM treatment_facility")
    }
    for link, fid, category in rows(
        demo,
        "SELECT id, treatment_facility_id, category FROM chain_link"
        " WHERE source_kind = 'transfer_station'",
    ):
        if category is None or category not in accepted[fid]:
            found.add(("mixed_transport", "chain_link", str(link), category))
    capacity = dict(rows(demo, "SELECT id, capacity_tpd FROM transfer_station"))
    inflow: dict[tuple[int, str], float] = defaultdict(float)
    receipts: dict[tuple[int, str], float] = defaultdict(float)
    days: dict[str, int] = {}
    for kind, station, start, end, tonnes in rows(
        demo,
        "SELECT node_kind, transfer_station_id, period_start, period_end, tonnes"
        " FROM tonnage_record WHERE method = 'measured'",
    ):
        month = _month_of(start)
        days[month] = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
        target = inflow if kind == "transfer_station" else receipts
        target[(station, month)] += tonnes
    overloaded_months: dict[int, set[str]] = defaultdict(set)
    for (station, month), tonnes in inflow.items():
        if tonnes > capacity[station] * days[month]:
            overloaded_months[station].add(month)
        out = receipts[(station, month)]
        if abs(tonnes - out) / max(tonnes, out) > 0.05:
            found.add(("unbalanced", "transfer_station", str(station), month))
    for station in capacity:
        year = sum(t for (s, _), t in inflow.items() if s == station)
        if year > capacity[station] * WINDOW_DAYS:
            assert overloaded_months[station] == set(days), "overloaded in every month too"
            found.add(("station_overloaded", "transfer_station", str(station), None))
        else:
            assert not overloaded_months[station]
    return found


def test_the_manifest_lists_exactly_the_chain_breaks_in_the_data(
    demo: Engine, manifest: Manifest
) -> None:
    listed = set()
    for b in manifest.chain_breaks:
        # Unbalanced breaks are found in one month; the category marks a mixed link.
        detail = b.period if b.kind == ChainBreakKind.UNBALANCED else b.category
        listed.add((str(b.kind), b.object_type, b.object_id, detail))
    assert audit(demo) == listed
    kinds = Counter(b.kind for b in manifest.chain_breaks)
    assert set(kinds) == set(ChainBreakKind)
    assert kinds[ChainBreakKind.VILLAGE_NO_POINT] == 3
    assert kinds[ChainBreakKind.UNBALANCED] >= 1


def test_status_breaks_carry_the_day_they_began(demo: Engine, manifest: Manifest) -> None:
    began = {
        (t, str(i)): on
        for t, i, on in rows(
            demo,
            "SELECT object_type, object_id, max(effective_on) FROM status_change"
            " WHERE to_status IN ('fault', 'stopped') GROUP BY object_type, object_id",
        )
    }
    point_of_village = dict(
        rows(
            demo,
            "SELECT l.village_code, p.id FROM chain_link l"
            " JOIN collection_point p ON p.id = l.collection_point_id"
            " WHERE l.source_kind = 'village' AND p.status != 'operating'",
        )
    )
    for b in manifest.chain_breaks:
        if b.kind == ChainBreakKind.FACILITY_DOWN:
            assert b.period == f"{began[(b.object_type, b.object_id)]}/{AS_OF}"
        if b.kind == ChainBreakKind.VILLAGE_NO_POINT and b.period is not None:
            point = str(point_of_village[b.object_id])
            assert b.period == f"{began[('collection_point', point)]}/{AS_OF}"
        if b.kind == ChainBreakKind.STATION_OVERLOADED:
            assert b.period == f"{WINDOW_START}/{AS_OF}"


def test_flows_cover_twelve_months_with_labelled_methods(demo: Engine) -> None:
    methods = dict(
        rows(demo, "SELECT node_kind, group_concat(DISTINCT method) FROM tonnage_record GROUP BY 1")
    )
    assert methods == {
        "village": "estimated",
        "transfer_station": "measured",
        "treatment_facility": "measured",
    }
    months = {
        m for (m,) in rows(demo, "SELECT DISTINCT substr(period_start, 1, 7) FROM tonnage_record")
    }
    assert len(months) == 12
    assert min(months) == "2025-11"
    assert max(months) == "2026-10"
    fates = {f for (f,) in rows(demo, "SELECT DISTINCT fate FROM tonnage_record")}
    assert fates == {
        None,
        "recycled",
        "composted",
        "incinerated_energy",
        "landfilled",
        "hazardous_disposed",
    }
    first, last = rows(demo, "SELECT min(collected_on), max(collected_on) FROM collection_log")[0]
    assert WINDOW_START.isoformat() <= first < (WINDOW_START + timedelta(days=7)).isoformat()
    assert last <= AS_OF.isoformat()
