"""A small county for the map tests: every layer the maps draw, hostile names in each, and users.

清溪县 (331128) has two towns side by side, each a row of two 0.01-degree villages; a
neighbouring county 白水县 (331129) lies outside every user's scope. Every figure a test checks
is stated here by hand (``EXPECTED_*``). Inserted through the ORM and ``rural.users`` into a real
database file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import Engine
from sqlmodel import Session

from rural import users
from rural.db import write_session
from rural.enums import (
    ChainNodeKind,
    CollectionPointKind,
    FacilityStatus,
    Line,
    ProblemSource,
    ProblemStatus,
    ProblemType,
    Role,
    SewageMode,
    ToiletClass,
    ToiletCondition,
    ToiletType,
    TonnageMethod,
    TreatmentKind,
    UnitLevel,
)
from rural.models import (
    ChainLink,
    CollectionPoint,
    CourtyardRating,
    DatasetInfo,
    Household,
    Problem,
    PublicToilet,
    SewageConnection,
    SewageFacility,
    TonnageRecord,
    TransferStation,
    TreatmentFacility,
    Unit,
)
from rural.permissions import Actor
from tests.factories import add_toilet, add_toilet_state

HOSTILE = "<img src=x onerror=alert(1)>"
BACKTICK = "王`家村"
TEMPLATE = "${alert(1)}村"
HOSTILE_POINT = "<b>收集点</b>`${x}`"
HOSTILE_PROBLEM = "<script>alert(1)</script>垃圾`${document.cookie}`"

COUNTY, OTHER_COUNTY = "331128000000", "331129000000"
TOWN_A, TOWN_B, OTHER_TOWN = "331128101000", "331128201000", "331129101000"
A1, A2, B1, B2 = "331128101201", "331128101202", "331128201201", "331128201202"
OTHER_VILLAGE = "331129101201"
PASSWORD = "map-tests 9 pass"

VILLAGE_NAMES = {A1: "东山村", A2: HOSTILE, B1: BACKTICK, B2: TEMPLATE}
TOWN_NAMES = {TOWN_A: "甲镇", TOWN_B: "乙乡"}
# (username, role, unit, line)
PEOPLE = (
    ("admin", Role.COUNTY_ADMIN, COUNTY, None),
    ("eco", Role.DEPARTMENT_STAFF, COUNTY, Line.ECOLOGY),
    ("women", Role.DEPARTMENT_STAFF, COUNTY, Line.WOMEN),
    ("cadre", Role.VILLAGE_CADRE, A1, None),
    ("official_b", Role.TOWNSHIP_OFFICIAL, TOWN_B, None),
)
# Households per village by toilet (resident, with a location): (harmless, sanitary,
# harmless but leaking, none). Rates worked out by hand: A1 19/20 = 95.0%, A2 1/4 = 25.0%,
# B1 3/4 = 75.0% (one harmless toilet leaks), B2 no households.
TOILETS = {A1: (19, 1, 0, 0), A2: (1, 0, 0, 3), B1: (3, 0, 1, 0), B2: (0, 0, 0, 0)}
EXPECTED_HARMLESS_TEXT = {A1: "95.0% (19/20)", A2: "25.0% (1/4)", B1: "75.0% (3/4)", B2: "无数据"}
EXPECTED_HOUSEHOLDS = 28  # 20 + 4 + 4 located resident households in 清溪县
# Open: one past its deadline (A2), one still in time and one without deadline or location
# (B1); A1's is closed.
EXPECTED_OPEN_PROBLEMS = 3
EXPECTED_OVERDUE_PROBLEMS = 1
# Station A: 372 t weighed in October 2026 against 10 t/d x 31 days = 120% load.
EXPECTED_STATION_A_LOAD = "120.0%"
# Links drawn: village->point x3, point->station x3, station->facility x2 = 8; broken: B1's
# (its point is in fault), point B1 -> station B (stopped), station B -> composting (station
# stopped... the link's source is down, and composting is in fault).
EXPECTED_LINKS = 8
EXPECTED_BROKEN_LINKS = 3


def village_square(code: str) -> MultiPolygon:
    town = 0 if code[6:9] == "101" else 1
    seq = int(code[9:12]) - 201
    x, y = 120.0 + 0.1 * town + 0.01 * seq, 30.0
    return MultiPolygon([box(x, y, x + 0.01, y + 0.01)])


def _town_square(code: str) -> MultiPolygon:
    town = 0 if code[6:9] == "101" else 1
    x = 120.0 + 0.1 * town
    return MultiPolygon([box(x, 30.0, x + 0.02, 30.01)])


@dataclass
class MapWorld:
    engine: Engine

    def session_cookie(self, username: str) -> str:
        """A page session for ``username`` (the value of the ``rural_session`` cookie)."""
        with write_session(self.engine) as session:
            user = users.user_by_name(session, username)
            assert user is not None
            raw, _web = users.open_session(session, user=user, hours=1)
        return raw


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return users._hasher().hash(PASSWORD)


def build_map_world(engine: Engine, *, demo: bool = True) -> MapWorld:
    original = users.hash_password
    # Argon2 takes ~0.3 s per hash here: the users of the map world share one hash.
    users.hash_password = lambda pw: _password_hash() if pw == PASSWORD else original(pw)  # type: ignore[method-assign]
    try:
        with write_session(engine) as session:
            _units(session)
            _households(session)
            _garbage(session)
            _sewage_toilets_problems(session)
            if demo:
                session.add(DatasetInfo(key="demo", value="true"))
            for username, role, unit, line in PEOPLE:
                users.create_user(
                    session,
                    actor=Actor.operator("setup"),
                    username=username,
                    role=role,
                    unit_code=unit,
                    password=PASSWORD,
                    line=line,
                )
    finally:
        users.hash_password = original  # type: ignore[method-assign]
    return MapWorld(engine=engine)


def _units(session: Session) -> None:
    rows = [
        ("330000000000", "浙江省", UnitLevel.PROVINCE, None, None),
        ("331100000000", "丽水市", UnitLevel.CITY, "330000000000", None),
        (COUNTY, "清溪县", UnitLevel.COUNTY, "331100000000", None),
        (OTHER_COUNTY, "白水县", UnitLevel.COUNTY, "331100000000", None),
        (TOWN_A, TOWN_NAMES[TOWN_A], UnitLevel.TOWN, COUNTY, _town_square(TOWN_A)),
        (TOWN_B, TOWN_NAMES[TOWN_B], UnitLevel.TOWN, COUNTY, _town_square(TOWN_B)),
        (OTHER_TOWN, "东坑镇", UnitLevel.TOWN, OTHER_COUNTY, None),
    ]
    rows += [
        (code, name, UnitLevel.VILLAGE, code[:9] + "000", village_square(code))
        for code, name in VILLAGE_NAMES.items()
    ]
    rows.append(
        (
            OTHER_VILLAGE,
            "张家村",
            UnitLevel.VILLAGE,
            OTHER_TOWN,
            MultiPolygon([box(121.0, 30.0, 121.01, 30.01)]),
        )
    )
    for code, name, level, parent, geom in rows:
        session.add(
            Unit(
                code=code,
                name=name,
                level=level,
                parent_code=parent,
                urban_rural_code="220" if level == UnitLevel.VILLAGE else None,
                geom=geom,
            )
        )
        session.flush()  # parents first


def _households(session: Session) -> None:
    for code, (harmless, sanitary, leaking, none) in TOILETS.items():
        x0, y0, _x1, _y1 = village_square(code).bounds
        kinds = (
            [(ToiletClass.HARMLESS, ToiletCondition.IN_USE)] * harmless
            + [(ToiletClass.SANITARY, ToiletCondition.IN_USE)] * sanitary
            + [(ToiletClass.HARMLESS, ToiletCondition.LEAKING)] * leaking
            + [None] * none
        )
        for seq, kind in enumerate(kinds, start=1):
            household = Household(
                code=f"{code}{seq:04d}",
                village_code=code,
                householder="王小明",  # personal data: must never reach a map
                phone="13812345678",
                geom=Point(x0 + 0.001 * (seq % 9 + 0.5), y0 + 0.001 * (seq // 9 + 0.5)),
            )
            session.add(household)
            session.flush()
            if kind is not None:
                toilet = add_toilet(
                    session=session, household=household, toilet_class=kind[0], condition=kind[1]
                )
                # The ledger's history too: the indicator engine reads states on a date.
                add_toilet_state(
                    session=session,
                    toilet=toilet,
                    effective_on=date(2025, 1, 1),
                    toilet_class=kind[0],
                    condition=kind[1],
                )
            if code == A1 and seq <= 5:
                session.add(
                    CourtyardRating(
                        household_id=household.id,
                        rated_on=date(2026, 5, 1),
                        stars=5 if seq <= 3 else 2,
                        level="town",
                    )
                )


def _point(code: str, dx: float, dy: float) -> Point:
    x0, y0, _x1, _y1 = village_square(code).bounds
    return Point(x0 + dx, y0 + dy)


def _garbage(session: Session) -> None:
    points = {
        A1: CollectionPoint(
            village_code=A1,
            name="东山收集点",
            kind=CollectionPointKind.POINT,
            status=FacilityStatus.OPERATING,
            cleaner="赵保洁",
            geom=_point(A1, 0.008, 0.008),
        ),
        A2: CollectionPoint(
            village_code=A2,
            name=HOSTILE_POINT,
            kind=CollectionPointKind.POINT,
            status=FacilityStatus.OPERATING,
            geom=_point(A2, 0.008, 0.008),
        ),
        B1: CollectionPoint(
            village_code=B1,
            name="乙乡收集点",
            kind=CollectionPointKind.POINT,
            status=FacilityStatus.FAULT,
            geom=_point(B1, 0.008, 0.008),
        ),
    }
    station_a = TransferStation(
        town_code=TOWN_A,
        name="甲镇转运站",
        capacity_tpd=10,
        status=FacilityStatus.OPERATING,
        geom=Point(120.015, 30.012),
    )
    station_b = TransferStation(
        town_code=TOWN_B,
        name="乙乡转运站",
        capacity_tpd=10,
        status=FacilityStatus.STOPPED,
        geom=Point(120.115, 30.012),
    )
    burner = TreatmentFacility(
        unit_code=COUNTY,
        name="县焚烧厂",
        kind=TreatmentKind.INCINERATION,
        capacity_tpd=100,
        accepted_categories=["other"],
        status=FacilityStatus.OPERATING,
        geom=Point(120.05, 30.02),
    )
    compost = TreatmentFacility(
        unit_code=COUNTY,
        name="县易腐处理站",
        kind=TreatmentKind.COMPOSTING,
        capacity_tpd=20,
        accepted_categories=["perishable"],
        status=FacilityStatus.FAULT,
        geom=Point(120.07, 30.02),
    )
    session.add_all([*points.values(), station_a, station_b, burner, compost])
    session.flush()
    for village, point in points.items():
        session.add(
            ChainLink(
                source_kind=ChainNodeKind.VILLAGE,
                village_code=village,
                collection_point_id=point.id,
            )
        )
    for village, station in ((A1, station_a), (A2, station_a), (B1, station_b)):
        session.add(
            ChainLink(
                source_kind=ChainNodeKind.COLLECTION_POINT,
                collection_point_id=points[village].id,
                transfer_station_id=station.id,
            )
        )
    session.add(
        ChainLink(
            source_kind=ChainNodeKind.TRANSFER_STATION,
            transfer_station_id=station_a.id,
            treatment_facility_id=burner.id,
            category="other",
        )
    )
    session.add(
        ChainLink(
            source_kind=ChainNodeKind.TRANSFER_STATION,
            transfer_station_id=station_b.id,
            treatment_facility_id=compost.id,
            category="perishable",
        )
    )
    session.add(
        TonnageRecord(
            node_kind=ChainNodeKind.TRANSFER_STATION,
            transfer_station_id=station_a.id,
            period_start=date(2026, 10, 1),
            period_end=date(2026, 10, 31),
            category="other",
            tonnes=372.0,
            method=TonnageMethod.MEASURED,
        )
    )
    session.flush()


def _sewage_toilets_problems(session: Session) -> None:
    plant = SewageFacility(
        village_code=A1,
        name="东山污水站",
        mode=SewageMode.CENTRALIZED,
        design_capacity_m3d=50,
        status=FacilityStatus.OPERATING,
        geom=_point(A1, 0.002, 0.009),
    )
    broken = SewageFacility(
        village_code=B1,
        name=f"{BACKTICK}污水设施",
        mode=SewageMode.DECENTRALIZED,
        status=FacilityStatus.FAULT,
        geom=_point(B1, 0.002, 0.009),
    )
    session.add_all([plant, broken])
    session.flush()
    session.add(
        SewageConnection(household_id=1, facility_id=plant.id, connected_on=date(2025, 1, 1))
    )
    session.add(
        PublicToilet(
            village_code=A1,
            name="东山公厕",
            toilet_type=ToiletType.FLUSH_SEWER,
            condition=ToiletCondition.IN_USE,
            geom=_point(A1, 0.009, 0.002),
        )
    )
    session.add(
        PublicToilet(
            village_code=B1,
            name="乙乡公厕",
            toilet_type=ToiletType.THREE_COMPARTMENT,
            condition=ToiletCondition.LEAKING,
            geom=_point(B1, 0.009, 0.002),
        )
    )
    found = datetime(2025, 1, 1, tzinfo=UTC)
    for village, status, deadline, text, located in (
        (A2, ProblemStatus.ASSIGNED, date(2020, 1, 1), HOSTILE_PROBLEM, True),
        (B1, ProblemStatus.FIXING, date(2099, 1, 1), "污水溢流", True),
        (B1, ProblemStatus.REGISTERED, None, "无位置的问题", False),  # drawn at B1 itself
        (A1, ProblemStatus.CLOSED, date(2020, 1, 1), "已整改", True),
    ):
        session.add(
            Problem(
                problem_type=ProblemType.GARBAGE,
                source=ProblemSource.INSPECTION,
                village_code=village,
                description=text,
                found_at=found,
                found_by="督查组",
                responsible="李村长",
                deadline=deadline,
                status=status,
                geom=_point(village, 0.005, 0.005) if located else None,
            )
        )
    session.flush()
