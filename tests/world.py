"""A small hand-built county for the indicator and chain tests: every row written explicitly so a
test's expected numbers can be worked out by hand from what it wrote."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, insert, update

from rural import migrate
from rural.db import make_engine
from rural.models import (
    ChainLink,
    CollectionPoint,
    CourtyardRating,
    EffluentSample,
    Household,
    HouseholdToilet,
    SewageConnection,
    SewageFacility,
    SortingInspection,
    StatusChange,
    ToiletState,
    TonnageRecord,
    TransferStation,
    TreatmentFacility,
    Unit,
)

PROVINCE = "330000000000"
CITY = "331100000000"
COUNTY = "331128000000"
TOWN = "331128101000"
TOWN_B = "331128102000"
OLD = date(2015, 1, 1)


def table(model: Any) -> Any:
    return model.__table__


_template: list[Path] = []


def fresh_sqlite(folder: Path) -> Engine:
    """A migrated, empty SQLite database in a real file under ``folder``: a copy of one
    migrated template per test process (migrating every test's database costs ~1 s)."""
    if not _template:
        home = Path(tempfile.mkdtemp(prefix="rural-template-"))
        atexit.register(shutil.rmtree, home, True)
        path = home / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        _template.append(path)
    target = folder / "rural.db"
    shutil.copyfile(_template[0], target)
    engine = make_engine(f"sqlite:///{target}")
    # test data need not survive a power cut: skip the fsync on every small commit
    event.listen(engine, "connect", _no_fsync)
    return engine


def _no_fsync(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA synchronous=OFF")


class World:
    """Writes rows with core inserts (parents before children, ids returned)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.household_seq = 0

    def _insert(self, model: Any, **values: Any) -> Any:
        with self.engine.begin() as conn:
            result = conn.execute(insert(table(model)).values(**values))
            key = result.inserted_primary_key
            return key[0] if key else None

    # -- units ----------------------------------------------------------------------------------

    def hierarchy(self, *, county: str = COUNTY, towns: Sequence[str] = (TOWN,)) -> None:
        """Province, city, the county and its towns (if not there yet)."""
        city = county[:4] + "00000000"
        province = county[:2] + "0000000000"
        with self.engine.connect() as conn:
            existing = {
                r[0]
                for r in conn.execute(table(Unit).select().with_only_columns(table(Unit).c.code))
            }
        for code, name, level, parent in (
            (province, "浙江省", "province", None),
            (city, "丽水市", "city", province),
            (county, f"县{county[4:6]}", "county", city),
            *((town, f"乡{town[6:9]}", "town", county) for town in towns),
        ):
            if code not in existing:
                self._insert(Unit, code=code, name=name, level=level, parent_code=parent)

    def village(
        self,
        code: str,
        *,
        name: str | None = None,
        urban_rural_code: str | None = "220",
        rural_override: bool | None = None,
        valid_from: date | None = None,
        valid_to: date | None = None,
    ) -> str:
        self._insert(
            Unit,
            code=code,
            name=name or f"村{code[-3:]}",
            level="village",
            parent_code=code[:9] + "000",
            urban_rural_code=urban_rural_code,
            rural_override=rural_override,
            valid_from=valid_from,
            valid_to=valid_to,
        )
        return code

    # -- households -----------------------------------------------------------------------------

    def household(
        self,
        village: str,
        *,
        resident: bool = True,
        registered: bool = True,
        due: bool = True,
        valid_from: date | None = None,
        valid_to: date | None = None,
    ) -> int:
        self.household_seq += 1
        return int(
            self._insert(
                Household,
                code=f"{village}{self.household_seq:04d}",
                village_code=village,
                resident=resident,
                registered=registered,
                due_for_renovation=due,
                valid_from=valid_from,
                valid_to=valid_to,
            )
        )

    def toilet(self, household: int, *states: tuple[date, str, str, str]) -> int:
        """A toilet with its dated states (effective_on, type, condition, destination); the
        ledger row holds the last state. The stored class is deliberately left 'harmless' so a
        test notices if the engine trusted it instead of the rule."""
        last = states[-1]
        toilet = int(
            self._insert(
                HouseholdToilet,
                household_id=household,
                toilet_type=last[1],
                condition=last[2],
                excreta_destination=last[3],
                toilet_class="harmless",
            )
        )
        for on, kind, condition, destination in states:
            self._insert(
                ToiletState,
                toilet_id=toilet,
                effective_on=on,
                toilet_type=kind,
                condition=condition,
                excreta_destination=destination,
                toilet_class="harmless",
                actor="test",
            )
        return toilet

    def rating(self, household: int, on: date, stars: int, *, published: bool = True) -> int:
        return int(
            self._insert(
                CourtyardRating,
                household_id=household,
                rated_on=on,
                stars=stars,
                level="town",
                published=published,
            )
        )

    def inspection(
        self, household: int, on: date, *, participated: bool, correct: bool | None
    ) -> None:
        self._insert(
            SortingInspection,
            household_id=household,
            inspected_on=on,
            participated=participated,
            correct=correct,
        )

    # -- status history -------------------------------------------------------------------------

    def history(
        self, object_type: str, model: Any, object_id: int, changes: Sequence[tuple[date, str, str]]
    ) -> None:
        """Dated changes (on, from, to); the object's current status becomes the last 'to'."""
        for on, old, new in changes:
            self._insert(
                StatusChange,
                object_type=object_type,
                object_id=object_id,
                from_status=old,
                to_status=new,
                effective_on=on,
                actor="test",
            )
        if changes:
            with self.engine.begin() as conn:
                conn.execute(
                    update(table(model))
                    .where(table(model).c.id == object_id)
                    .values(status=changes[-1][2])
                )

    # -- sewage ---------------------------------------------------------------------------------

    def sewage_facility(
        self,
        village: str,
        *,
        status: str = "operating",
        mode: str = "centralized",
        water_class: str | None = "III",
        discharge_class: str | None = None,
        capacity: float | None = 50.0,
        commissioned_on: date | None = None,
        changes: Sequence[tuple[date, str, str]] = (),
    ) -> int:
        facility = int(
            self._insert(
                SewageFacility,
                village_code=village,
                name=f"污水站{village[-3:]}",
                mode=mode,
                water_class=water_class,
                discharge_class=discharge_class,
                design_capacity_m3d=capacity,
                commissioned_on=commissioned_on,
                status=status,
            )
        )
        self.history("sewage_facility", SewageFacility, facility, changes)
        return facility

    def connect(self, household: int, facility: int, on: date, off: date | None = None) -> None:
        self._insert(
            SewageConnection,
            household_id=household,
            facility_id=facility,
            connected_on=on,
            disconnected_on=off,
        )

    def sample(self, facility: int, on: date, **items: float) -> int:
        return int(self._insert(EffluentSample, facility_id=facility, sampled_on=on, **items))

    # -- garbage chain --------------------------------------------------------------------------

    def point(
        self,
        village: str,
        *,
        status: str = "operating",
        changes: Sequence[tuple[date, str, str]] = (),
    ) -> int:
        point = int(
            self._insert(
                CollectionPoint,
                village_code=village,
                name=f"收集点{village[-3:]}",
                kind="point",
                bins={"other": 2, "perishable": 1},
                status=status,
            )
        )
        self.history("collection_point", CollectionPoint, point, changes)
        return point

    def station(
        self,
        town: str,
        *,
        capacity: float = 10.0,
        status: str = "operating",
        name: str | None = None,
        changes: Sequence[tuple[date, str, str]] = (),
    ) -> int:
        station = int(
            self._insert(
                TransferStation,
                town_code=town,
                name=name or f"转运站{town[6:9]}",
                capacity_tpd=capacity,
                status=status,
            )
        )
        self.history("transfer_station", TransferStation, station, changes)
        return station

    def plant(
        self,
        unit: str,
        kind: str,
        accepted: Sequence[str],
        *,
        compliant: bool = True,
        status: str = "operating",
        name: str | None = None,
        changes: Sequence[tuple[date, str, str]] = (),
    ) -> int:
        plant = int(
            self._insert(
                TreatmentFacility,
                unit_code=unit,
                name=name or f"处理厂-{kind}",
                kind=kind,
                capacity_tpd=100.0,
                accepted_categories=list(accepted),
                compliant=compliant,
                status=status,
            )
        )
        self.history("treatment_facility", TreatmentFacility, plant, changes)
        return plant

    def link(
        self,
        *,
        village: str | None = None,
        point: int | None = None,
        station: int | None = None,
        plant: int | None = None,
        category: str | None = None,
        valid_from: date | None = None,
        valid_to: date | None = None,
    ) -> int:
        if village is not None:
            kind = "village"
        elif plant is None:
            kind = "collection_point"
        else:
            kind = "transfer_station"
        return int(
            self._insert(
                ChainLink,
                source_kind=kind,
                village_code=village,
                collection_point_id=point,
                transfer_station_id=station,
                treatment_facility_id=plant,
                category=category,
                valid_from=valid_from,
                valid_to=valid_to,
            )
        )

    def tonnage(
        self,
        start: date,
        end: date,
        tonnes: float,
        *,
        category: str = "other",
        method: str = "measured",
        fate: str | None = None,
        village: str | None = None,
        point: int | None = None,
        station: int | None = None,
        plant: int | None = None,
    ) -> None:
        if plant is not None:
            kind = "treatment_facility"
        elif station is not None:
            kind = "transfer_station"
        elif point is not None:
            kind = "collection_point"
        else:
            kind = "village"
        self._insert(
            TonnageRecord,
            node_kind=kind,
            village_code=village,
            collection_point_id=point,
            transfer_station_id=station,
            treatment_facility_id=plant,
            period_start=start,
            period_end=end,
            category=category,
            tonnes=tonnes,
            method=method,
            fate=fate,
        )
