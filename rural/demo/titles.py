"""Civilized-village and -town titles 文明村镇称号: who was named at which level and when, and the
titles the last re-check (复查) revoked. The shares are in ``rural.demo.distributions``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from rural import models as m
from rural.bulk import Categorical
from rural.demo import distributions as dist
from rural.demo.core import Ctx, choice, enum_column
from rural.demo.geography import PROVINCE_NAME
from rural.enums import TitleLevel

LEVELS = list(TitleLevel)
VILLAGE_TITLE = "文明村"
TOWN_TITLE = "文明乡镇"
NATION_ISSUER = "中央文明委"


def campaign_years(as_of: date) -> list[int]:
    """The years of the campaigns up to the last naming day on or before ``as_of``."""
    month, day = dist.TITLE_CAMPAIGN_DAY
    last = as_of.year if as_of >= date(as_of.year, month, day) else as_of.year - 1
    return list(range(last - dist.TITLE_CAMPAIGN_YEARS + 1, last + 1))


def recheck_date(as_of: date) -> date:
    """The day of the last re-check on or before ``as_of``."""
    month, day = dist.TITLE_RECHECK_DAY
    this_year = date(as_of.year, month, day)
    return this_year if this_year <= as_of else date(as_of.year - 1, month, day)


@dataclass
class _Rows:
    unit: list[int]  # index into the unit-code list
    level: list[int]  # index into LEVELS
    year: list[int]
    revoked: list[bool]
    title: list[str]


def generate(ctx: Ctx) -> None:
    rng, vill, params = ctx.rng, ctx.villages, ctx.params
    years = campaign_years(params.as_of)
    recheck = recheck_date(params.as_of)
    codes = list(vill.codes) + [t.code for t in ctx.geo.towns]
    rows = _Rows([], [], [], [], [])
    _villages(ctx, years, recheck, rows)
    _towns(ctx, years, len(vill), rows)
    issuers = _issuers(ctx)
    numbers = rng.integers(1, 30, size=(len(issuers), len(years)))
    issuer_index = {name: i for i, name in enumerate(issuers)}
    order = sorted(range(len(rows.unit)), key=lambda i: (codes[rows.unit[i]], rows.year[i]))
    month, day = dist.TITLE_CAMPAIGN_DAY
    town_county = [c for c, county in enumerate(ctx.geo.counties) for _ in county.towns]
    county_of_unit = np.concatenate([vill.county, np.array(town_county, dtype=np.int64)])
    campaigns, documents, awarded, revoked_on, reasons = [], [], [], [], []
    for i in order:
        level, year = LEVELS[rows.level[i]], rows.year[i]
        issuer = _issuer_of(ctx, level, int(county_of_unit[rows.unit[i]]))
        number = numbers[issuer_index[issuer], years.index(year)]
        campaigns.append(f"{year}年度{level.label}文明村镇评选")
        documents.append(f"{issuer}〔{year}〕{number}号")
        awarded.append(date(year, month, day))
        revoked_on.append(recheck if rows.revoked[i] else None)
        reasons.append(
            dist.TITLE_REVOKE_REASONS[int(rng.integers(len(dist.TITLE_REVOKE_REASONS)))]
            if rows.revoked[i]
            else None
        )
    ctx.add(
        "civilized_title",
        m.CivilizedTitle,
        {
            "id": np.arange(1, len(order) + 1),
            "unit_code": Categorical(np.array([rows.unit[i] for i in order]), codes),
            "level": enum_column(TitleLevel, [rows.level[i] for i in order]),
            "title": [rows.title[i] for i in order],
            "campaign": campaigns,
            "document_no": documents,
            "awarded_on": awarded,
            "revoked_on": revoked_on,
            "revoke_reason": reasons,
        },
    )


def _villages(ctx: Ctx, years: list[int], recheck: date, rows: _Rows) -> None:
    """Held titles (county up to the highest level, in distinct years, lower levels first) and
    revoked county titles, by each rural village's progress group."""
    rng, vill = ctx.rng, ctx.villages
    groups = list(dist.PROGRESS_GROUPS)
    held_p = np.array([dist.TITLE_HELD_SHARES[g] for g in groups])[ctx.progress]
    revoked_p = np.array([dist.TITLE_REVOKED_SHARES[g] for g in groups])[ctx.progress]
    u = rng.random(len(vill))
    held = vill.rural & (u < held_p)
    revoked = vill.rural & ~held & (u < held_p + revoked_p)
    top_shares = dist.TITLE_LEVEL_SHARES
    top = np.array([LEVELS.index(level) for level in top_shares])[
        choice(rng, list(top_shares.values()), len(vill))
    ]
    # the years of the levels: top + 1 distinct years at random (a random rank per year)
    rank = np.argsort(np.argsort(rng.random((len(vill), len(years))), axis=1), axis=1)
    taken = rank <= top[:, None]
    before_recheck = [y for y in years if date(y, *dist.TITLE_CAMPAIGN_DAY) < recheck]
    revoked_year = np.array(before_recheck)[rng.integers(len(before_recheck), size=len(vill))]
    for v in np.flatnonzero(held).tolist():
        chosen = [year for year, pick in zip(years, taken[v].tolist(), strict=True) if pick]
        for level, year in enumerate(chosen):
            _add(rows, v, level, year, revoked=False, title=VILLAGE_TITLE)
    for v in np.flatnonzero(revoked).tolist():
        county = LEVELS.index(TitleLevel.COUNTY)
        _add(rows, v, county, int(revoked_year[v]), revoked=True, title=VILLAGE_TITLE)


def _towns(ctx: Ctx, years: list[int], offset: int, rows: _Rows) -> None:
    """A few towns per county named 文明乡镇 (unit index ``offset`` + town index)."""
    rng = ctx.rng
    shares = dist.TOWN_TITLE_LEVEL_SHARES
    first = 0
    for county in ctx.geo.counties:
        n = len(county.towns)
        chosen = np.sort(rng.choice(n, size=min(dist.TOWN_TITLES, n), replace=False))
        levels = np.array([LEVELS.index(level) for level in shares])[
            choice(rng, list(shares.values()), len(chosen))
        ]
        for t, level in zip(chosen.tolist(), levels.tolist(), strict=True):
            year = years[int(rng.integers(len(years)))]
            _add(rows, offset + first + t, level, year, revoked=False, title=TOWN_TITLE)
        first += n


def _add(rows: _Rows, unit: int, level: int, year: int, *, revoked: bool, title: str) -> None:
    rows.unit.append(unit)
    rows.level.append(level)
    rows.year.append(year)
    rows.revoked.append(revoked)
    rows.title.append(title)


def _city_of_county(ctx: Ctx, county: int) -> str:
    code = ctx.geo.counties[county].code
    return next(city.name for city in ctx.geo.cities if city.code[:4] == code[:4])


def _issuer_of(ctx: Ctx, level: TitleLevel, county: int) -> str:
    """Who names the title: the county's, city's or province's 文明委, or the central one."""
    if level == TitleLevel.COUNTY:
        return ctx.geo.counties[county].name[0] + "文明委"
    if level == TitleLevel.CITY:
        return _city_of_county(ctx, county)[0] + "文明委"
    if level == TitleLevel.PROVINCE:
        return PROVINCE_NAME[0] + "文明委"
    return NATION_ISSUER


def _issuers(ctx: Ctx) -> list[str]:
    names = {_issuer_of(ctx, level, c) for level in LEVELS for c in range(len(ctx.geo.counties))}
    return sorted(names)
