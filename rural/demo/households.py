"""Households 户 with plainly fake personal data, their toilets and toilet histories, courtyard
ratings and sorting spot checks. Vectorised: millions of households take seconds.

Plainly fake: ID numbers start with region 999999 (no such region) and phone numbers with 100
(no such mobile prefix).
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from rural import models as m
from rural.bulk import Categorical, Points
from rural.demo import distributions as dist
from rural.demo import names
from rural.demo.core import (
    ACTOR,
    Ctx,
    choice,
    d64,
    enum_column,
    enum_index,
    optional,
    random_dates,
    recorded_at,
)
from rural.demo.geography import allocate, sample_in
from rural.demo.params import MAX_HOUSEHOLDS_PER_VILLAGE, MIN_HOUSEHOLDS_PER_VILLAGE
from rural.enums import CourtyardLevel, ExcretaDestination, ToiletClass, ToiletCondition, ToiletType
from rural.ledgers.kinds import classify_toilet

FAKE_REGION = b"999999"
FAKE_PHONE_PREFIX = b"100"
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
TYPES = list(ToiletType)
CONDITIONS = list(ToiletCondition)
DESTINATIONS = list(ExcretaDestination)
CLASSES = list(ToiletClass)
# The class of every (type, condition, destination), by the project's rule.
CLASS_TABLE = np.array(
    [
        [[CLASSES.index(classify_toilet(t, c, d)) for d in DESTINATIONS] for c in CONDITIONS]
        for t in TYPES
    ]
)


def generate(ctx: Ctx) -> None:
    counts = _household_counts(ctx)
    ctx.hh_first = np.concatenate([[0], np.cumsum(counts)])
    ctx.hh_village = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
    ctx.hh_x, ctx.hh_y = _household_points(ctx, counts)
    _households(ctx, counts)
    _toilets(ctx)
    _courtyards(ctx)
    _sorting(ctx)


def _household_counts(ctx: Ctx) -> np.ndarray:
    rng, vill = ctx.rng, ctx.villages
    weights = rng.lognormal(0.0, 0.45, len(vill)) * np.where(vill.committee, 1.0, 1.6)
    counts = allocate(weights, ctx.params.households, MIN_HOUSEHOLDS_PER_VILLAGE)
    while counts.max() > MAX_HOUSEHOLDS_PER_VILLAGE:
        excess = int(np.clip(counts - MAX_HOUSEHOLDS_PER_VILLAGE, 0, None).sum())
        counts = np.minimum(counts, MAX_HOUSEHOLDS_PER_VILLAGE)
        counts[np.argsort(counts, kind="stable")[:excess]] += 1
    return counts


def _household_points(ctx: Ctx, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Households cluster in 1-5 settlements per village; a fifth are scattered."""
    rng = ctx.rng
    xs = np.empty(int(counts.sum()))
    ys = np.empty_like(xs)
    for v, geo in enumerate(ctx.villages.geos):
        n = int(counts[v])
        at = int(ctx.hh_first[v])
        x, y = _village_points(geo.geom, n, rng)
        xs[at : at + n] = x
        ys[at : at + n] = y
    return xs, ys


