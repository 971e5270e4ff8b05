"""Public toilets, problem records with their status histories, and one demo user per role."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from rural import models as m
from rural.bulk import Categorical, Points
from rural.demo import distributions as dist
from rural.demo.core import Ctx, choice, d64, enum_column, optional, random_dates, to_date
from rural.demo.geography import sample_in
from rural.demo.manifest import OverdueProblem
from rural.enums import (
    Escalation,
    Line,
    ProblemSource,
    ProblemStatus,
    ProblemType,
    Role,
    ToiletCondition,
    ToiletType,
)

PROBLEM_TYPE_SHARES: dict[ProblemType, float] = {
    ProblemType.GARBAGE: 0.28,
    ProblemType.INFORMAL_DUMP: 0.10,
    ProblemType.SEWAGE: 0.15,
    ProblemType.TOILET: 0.15,
    ProblemType.COURTYARD: 0.10,
    ProblemType.VILLAGE_APPEARANCE: 0.17,
    ProblemType.OTHER: 0.05,
}
DESCRIPTIONS: dict[ProblemType, tuple[str, ...]] = {
    ProblemType.GARBAGE: ("垃圾收集点周边垃圾散落", "垃圾桶满溢未及时清运", "分类投放不规范"),
    ProblemType.INFORMAL_DUMP: ("发现非正规垃圾堆放点", "河道边建筑垃圾堆放"),
    ProblemType.SEWAGE: ("污水终端出水浑浊", "污水管网破损渗漏", "提升泵运行异常"),
    ProblemType.TOILET: ("公厕卫生状况差", "户厕化粪池渗漏", "公厕无人保洁"),
    ProblemType.COURTYARD: ("庭院杂物乱堆乱放", "房前屋后柴草乱堆"),
    ProblemType.VILLAGE_APPEARANCE: ("乱搭乱建", "乱拉乱挂", "道路两侧白色垃圾"),
    ProblemType.OTHER: ("其他人居环境问题",),
}
OBJECT_OF_TYPE = {
    ProblemType.GARBAGE: "collection_point",
    ProblemType.SEWAGE: "sewage_facility",
    ProblemType.TOILET: "public_toilet",
}
PATHS: dict[ProblemStatus, tuple[ProblemStatus, ...]] = {
    ProblemStatus.REGISTERED: (ProblemStatus.REGISTERED,),
    ProblemStatus.ASSIGNED: (ProblemStatus.REGISTERED, ProblemStatus.ASSIGNED),
    ProblemStatus.FIXING: (ProblemStatus.REGISTERED, ProblemStatus.ASSIGNED, ProblemStatus.FIXING),
    ProblemStatus.AWAITING_CHECK: (
        ProblemStatus.REGISTERED,
        ProblemStatus.ASSIGNED,
        ProblemStatus.FIXING,
        ProblemStatus.AWAITING_CHECK,
    ),
    ProblemStatus.CLOSED: (
        ProblemStatus.REGISTERED,
        ProblemStatus.ASSIGNED,
        ProblemStatus.FIXING,
        ProblemStatus.AWAITING_CHECK,
        ProblemStatus.CLOSED,
    ),
}
FAILED_CHECK = (ProblemStatus.FIXING, ProblemStatus.AWAITING_CHECK)
DEMO_USER_PREFIX = "demo_"
CHINA_OFFSET = timedelta(hours=8)


def public_toilets(ctx: Ctx) -> None:
    rng, vill = ctx.rng, ctx.villages
    n_v = len(vill)
    per_village = 1 + (rng.random(n_v) < dist.PUBLIC_TOILET_SECOND_SHARE)
    village = np.repeat(np.arange(n_v), per_village)
    n = len(village)
    xs, ys = np.empty(n), np.empty(n)
    at = 0
    for v, k in enumerate(per_village.tolist()):
        x, y = sample_in(vill.geos[v].geom, k, rng)
        xs[at : at + k], ys[at : at + k] = x, y
        at += k
    conditions = list(ToiletCondition)
    shares = dist.PUBLIC_TOILET_CONDITION_SHARES
    cond = np.array([conditions.index(c) for c in shares])[choice(rng, list(shares.values()), n)]
    types = list(ToiletType)
    ttype = np.where(
        rng.random(n) < 0.6,
        types.index(ToiletType.THREE_COMPARTMENT),
        types.index(ToiletType.FLUSH_SEWER),
    )
    building = cond == conditions.index(ToiletCondition.BUILDING)
    in_use = conditions.index(ToiletCondition.IN_USE)
    opened = random_dates(rng, d64(date(2016, 1, 1)), d64(date(2023, 12, 31)), n)
    started = random_dates(rng, d64(ctx.params.window_start), d64(ctx.params.as_of) - 10, n)
    ids = np.arange(1, n + 1)
    number = np.arange(n) - np.repeat(np.cumsum(per_village) - per_village, per_village) + 1
    ctx.add(
        "public_toilet",
        m.PublicToilet,
        {
            "id": ids,
            "village_code": Categorical(village, vill.codes),
            "name": [f"{vill.geos[v].name}公厕{k}" for v, k in zip(village, number, strict=True)],
            "toilet_type": enum_column(ToiletType, ttype),
            "condition": enum_column(ToiletCondition, cond),
            "cleaner": ctx.person(n),
            "opened_on": np.where(building, np.datetime64("NaT"), opened),
            "geom": Points(xs, ys),
        },
    )
    history = ctx.history
    history.add("public_toilet", ids[building], None, "building", started[building])
    history.add("public_toilet", ids[~building], None, "in_use", opened[~building])
    changed = ~building & (cond != in_use)
    became = random_dates(rng, d64(ctx.params.window_start), d64(ctx.params.as_of), n)
    history.add(
        "public_toilet",
        ids[changed],
        "in_use",
        [conditions[c].value for c in cond[changed].tolist()],
        became[changed],
    )


def _objects_by_village(ctx: Ctx, table: str) -> dict[int, list[int]]:
    column = ctx.tables[table].columns["village_code"]
    assert isinstance(column, Categorical)
    result: dict[int, list[int]] = {}
    for index, v in enumerate(column.codes.tolist()):
        result.setdefault(v, []).append(index + 1)
    return result


def problems(ctx: Ctx) -> list[OverdueProblem]:
    rng, params, vill = ctx.rng, ctx.params, ctx.villages
    per_village = rng.poisson(dist.PROBLEMS_PER_VILLAGE, len(vill))
    village = np.repeat(np.arange(len(vill)), per_village)
    n = len(village)
    types = list(ProblemType)
    ptype = np.array([types.index(t) for t in PROBLEM_TYPE_SHARES])[
        choice(rng, list(PROBLEM_TYPE_SHARES.values()), n)
    ]
    statuses = list(ProblemStatus)
    status = np.array([statuses.index(s) for s in dist.PROBLEM_STATUS_SHARES])[
        choice(rng, list(dist.PROBLEM_STATUS_SHARES.values()), n)
    ]
    found_on = random_dates(rng, d64(params.window_start), d64(params.as_of) - 1, n)
    found_hour = rng.integers(8, 18, n)
    deadline = found_on + np.array(dist.PROBLEM_DEADLINE_DAYS)[
        rng.integers(0, len(dist.PROBLEM_DEADLINE_DAYS), n)
    ].astype("timedelta64[D]")
    objects = {kind: _objects_by_village(ctx, kind) for kind in OBJECT_OF_TYPE.values()}
    object_kind: list[str | None] = []
    object_id: list[int | None] = []
    descriptions: list[str] = []
    for v, t in zip(village.tolist(), ptype.tolist(), strict=True):
        kind = OBJECT_OF_TYPE.get(types[t])
        candidates = objects[kind].get(v, []) if kind else []
        object_kind.append(kind if candidates else None)
        object_id.append(candidates[int(rng.integers(len(candidates)))] if candidates else None)
        options = DESCRIPTIONS[types[t]]
        descriptions.append(options[int(rng.integers(len(options)))])
    as_of = d64(params.as_of)
    closed = status == statuses.index(ProblemStatus.CLOSED)
    span = np.maximum((np.minimum(deadline + 10, as_of) - found_on).astype(np.int64), 1)
    closed_on = found_on + (1 + np.floor(rng.random(n) * span)).astype("timedelta64[D]")
    closed_on = np.minimum(closed_on, as_of)
    overdue = ~closed & (deadline < as_of)
    late = (as_of - deadline).astype(np.int64)
    escalations = list(Escalation)
    escalation = np.where(
        ~overdue,
        escalations.index(Escalation.NONE),
        np.where(
            late <= 7,
            escalations.index(Escalation.REMINDER),
            np.where(
                late <= 30,
                escalations.index(Escalation.ORDER),
                escalations.index(Escalation.SUPERVISION),
            ),
        ),
    )
    # Where: a household of the village, or the village seat when it has none.
    hh = ctx.hh_first[village] + np.floor(rng.random(n) * np.diff(ctx.hh_first)[village]).astype(
        np.int64
    )
    found_at = found_on.astype("datetime64[us]") + (found_hour - 8).astype("timedelta64[h]")
    ids = np.arange(1, n + 1)
    ctx.add(
        "problem",
        m.Problem,
        {
            "id": ids,
            "problem_type": enum_column(ProblemType, ptype),
            "source": enum_column(ProblemSource, rng.integers(0, len(ProblemSource), n)),
            "village_code": Categorical(village, vill.codes),
            "object_kind": object_kind,
            "object_id": object_id,
            "description": descriptions,
            "found_by": ctx.person(n),
            "found_at": found_at,
            "responsible": ctx.person(n),
            "deadline": deadline,
            "status": enum_column(ProblemStatus, status),
            "escalation": enum_column(Escalation, escalation),
            "reviewer": Categorical(
                np.where(closed, rng.integers(0, len(ctx.people), n), -1), ctx.people
            ),
            "result": optional(np.full(n, "整改到位，同意销号", dtype=object), closed),
            "closed_on": np.where(closed, closed_on, np.datetime64("NaT")),
            "geom": Points(ctx.hh_x[hh], ctx.hh_y[hh]),
        },
    )
    _problem_history(ctx, ids, status, found_on, closed_on, closed)
    return [
        OverdueProblem(
            problem_id=int(i + 1),
            village_code=vill.codes[int(village[i])],
            deadline=to_date(deadline[i]),
            status=statuses[int(status[i])],
        )
        for i in np.flatnonzero(overdue)
    ]


def _problem_history(
    ctx: Ctx,
    ids: np.ndarray,
    status: np.ndarray,
    found_on: np.ndarray,
    closed_on: np.ndarray,
    closed: np.ndarray,
) -> None:
    """registered → assigned → fixing → awaiting_check (→ fixing → awaiting_check) → closed."""
    rng = ctx.rng
    statuses = list(ProblemStatus)
    as_of = d64(ctx.params.as_of)
    obj: list[int] = []
    frm: list[str | None] = []
    to: list[str] = []
    on: list[np.datetime64] = []
    failed = rng.random(len(ids)) < dist.FAILED_CHECK_SHARE
    for i in range(len(ids)):
        path = list(PATHS[statuses[int(status[i])]])
        if closed[i] and failed[i]:
            path = path[:-1] + list(FAILED_CHECK) + path[-1:]
        end = closed_on[i] if closed[i] else min(as_of, found_on[i] + 60)
        span = max(int((end - found_on[i]).astype(np.int64)), 0)
        steps = np.sort(rng.integers(0, span + 1, len(path) - 1)).tolist()
        dates = [found_on[i]] + [found_on[i] + np.timedelta64(int(s), "D") for s in steps]
        if closed[i]:
            dates[-1] = closed_on[i]
        previous: str | None = None
        for state, when in zip(path, dates, strict=True):
            obj.append(int(ids[i]))
            frm.append(previous)
            to.append(str(state))
            on.append(when)
            previous = str(state)
    ctx.history.add("problem", np.array(obj), frm, to, np.array(on, dtype="datetime64[D]"))


def demo_username(role: Role) -> str:
    """The demo user of a role: demo_<role>."""
    return f"{DEMO_USER_PREFIX}{role.value}"


def users(ctx: Ctx) -> None:
    county = ctx.geo.counties[0]
    town = county.towns[0]
    village = town.villages[-1]
    units = {
        Role.COUNTY_ADMIN: county.code,
        Role.TOWNSHIP_OFFICIAL: town.code,
        Role.VILLAGE_CADRE: village.code,
        Role.DEPARTMENT_STAFF: county.code,
        Role.FIELD_STAFF: village.code,
        Role.REVIEWER: county.code,
        Role.VILLAGER: village.code,
    }
    created = datetime.combine(ctx.params.window_start, time(9), tzinfo=UTC) - CHINA_OFFSET
    roles = list(Role)
    ctx.add(
        "user_account",
        m.User,
        {
            "id": np.arange(1, len(roles) + 1),
            "username": [demo_username(role) for role in roles],
            "display_name": [f"示例{role.label}" for role in roles],
            "role": [role.value for role in roles],
            "unit_code": [units[role] for role in roles],
            "line": [Line.WOMEN.value if role == Role.DEPARTMENT_STAFF else None for role in roles],
            "created_at": [created] * len(roles),
        },
    )
