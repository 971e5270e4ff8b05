"""The manifest of faults planted in a demo dataset.

Stored as JSON in ``dataset_info['demo_manifest']`` and returned with the dataset. The chain
breaks are exactly what a correct chain audit finds in the data; everything not listed is clean
(see ``rural.demo.garbage`` for the rules the clean part keeps). A break's ``period`` says when
it shows:

- ``None``: throughout the 12 months (a village with no point at all, a point linked only to a
  decommissioned station, a link to a facility that does not accept its category);
- ``"YYYY-MM-DD/YYYY-MM-DD"``: on every day of that interval, so in an audit of any period
  whose last day falls in it (a status fault from the day it happened to ``as_of``; an
  overloaded station over the whole 12 months and in each month of it);
- ``"YYYY-MM"``: in that month's flows only (an unbalanced station-month).

One fault can show in several places, as the audit reports it: a village's only collection
point in fault is ``village_no_point`` for the village and ``facility_down`` for the point.

``progress_groups`` gives every rural village's renovation progress group (group key →
village codes; see ``rural.demo.distributions``); the lagging ones, whose toilets lag far
behind, are also listed by name in ``lagging_villages``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from rural.enums import ChainBreakKind, FacilityStatus, ProblemStatus

OBJECT_TYPES = (
    "village",
    "collection_point",
    "transfer_station",
    "treatment_facility",
    "chain_link",
)


@dataclass(frozen=True)
class ChainBreak:
    """One break of the garbage chain. ``period`` is ``YYYY-MM`` for one month or an ISO
    interval ``YYYY-MM-DD/YYYY-MM-DD``; ``category`` is a garbage category key."""

    kind: ChainBreakKind
    object_type: str
    object_id: str
    category: str | None = None
    period: str | None = None
    note: str | None = None

    def key(self) -> tuple[str, str, str, str | None, str | None]:
        """What identifies the break (the note is only for people)."""
        return (str(self.kind), self.object_type, self.object_id, self.category, self.period)


@dataclass(frozen=True)
class FaultySewageFacility:
    facility_id: int
    status: FacilityStatus
    since: date


@dataclass(frozen=True)
class FailingSample:
    sample_id: int
    facility_id: int
    discharge_class: str
    failing_items: tuple[str, ...]


@dataclass(frozen=True)
class OverdueProblem:
    problem_id: int
    village_code: str
    deadline: date
    status: ProblemStatus


@dataclass(frozen=True)
class LaggingVillage:
    village_code: str
    name: str


@dataclass
class Manifest:
    as_of: date
    chain_breaks: list[ChainBreak] = field(default_factory=list)
    faulty_sewage_facilities: list[FaultySewageFacility] = field(default_factory=list)
    failing_samples: list[FailingSample] = field(default_factory=list)
    overdue_problems: list[OverdueProblem] = field(default_factory=list)
    lagging_villages: list[LaggingVillage] = field(default_factory=list)
    progress_groups: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, ensure_ascii=False, sort_keys=True, default=_encode)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data: dict[str, Any] = json.loads(text)
        return cls(
            as_of=date.fromisoformat(data["as_of"]),
            chain_breaks=[
                ChainBreak(**{**b, "kind": ChainBreakKind(b["kind"])}) for b in data["chain_breaks"]
            ],
            faulty_sewage_facilities=[
                FaultySewageFacility(
                    facility_id=f["facility_id"],
                    status=FacilityStatus(f["status"]),
                    since=date.fromisoformat(f["since"]),
                )
                for f in data["faulty_sewage_facilities"]
            ],
            failing_samples=[
                FailingSample(
                    sample_id=s["sample_id"],
                    facility_id=s["facility_id"],
                    discharge_class=s["discharge_class"],
                    failing_items=tuple(s["failing_items"]),
                )
                for s in data["failing_samples"]
            ],
            overdue_problems=[
                OverdueProblem(
                    problem_id=p["problem_id"],
                    village_code=p["village_code"],
                    deadline=date.fromisoformat(p["deadline"]),
                    status=ProblemStatus(p["status"]),
                )
                for p in data["overdue_problems"]
            ],
            lagging_villages=[LaggingVillage(**v) for v in data["lagging_villages"]],
            progress_groups={k: list(v) for k, v in data["progress_groups"].items()},
        )

    def breaks_of(self, kind: ChainBreakKind) -> list[ChainBreak]:
        return [b for b in self.chain_breaks if b.kind == kind]


def _encode(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    msg = f"cannot encode {type(value).__name__} in the manifest"
    raise TypeError(msg)