def _village_points(
    geom: BaseGeometry, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    k = 1 + min(int(rng.poisson(1.2)), 4)
    cx, cy = sample_in(geom, k, rng)
    sigma = math.sqrt(geom.area) / (4.0 * math.sqrt(k))
    clustered = n - n // 5
    got_x: list[np.ndarray] = []
    got_y: list[np.ndarray] = []
    have = 0
    for _ in range(8):
        if have >= clustered:
            break
        batch = (clustered - have) * 2 + 8
        which = rng.integers(k, size=batch)
        x = cx[which] + rng.normal(0.0, sigma, batch)
        y = cy[which] + rng.normal(0.0, sigma, batch)
        inside = shapely.contains_xy(geom, x, y)
        got_x.append(x[inside])
        got_y.append(y[inside])
        have += int(inside.sum())
    x = np.concatenate(got_x)[:clustered] if got_x else np.zeros(0)
    y = np.concatenate(got_y)[:clustered] if got_y else np.zeros(0)
    sx, sy = sample_in(geom, n - len(x), rng)
    return np.concatenate([x, sx]), np.concatenate([y, sy])


def _digits(prefix: bytes, digits: np.ndarray) -> np.ndarray:
    """Fixed-width ASCII strings: ``prefix`` then one digit per column of ``digits``."""
    n, k = digits.shape
    width = len(prefix) + k
    mat = np.empty((n, width), dtype=np.uint8)
    mat[:, : len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    mat[:, len(prefix) :] = digits + ord("0")
    return mat.view(f"S{width}").ravel()


def _number_digits(values: np.ndarray, width: int) -> np.ndarray:
    """The decimal digits of non-negative integers, zero-padded to ``width`` columns."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values[:, None] // powers) % 10).astype(np.uint8)


def fake_id_numbers(rng: np.random.Generator, n: int, as_of: date) -> np.ndarray:
    """18-character resident ID numbers with a valid check digit and the fake region 999999."""
    oldest, youngest = d64(date(as_of.year - 85, 1, 1)), d64(date(as_of.year - 22, 12, 31))
    birth = random_dates(rng, oldest, youngest, n)
    years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    months = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    ymd = years * 10_000 + months * 100 + days
    seq = rng.integers(0, 1000, size=n)
    body = np.concatenate(
        [
            np.tile(np.frombuffer(FAKE_REGION, dtype=np.uint8) - ord("0"), (n, 1)),
            _number_digits(ymd, 8),
            _number_digits(seq, 3),
        ],
        axis=1,
    ).astype(np.int64)
    check = ID_CHECK[(body * ID_WEIGHTS).sum(axis=1) % 11]
    mat = np.empty((n, 18), dtype=np.uint8)
    mat[:, :17] = body + ord("0")
    mat[:, 17] = check
    return mat.view("S18").ravel()


def _households(ctx: Ctx, counts: np.ndarray) -> None:
    rng, params = ctx.rng, ctx.params
    n = len(ctx.hh_village)
    village_bytes = np.array([c.encode() for c in ctx.villages.codes], dtype="S12")
    seq = np.arange(n) - np.repeat(ctx.hh_first[:-1], counts) + 1
    code_mat = np.empty((n, 16), dtype=np.uint8)
    code_mat[:, :12] = village_bytes.view(np.uint8).reshape(-1, 12)[ctx.hh_village]
    code_mat[:, 12:] = _number_digits(seq, 4) + ord("0")
    ctx.hh_members = 1 + rng.binomial(dist.MEMBERS_MAX_EXTRA, dist.MEMBERS_P, n)
    ctx.hh_resident = rng.random(n) < dist.RESIDENT_SHARE
    ctx.add(
        "household",
        m.Household,
        {
            "id": np.arange(1, n + 1),
            "code": code_mat.view("S16").ravel(),
            "village_code": Categorical(ctx.hh_village, ctx.villages.codes),
            "householder": ctx.person(n),
            "id_number": fake_id_numbers(rng, n, params.as_of),
            "phone": _digits(FAKE_PHONE_PREFIX, rng.integers(0, 10, (n, 8)).astype(np.uint8)),
            "members": ctx.hh_members,
            "resident": ctx.hh_resident,
            "registered": rng.random(n) < dist.REGISTERED_SHARE,
            "due_for_renovation": rng.random(n) < dist.DUE_FOR_RENOVATION_SHARE,
            "geom": Points(ctx.hh_x, ctx.hh_y),
        },
    )


def type_shares(group: str) -> dict[ToiletType, float]:
    """The toilet type shares of a progress group: its family share, split by type weight."""
    family_shares = dist.TOILET_FAMILY_SHARES[group]
    shares: dict[ToiletType, float] = {}
    for family, members in dist.TOILET_FAMILIES.items():
        weight = sum(dist.TOILET_TYPE_WEIGHTS[t] for t in members)
        for t in sorted(members, key=TYPES.index):
            shares[t] = family_shares[family] * dist.TOILET_TYPE_WEIGHTS[t] / weight
    return shares


def _conditions(rng: np.random.Generator, group: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Current conditions: renovated toilets in use by their group's share, the rest split by
    the out-of-use shares; old pits by theirs."""
    n = len(group)
    in_use_share = np.array([dist.RENOVATED_IN_USE_SHARES[g] for g in dist.PROGRESS_GROUPS])
    in_use = rng.random(n) < in_use_share[group]
    cond = np.full(n, CONDITIONS.index(ToiletCondition.IN_USE), dtype=np.int64)
    for mask, shares in (
        (~old & ~in_use, dist.RENOVATED_OUT_OF_USE_SHARES),
        (old, dist.OLD_CONDITION_SHARES),
    ):
        picks = choice(rng, list(shares.values()), int(mask.sum()))
        cond[mask] = np.array([CONDITIONS.index(c) for c in shares])[picks]
    return cond


def _toilets(ctx: Ctx) -> None:
    rng, params = ctx.rng, ctx.params
    n_households = len(ctx.hh_village)
    groups = list(dist.PROGRESS_GROUPS)
    hh_group = ctx.progress[ctx.hh_village]
    no_toilet = np.array([dist.NO_TOILET_SHARES[g] for g in groups])
    has = rng.random(n_households) >= no_toilet[hh_group]
    household_id = np.flatnonzero(has) + 1
    group = hh_group[has]
    n = len(household_id)
    ttype = np.empty(n, dtype=np.int64)
    for g, key in enumerate(groups):
        mask = group == g
        shares = type_shares(key)
        picks = choice(rng, list(shares.values()), int(mask.sum()))
        ttype[mask] = np.array([TYPES.index(t) for t in shares])[picks]
    old = np.isin(ttype, [TYPES.index(t) for t in dist.OLD_TYPES])
    dest = np.array(
        [
            DESTINATIONS.index(dist.DESTINATION_BY_TYPE.get(t, ExcretaDestination.UNKNOWN))
            for t in TYPES
        ]
    )[ttype]
    untreated_p = np.array([dist.UNTREATED_SHARE.get(t, 0.0) for t in TYPES])[ttype]
    untreated = rng.random(n) < untreated_p
    dest[untreated] = DESTINATIONS.index(ExcretaDestination.UNTREATED_DISCHARGE)
    cond = _conditions(rng, group, old)
    building = cond == CONDITIONS.index(ToiletCondition.BUILDING)
    tclass = CLASS_TABLE[ttype, cond, dest]

    as_of, window = d64(params.as_of), d64(params.window_start)
    years = np.array(list(dist.RENOVATION_YEAR_WEIGHTS), dtype=np.int64)
    year = years[choice(rng, list(dist.RENOVATION_YEAR_WEIGHTS.values()), n)]
    year_start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    built = np.minimum(random_dates(rng, year_start, year_start + 364), as_of - 30)
    built[building] = as_of - rng.integers(10, 150, int(building.sum())).astype("timedelta64[D]")
    ledger_start = d64(date(dist.TOILET_LEDGER_START_YEAR, 1, 1))
    built[old] = ledger_start
    toilet_id = np.arange(1, n + 1)
    renovated = ~old
    in_use = CONDITIONS.index(ToiletCondition.IN_USE)

    accepted = renovated & ~building
    accepted_on = np.minimum(built + rng.integers(20, 120, n).astype("timedelta64[D]"), as_of)
    tank = np.isin(
        ttype,
        [
            TYPES.index(t)
            for t in (
                ToiletType.THREE_COMPARTMENT,
                ToiletType.DOUBLE_URN,
                ToiletType.BIOGAS,
                ToiletType.DOUBLE_PIT,
                ToiletType.URINE_DIVERTING,
                ToiletType.CENTRAL_EMPTYING,
            )
        ],
    )
    emptied = tank & (cond == in_use) & (rng.random(n) < 0.7)
    batch_year = built.astype("datetime64[Y]").astype(np.int64) + 1970
    batch_no = rng.integers(1, 4, n)
    batch_names = [f"{y}年第{b}批" for y in range(2015, 2027) for b in range(1, 4)]
    batch_code = np.where(renovated, (batch_year - 2015) * 3 + batch_no - 1, -1)
    builders = [f"{v}建筑工程队" for v in names.village_names(rng, 24, suffix="", taken=set())]
    subsidy = np.array([1000.0, 1500.0, 2000.0, 3000.0])[rng.integers(0, 4, n)]
    sources = ["省级补助", "县级财政", "中央预算内投资"]
    ctx.add(
        "household_toilet",
        m.HouseholdToilet,
        {
            "id": toilet_id,
            "household_id": household_id,
            "toilet_type": enum_column(ToiletType, ttype),
            "condition": enum_column(ToiletCondition, cond),
            "excreta_destination": enum_column(ExcretaDestination, dest),
            "toilet_class": enum_column(ToiletClass, tclass),
            "old_toilet_demolished": optional(rng.random(n) < 0.9, renovated),
            "build_year": optional(batch_year, renovated),
            "batch": Categorical(batch_code, batch_names),
            "builder": Categorical(
                np.where(renovated, rng.integers(0, len(builders), n), -1), builders
            ),
            "accepted_on": np.where(accepted, accepted_on, np.datetime64("NaT")),
            "accepted_by": Categorical(
                np.where(accepted, rng.integers(0, len(ctx.people), n), -1), ctx.people
            ),
            "subsidy_yuan": np.where(renovated, subsidy, np.nan),
            "subsidy_source": Categorical(
                np.where(renovated, rng.integers(0, len(sources), n), -1), sources
            ),
            "last_emptied_on": np.where(
                emptied, random_dates(rng, as_of - 364, as_of, n), np.datetime64("NaT")
            ),
        },
    )
    _toilet_states(ctx, toilet_id, ttype, dest, cond, built, renovated, window, as_of)


def _toilet_states(
    ctx: Ctx,
    toilet_id: np.ndarray,
    ttype: np.ndarray,
    dest: np.ndarray,
    cond: np.ndarray,
    built: np.ndarray,
    renovated: np.ndarray,
    window: np.datetime64,
    as_of: np.datetime64,
) -> None:
    """Dated states whose last one is the toilet's current state."""
    rng = ctx.rng
    n = len(toilet_id)
    in_use = CONDITIONS.index(ToiletCondition.IN_USE)
    building = CONDITIONS.index(ToiletCondition.BUILDING)
    broken_or_unused = (cond != in_use) & (cond != building)
    ledger_start = d64(date(dist.TOILET_LEDGER_START_YEAR, 1, 1))
    parts: list[tuple[np.ndarray, ...]] = []

    def part(mask: np.ndarray, on: np.ndarray, t: np.ndarray, c: np.ndarray, d: np.ndarray) -> None:
        """States of the toilets in ``mask``: date, type, condition, destination (the class
        follows from those by the rule)."""
        parts.append((toilet_id[mask], on[mask], t[mask], c[mask], d[mask]))

    def const(value: int) -> np.ndarray:
        return np.full(n, value, dtype=np.int64)

    # The old pit a renovation replaced.
    prior = renovated & (built > ledger_start + 30) & (rng.random(n) < dist.PRIOR_PIT_SHARE)
    pit = np.where(
        rng.random(n) < 0.7, TYPES.index(ToiletType.SINGLE_PIT), TYPES.index(ToiletType.OPEN_PIT)
    )
    part(
        prior,
        np.full(n, ledger_start),
        pit,
        const(in_use),
        const(DESTINATIONS.index(ExcretaDestination.UNKNOWN)),
    )
    # Built (or, for old pits, as found when the ledger started).
    part(np.ones(n, bool), built, ttype, np.where(cond == building, building, in_use), dest)
    # Became broken or unused: half within the 12 months, half before.
    recent = rng.random(n) < dist.CHANGE_IN_WINDOW_SHARE
    early_lo = built + 1
    early_hi = window - 1
    can_early = early_lo <= early_hi
    lo = np.where(recent | ~can_early, np.maximum(window, built + 1), early_lo)
    hi = np.where(recent | ~can_early, as_of, early_hi)
    became = random_dates(rng, lo, hi)
    part(broken_or_unused, became, ttype, cond, dest)
    # Broke and was repaired within the 12 months.
    repaired = (
        renovated & (cond == in_use) & (built < window - 30) & (rng.random(n) < dist.REPAIRED_SHARE)
    )
    broke_on = random_dates(rng, window, as_of - 40, n)
    fixed_on = broke_on + rng.integers(5, 36, n).astype("timedelta64[D]")
    broke_as = np.where(
        rng.random(n) < 0.6,
        CONDITIONS.index(ToiletCondition.LEAKING),
        CONDITIONS.index(ToiletCondition.BLOCKED),
    )
    part(repaired, broke_on, ttype, broke_as, dest)
    part(repaired, fixed_on, ttype, const(in_use), dest)

    tid, on, t, c, d = (np.concatenate(cols) for cols in zip(*parts, strict=True))
    order = np.lexsort((on, tid))
    tid, on, t, c, d = (a[order] for a in (tid, on, t, c, d))
    k = CLASS_TABLE[t, c, d]
    notes = ["改厕前旧厕", None]
    note = np.where(t != ttype[tid - 1], 0, -1)
    ctx.add(
        "toilet_state",
        m.ToiletState,
        {
            "id": np.arange(1, len(tid) + 1),
            "toilet_id": tid,
            "effective_on": on,
            "toilet_type": enum_column(ToiletType, t),
            "condition": enum_column(ToiletCondition, c),
            "excreta_destination": enum_column(ExcretaDestination, d),
            "toilet_class": enum_column(ToiletClass, k),
            "recorded_at": recorded_at(on),
            "actor": Categorical(np.zeros(len(tid), dtype=np.int64), [ACTOR]),
            "note": Categorical(note, notes),
        },
    )


def _courtyards(ctx: Ctx) -> None:
    rng, params = ctx.rng, ctx.params
    n_households = len(ctx.hh_village)
    rated = np.flatnonzero(rng.random(n_households) < dist.COURTYARD_RATED_SHARE)
    n = len(rated)
    stars = np.array(list(dist.COURTYARD_STAR_SHARES))[
        choice(rng, list(dist.COURTYARD_STAR_SHARES.values()), n)
    ]
    by_county = (stars == 5) | (rng.random(n) < dist.COURTYARD_COUNTY_SHARE_BELOW_5)
    level = np.where(
        by_county,
        enum_index(CourtyardLevel, CourtyardLevel.COUNTY),
        enum_index(CourtyardLevel, CourtyardLevel.TOWN),
    )
    # Item scores (out of 20 each) for the county's checks, from a pool per star level.
    pool: list[dict[str, float]] = []
    for star in range(1, 6):
        for _ in range(40):
            base = 8 + 2.4 * star
            pool.append(
                {
                    item: float(round(min(20.0, base + rng.normal(0, 1.2)), 1))
                    for item in dist.COURTYARD_ITEMS
                }
            )
    score_code = np.where(by_county, (stars - 1) * 40 + rng.integers(0, 40, n), -1)
    ctx.add(
        "courtyard_rating",
        m.CourtyardRating,
        {
            "id": np.arange(1, n + 1),
            "household_id": rated + 1,
            "rated_on": random_dates(rng, d64(params.window_start) - 240, d64(params.as_of), n),
            "stars": stars,
            "level": enum_column(CourtyardLevel, level),
            "inspector": ctx.person(n),
            "published": rng.random(n) < dist.COURTYARD_PUBLISHED_SHARE,
            "item_scores": Categorical(score_code, pool),
        },
    )


def _sorting(ctx: Ctx) -> None:
    rng, params = ctx.rng, ctx.params
    sampled = np.flatnonzero(rng.random(len(ctx.hh_village)) < dist.SORTING_SAMPLE_SHARE)
    n = len(sampled)
    participated = rng.random(n) < dist.SORTING_PARTICIPATION
    correct = rng.random(n) < dist.SORTING_ACCURACY
    ctx.add(
        "sorting_inspection",
        m.SortingInspection,
        {
            "id": np.arange(1, n + 1),
            "household_id": sampled + 1,
            "inspected_on": random_dates(rng, d64(params.window_start), d64(params.as_of), n),
            "participated": participated,
            "correct": optional(correct, participated),
            "inspector": ctx.person(n),
        },
    )
