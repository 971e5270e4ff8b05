"""``generate(params)``: the whole demo dataset in memory, as columns per table."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from rural import codes
from rural import models as m
from rural.demo import garbage, households, names, sewage, titles, village_life
from rural.demo.core import Ctx, TableData, Villages
from rural.demo.geography import Geography, build, mark_converted_community
from rural.demo.manifest import LaggingVillage, Manifest
from rural.demo.params import DemoParams
from rural.demo.progress import GROUPS, LAGGING, assign_progress
from rural.enums import UnitLevel
from rural.villages import load_village_rule

UNITS_VALID_FROM = date(2014, 6, 30)  # before the first ledger (2015) and title (2019)
PEOPLE_POOL = 20_000
TABLE_ORDER = (
    "unit",
    "civilized_title",
    "user_account",
    "household",
    "household_toilet",
    "toilet_state",
    "courtyard_rating",
    "sorting_inspection",
    "public_toilet",
    "collection_point",
    "transfer_station",
    "treatment_facility",
    "chain_link",
    "collection_log",
    "tonnage_record",
    "sewage_facility",
    "sewage_connection",
    "sewage_inspection",
    "repair_request",
    "effluent_sample",
    "problem",
    "status_change",
    "dataset_info",
)
STEPS = ("地理区划", "农户与户厕", "公厕", "垃圾收运链", "污水设施", "问题、文明村镇称号与用户")

Progress = Callable[[str], None]


@dataclass
class DemoDataset:
    """A generated demo: its parameters, its tables in insert order, and its manifest."""

    params: DemoParams
    tables: dict[str, TableData]
    manifest: Manifest

    def counts(self) -> dict[str, int]:
        return {name: len(table) for name, table in self.tables.items()}

    @property
    def rows(self) -> int:
        return sum(self.counts().values())


def source_hash() -> str:
    """A hash of the generator's source: cached datasets are stale when it changes."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for path in sorted(here.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for extra in ("enums.py", "codes.py", "bulk.py"):
        digest.update((here.parent / extra).read_bytes())
    return digest.hexdigest()[:16]


def generate(params: DemoParams, *, progress: Progress | None = None) -> DemoDataset:
    """The demo county (or province) for ``params``; deterministic in ``params.seed``."""
    params.check()

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    rng = np.random.default_rng(params.seed)
    geo = build(params, rng)
    mark_converted_community(geo)
    ctx = Ctx(
        params=params,
        rng=rng,
        geo=geo,
        villages=_villages(geo),
        people=names.person_pool(rng, PEOPLE_POOL),
        town_index={town.code: i for i, town in enumerate(geo.towns)},
    )
    _units(ctx)
    ctx.progress = assign_progress(ctx)
    step(STEPS[0])
    households.generate(ctx)
    step(STEPS[1])
    village_life.public_toilets(ctx)
    step(STEPS[2])
    breaks = garbage.generate(ctx)
    step(STEPS[3])
    faults, failing = sewage.generate(ctx)
    step(STEPS[4])
    overdue = village_life.problems(ctx)
    titles.generate(ctx)
    village_life.users(ctx)
    manifest = Manifest(
        as_of=params.as_of,
        chain_breaks=breaks,
        faulty_sewage_facilities=faults,
        failing_samples=failing,
        overdue_problems=overdue,
        lagging_villages=_lagging(ctx),
        progress_groups=_progress_groups(ctx),
    )
    ctx.add("status_change", m.StatusChange, ctx.history.columns())
    ctx.add("dataset_info", m.DatasetInfo, dataset_info_rows(params, manifest))
    step(STEPS[5])
    tables = {name: ctx.tables[name] for name in TABLE_ORDER if name in ctx.tables}
    return DemoDataset(params=params, tables=tables, manifest=manifest)


def _progress_groups(ctx: Ctx) -> dict[str, list[str]]:
    """Every rural village's progress group: group key → village codes."""
    vill = ctx.villages
    return {
        key: [vill.codes[v] for v in np.flatnonzero(vill.rural & (ctx.progress == g)).tolist()]
        for g, key in enumerate(GROUPS)
    }


def _lagging(ctx: Ctx) -> list[LaggingVillage]:
    vill = ctx.villages
    chosen = np.flatnonzero(vill.rural & (ctx.progress == LAGGING)).tolist()
    return [LaggingVillage(village_code=vill.codes[v], name=vill.geos[v].name) for v in chosen]


def dataset_info_rows(params: DemoParams, manifest: Manifest) -> dict[str, list[str]]:
    info = {
        "demo": "true",
        "seed": str(params.seed),
        "params": params.to_json(),
        "demo_as_of": params.as_of.isoformat(),
        "demo_generator": source_hash(),
        "demo_manifest": manifest.to_json(),
    }
    return {"key": list(info), "value": list(info.values())}


def _villages(geo: Geography) -> Villages:
    county_of_town: list[int] = []
    for c, county in enumerate(geo.counties):
        county_of_town.extend([c] * len(county.towns))
    geos, town = [], []
    for t, town_geo in enumerate(geo.towns):
        geos.extend(town_geo.villages)
        town.extend([t] * len(town_geo.villages))
    town_arr = np.array(town, dtype=np.int64)
    committee = np.array([v.is_committee for v in geos], dtype=bool)
    rule = load_village_rule()
    rural = np.array(
        [rule.includes(v.code, v.urban_rural_code, v.rural_override) for v in geos], dtype=bool
    )
    return Villages(
        geos=geos,
        codes=[v.code for v in geos],
        town=town_arr,
        county=np.array(county_of_town, dtype=np.int64)[town_arr],
        committee=committee,
        rural=rural,
    )


def _units(ctx: Ctx) -> None:
    geo = ctx.geo
    rows: list[dict[str, object]] = []

    def add(code: str, name: str, level: UnitLevel, geom: object, **extra: object) -> None:
        codes.validate(code)
        rows.append(
            {
                "code": code,
                "name": name,
                "level": level.value,
                "parent_code": codes.parent_of(code),
                "urban_rural_code": extra.get("urban_rural_code"),
                "rural_override": extra.get("rural_override"),
                "valid_from": UNITS_VALID_FROM,
                "geom": geom,
            }
        )

    from rural.demo.geography import PROVINCE_CODE, PROVINCE_NAME

    add(PROVINCE_CODE, PROVINCE_NAME, UnitLevel.PROVINCE, geo.province_geom)
    for city in geo.cities:
        add(city.code, city.name, UnitLevel.CITY, city.geom)
    for county in geo.counties:
        add(county.code, county.name, UnitLevel.COUNTY, county.geom)
    for town in geo.towns:
        add(town.code, town.name, UnitLevel.TOWN, town.geom)
    for v in ctx.villages.geos:
        add(
            v.code,
            v.name,
            UnitLevel.VILLAGE,
            v.geom,
            urban_rural_code=v.urban_rural_code,
            rural_override=v.rural_override,
        )
    columns = {key: [row[key] for row in rows] for key in rows[0]}
    ctx.add("unit", m.Unit, columns)
