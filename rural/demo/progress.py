"""Village renovation progress 改厕进度: each rural village's group, from 领先 to 滞后.

Per county, the group sizes are the stated shares of its rural villages rounded to whole
villages (largest remainder). Which villages: each gets a score, and the lowest scores lag, the
highest lead. The score mixes the town's drive (towns differ: their leaders, their budgets),
remoteness from the county seat (remote mountain villages lag) and chance, so the map shows
clusters of weak and strong villages and towns rank apart. Units not counted as villages draw
as "typical".
"""

from __future__ import annotations

import numpy as np

from rural.demo import distributions as dist
from rural.demo.core import Ctx
from rural.demo.geography import KM_PER_DEG_LAT, allocate, km_per_deg_lon

GROUPS = list(dist.PROGRESS_GROUPS)  # from the most advanced to the least
TYPICAL = GROUPS.index("typical")
LAGGING = GROUPS.index("lagging")
TOWN_SPREAD = 0.8  # standard deviation of a town's drive
REMOTENESS_WEIGHT = 1.5  # the farthest village's score is this much lower than the seat's
CHANCE_SPREAD = 0.6  # standard deviation of each village's own luck


def assign_progress(ctx: Ctx) -> np.ndarray:
    """The group of every village (an index into ``dist.PROGRESS_GROUPS``)."""
    vill, rng = ctx.villages, ctx.rng
    groups = np.full(len(vill), TYPICAL, dtype=np.int64)
    shares = np.array([dist.PROGRESS_VILLAGE_SHARES[g] for g in GROUPS])
    drive = rng.normal(0.0, TOWN_SPREAD, len(ctx.geo.towns))
    luck = rng.normal(0.0, CHANCE_SPREAD, len(vill))
    for c, county in enumerate(ctx.geo.counties):
        members = np.flatnonzero(vill.rural & (vill.county == c))
        if len(members) == 0:
            continue
        counts = allocate(shares, len(members), 0)
        remote = _remoteness(ctx, members, county.seat)
        score = drive[vill.town[members]] - REMOTENESS_WEIGHT * remote + luck[members]
        ranked = members[np.argsort(-score, kind="stable")]  # best first
        groups[ranked] = np.repeat(np.arange(len(GROUPS)), counts)
    return groups


def _remoteness(ctx: Ctx, members: np.ndarray, seat: tuple[float, float]) -> np.ndarray:
    """Distance from the county seat, 0 at the seat and 1 for the farthest village."""
    sx, sy = seat
    kx = km_per_deg_lon(sy)
    seats = np.array([ctx.villages.geos[v].seat for v in members.tolist()])
    distance = np.hypot((seats[:, 0] - sx) * kx, (seats[:, 1] - sy) * KM_PER_DEG_LAT)
    farthest = float(distance.max())
    return distance / farthest if farthest > 0 else np.zeros(len(members))
