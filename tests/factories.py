"""Builders of small hand-made test data, inserted through the ORM into a real database.

Each helper takes a keyword-only ``session`` (open it with ``rural.db.write_session``) and
returns what it inserted, so tests can state their expected figures by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from shapely.geometry import MultiPolygon, box
from sqlalchemy import Engine
from sqlmodel import Session

from rural import codes
from rural.db import write_session
from rural.enums import ExcretaDestination, ToiletClass, ToiletCondition, ToiletType
from rural.models import DatasetInfo, Household, HouseholdToilet, ToiletState, Unit

COUNTY = "330102000000"

# A plausible type and excreta destination for each toilet class.
_TOILET_KIND: dict[ToiletClass, tuple[ToiletType, ExcretaDestination]] = {
    ToiletClass.HARMLESS: (ToiletType.THREE_COMPARTMENT, ExcretaDestination.ONSITE_TANK),
    ToiletClass.SANITARY: (ToiletType.DEEP_PIT_FROSTPROOF, ExcretaDestination.ONSITE_TANK),
    ToiletClass.NON_SANITARY: (ToiletType.SINGLE_PIT, ExcretaDestination.UNTREATED_DISCHARGE),
}


def square(x: float, y: float, size: float = 0.01) -> MultiPolygon:
    """A square MultiPolygon with its south-west corner at (x, y), in degrees (EPSG:4490)."""
    return MultiPolygon([box(x, y, x + size, y + size)])


def add_unit(
    *,
    session: Session,
    code: str,
    name: str,
    geom: MultiPolygon | None = None,
    valid_to: date | None = None,
    valid_from: date | None = None,
) -> Unit:
    """A unit whose level and parent follow from its division code."""
    level = codes.level_of(code)
    unit = Unit(
        code=code,
        name=name,
        level=level,
        parent_code=codes.parent_of(code),
        geom=geom,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    session.add(unit)
    session.flush()
    return unit


def add_unit_chain(*, session: Session, county_code: str = COUNTY, name: str = "示例县") -> Unit:
    """The province, city and county above ``county_code`` (parents must exist first)."""
    province = county_code[:2] + "0" * 10
    city = county_code[:4] + "0" * 8
    if session.get(Unit, province) is None:
        add_unit(session=session, code=province, name="示例省")
    if session.get(Unit, city) is None:
        add_unit(session=session, code=city, name="示例市")
    return add_unit(session=session, code=county_code, name=name)


def add_household(
    *,
    session: Session,
    village_code: str,
    seq: int,
    resident: bool = True,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> Household:
    household = Household(
        code=f"{village_code}{seq:04d}",
        village_code=village_code,
        resident=resident,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    session.add(household)
    session.flush()
    return household


def add_toilet(
    *,
    session: Session,
    household: Household,
    toilet_class: ToiletClass,
    condition: ToiletCondition = ToiletCondition.IN_USE,
) -> HouseholdToilet:
    """A household toilet in the ledger (its current state)."""
    toilet_type, destination = _TOILET_KIND[toilet_class]
    assert household.id is not None
    toilet = HouseholdToilet(
        household_id=household.id,
        toilet_type=toilet_type,
        condition=condition,
        excreta_destination=destination,
        toilet_class=toilet_class,
    )
    session.add(toilet)
    session.flush()
    return toilet


def add_toilet_state(
    *,
    session: Session,
    toilet: HouseholdToilet,
    effective_on: date,
    toilet_class: ToiletClass,
    condition: ToiletCondition = ToiletCondition.IN_USE,
) -> ToiletState:
    """One dated state in the toilet's history."""
    toilet_type, destination = _TOILET_KIND[toilet_class]
    assert toilet.id is not None
    state = ToiletState(
        toilet_id=toilet.id,
        effective_on=effective_on,
        toilet_type=toilet_type,
        condition=condition,
        excreta_destination=destination,
        toilet_class=toilet_class,
        actor="test",
    )
    session.add(state)
    session.flush()
    return state


def mark_demo(*, session: Session, value: str = "true") -> None:
    session.add(DatasetInfo(key="demo", value=value))
    session.flush()


@dataclass(frozen=True)
class ToiletMix:
    """How many resident households of a village have each kind of toilet."""

    harmless_in_use: int = 0
    harmless_broken: int = 0
    sanitary_in_use: int = 0
    no_toilet: int = 0

    @property
    def households(self) -> int:
        return self.harmless_in_use + self.harmless_broken + self.sanitary_in_use + self.no_toilet


@dataclass(frozen=True)
class VillageSpec:
    name: str
    mix: ToiletMix = field(default_factory=ToiletMix)


@dataclass(frozen=True)
class SmallCounty:
    """What :func:`small_county` built: codes and names by position."""

    county_code: str
    county_name: str
    town_codes: list[str]
    town_names: list[str]
    village_codes: list[list[str]]  # per town
    village_names: list[list[str]]


def small_county(
    engine: Engine,
    *,
    towns: Sequence[tuple[str, Sequence[VillageSpec]]],
    county_name: str = "示例县",
    county_code: str = COUNTY,
    demo: bool = False,
) -> SmallCounty:
    """A county whose towns sit side by side, each a row of square villages.

    Town ``i`` covers x from ``120 + 0.1 i``; its villages are 0.01-degree squares along it.
    Households get toilets as each village's :class:`ToiletMix` says.
    """
    town_codes: list[str] = []
    village_codes: list[list[str]] = []
    with write_session(engine) as session:
        add_unit_chain(session=session, county_code=county_code, name=county_name)
        for t, (town_name, villages) in enumerate(towns):
            x0, y0 = 120.0 + 0.1 * t, 30.0
            town_code = codes.child_code(county_code, 100 + t)
            width = max(len(villages), 1) * 0.01
            add_unit(
                session=session,
                code=town_code,
                name=town_name,
                geom=MultiPolygon([box(x0, y0, x0 + width, y0 + 0.01)]),
            )
            town_codes.append(town_code)
            codes_here: list[str] = []
            for v, spec in enumerate(villages):
                village_code = codes.child_code(town_code, 201 + v)
                add_unit(
                    session=session,
                    code=village_code,
                    name=spec.name,
                    geom=square(x0 + 0.01 * v, y0),
                )
                _add_households(session=session, village_code=village_code, mix=spec.mix)
                codes_here.append(village_code)
            village_codes.append(codes_here)
        if demo:
            mark_demo(session=session)
    return SmallCounty(
        county_code=county_code,
        county_name=county_name,
        town_codes=town_codes,
        town_names=[name for name, _ in towns],
        village_codes=village_codes,
        village_names=[[spec.name for spec in villages] for _, villages in towns],
    )


def _add_households(*, session: Session, village_code: str, mix: ToiletMix) -> None:
    seq = 0
    kinds = [
        (mix.harmless_in_use, ToiletClass.HARMLESS, ToiletCondition.IN_USE),
        (mix.harmless_broken, ToiletClass.HARMLESS, ToiletCondition.LEAKING),
        (mix.sanitary_in_use, ToiletClass.SANITARY, ToiletCondition.IN_USE),
    ]
    for count, toilet_class, condition in kinds:
        for _ in range(count):
            seq += 1
            household = add_household(session=session, village_code=village_code, seq=seq)
            add_toilet(
                session=session, household=household, toilet_class=toilet_class, condition=condition
            )
    for _ in range(mix.no_toilet):
        seq += 1
        add_household(session=session, village_code=village_code, seq=seq)
