"""Export (GeoPackage, Excel, GeoJSON), masking, and restore of a full export into an empty
database: export → restore → export again gives the same features, attributes and geometries."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest
import shapely
from openpyxl import load_workbook
from shapely.geometry import MultiPolygon, Point, Polygon, box
from sqlalchemy import Engine, func, select

from gis.export import (
    META_LAYER,
    ExportReport,
    attribute_columns,
    export_geojson,
    export_gpkg,
    export_xlsx,
    exported_tables,
    geometry_columns,
    primary_key,
    value_kind,
)
from gis.restore import RestoreError, restore_gpkg
from rural import codes, migrate
from rural.db import make_engine, write_session
from rural.enums import (
    ChainNodeKind,
    ChangeAction,
    CollectionPointKind,
    CourtyardLevel,
    DischargeClass,
    Escalation,
    ExcretaDestination,
    FacilityStatus,
    LabeledEnum,
    Line,
    ProblemSource,
    ProblemStatus,
    ProblemType,
    Role,
    SewageMode,
    TitleLevel,
    ToiletClass,
    ToiletCondition,
    ToiletType,
    TonnageFate,
    TonnageMethod,
    TreatmentKind,
    WaterClass,
)
from rural.ledgers.fields import (
    FIELD_LABELS,
    FULL_EXPORT_ONLY_TABLES,
    TABLE_LABELS,
    TRANSIENT_TABLES,
    field_label,
)
from rural.models import (
    ChainLink,
    ChangeLog,
    CivilizedTitle,
    CollectionLog,
    CollectionPoint,
    CourtyardRating,
    DatasetInfo,
    EffluentSample,
    Household,
    HouseholdToilet,
    Problem,
    ProblemPhoto,
    PublicToilet,
    RepairRequest,
    SewageConnection,
    SewageFacility,
    SewageInspection,
    SortingInspection,
    StatusChange,
    ToiletState,
    TonnageRecord,
    TransferStation,
    TreatmentFacility,
    Unit,
    UnitCrosswalk,
    UnitSuccessor,
    User,
    metadata,
)

COUNTY = "330102000000"
TOWNS = ("330102101000", "330102102000")
NAME = "张三丰"
ID_NUMBER = "11010519491231002X"
PHONE = "13800001234"


def _square(x: float, y: float, size: float) -> MultiPolygon:
    return MultiPolygon([box(x, y, x + size, y + size)])


def build_county(engine: Engine) -> dict[str, int]:
    """A small county with a row in every table, odd values included (Chinese text, None,
    microsecond timestamps, JSON, a polygon with a hole, a second geometry column)."""
    with write_session(engine) as s:
        units = [
            Unit(code="330000000000", name="浙江省", level=codes.level_of("330000000000")),
            Unit(code="330100000000", name="杭州市", level=codes.level_of("330100000000")),
        ]
        units.append(
            Unit(
                code=COUNTY,
                name="示例县",
                level=codes.level_of(COUNTY),
                geom=_square(120.0, 30.0, 0.2),
            )
        )
        for t, town in enumerate(TOWNS):
            units.append(
                Unit(
                    code=town,
                    name=f"镇{t}",
                    level=codes.level_of(town),
                    urban_rural_code="121",
                    geom=_square(120.0 + 0.1 * t, 30.0, 0.1),
                )
            )
            for v in range(3):
                code = town[:9] + f"{201 + v:03d}"
                ring = box(120.0 + 0.1 * t, 30.0 + 0.03 * v, 120.03 + 0.1 * t, 30.03 + 0.03 * v)
                hole = box(120.01 + 0.1 * t, 30.01 + 0.03 * v, 120.02 + 0.1 * t, 30.02 + 0.03 * v)
                units.append(
                    Unit(
                        code=code,
                        name=f"村{t}{v}",
                        level=codes.level_of(code),
                        urban_rural_code="220",
                        rural_override=True if v == 2 else None,
                        valid_from=date(2020, 6, 30),
                        valid_to=date(2024, 6, 30) if v == 2 and t == 1 else None,
                        geom=MultiPolygon([Polygon(ring.exterior, [hole.exterior])]),
                    )
                )
        units.append(
            Unit(code="330102101201001", name="一组", level=codes.level_of("330102101201001"))
        )
        # children listed before parents: the restore must order them itself
        by_code = {u.code: u for u in units}
        for unit in units:
            parent = codes.parent_of(unit.code)
            unit.parent_code = parent if parent in by_code else None
            s.add(unit)
            s.flush()
        village = "330102101201"
        s.add(
            UnitSuccessor(
                code="330102102203", successor_code="330102102202", effective_on=date(2024, 6, 30)
            )
        )
        s.add(UnitCrosswalk(code=village, system="农业农村部平台", external_id="A-001"))
        s.add(DatasetInfo(key="note", value="测试数据"))
        s.add(
            User(
                username="cadre1",
                display_name="王村干",
                role=Role.VILLAGE_CADRE,
                unit_code=village,
                line=None,
                phone="13911112222",
                password_hash="$argon2id$v=19$secret",
                created_at=datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
            )
        )
        s.add(
            User(
                username="women1",
                role=Role.DEPARTMENT_STAFF,
                unit_code=COUNTY,
                line=Line.WOMEN,
                created_at=datetime(2024, 1, 2, tzinfo=UTC),
            )
        )
        households = []
        for i in range(12):
            v_code = f"33010210{1 + i % 2}{201 + i % 3:03d}"
            h = Household(
                code=f"{v_code}{i:04d}",
                village_code=v_code,
                natural_village_code="330102101201001" if v_code == village else None,
                householder=NAME if i == 0 else f"户主{i}",
                id_number=ID_NUMBER if i == 0 else None,
                phone=PHONE if i == 0 else None,
                address="一组1号" if i == 0 else None,
                members=i % 5 or None,
                resident=i % 4 != 0,
                due_for_renovation=i % 3 == 0,
                geom=Point(120.001 + i * 0.001, 30.001 + i * 0.0007) if i != 5 else None,
            )
            s.add(h)
            households.append(h)
        s.flush()
        for i, h in enumerate(households[:8]):
            assert h.id is not None
            toilet = HouseholdToilet(
                household_id=h.id,
                toilet_type=ToiletType.THREE_COMPARTMENT if i % 2 else ToiletType.SINGLE_PIT,
                condition=ToiletCondition.IN_USE,
                excreta_destination=ExcretaDestination.ONSITE_TANK,
                toilet_class=ToiletClass.HARMLESS if i % 2 else ToiletClass.NON_SANITARY,
                old_toilet_demolished=True if i == 1 else None,
                build_year=2021,
                subsidy_yuan=1200.5,
                accepted_on=date(2021, 10, 15),
            )
            s.add(toilet)
            s.flush()
            assert toilet.id is not None
            s.add(
                ToiletState(
                    toilet_id=toilet.id,
                    effective_on=date(2021, 10, 15),
                    toilet_type=toilet.toilet_type,
                    condition=toilet.condition,
                    excreta_destination=toilet.excreta_destination,
                    toilet_class=toilet.toilet_class,
                    recorded_at=datetime(2024, 5, 1, 8, 0, 0, 123456, tzinfo=UTC),
                    actor="导入",
                )
            )
        s.add(
            PublicToilet(
                village_code=village,
                name="公厕一",
                toilet_type=ToiletType.FLUSH_SEWER,
                condition=ToiletCondition.BLOCKED,
                cleaner="李保洁",
                opened_on=date(2019, 1, 1),
                geom=Point(120.005, 30.005),
            )
        )
        point = CollectionPoint(
            village_code=village,
            name="收集房",
            kind=CollectionPointKind.SORTING_HOUSE,
            bins={"可回收物": 2, "其他垃圾": 3},
            frequency_per_week=7.0,
            status=FacilityStatus.OPERATING,
            geom=Point(120.006, 30.006),
        )
        station = TransferStation(
            town_code=TOWNS[0],
            name="中转站",
            capacity_tpd=50.25,
            status=FacilityStatus.FAULT,
            geom=Point(120.05, 30.05),
        )
        plant = TreatmentFacility(
            unit_code=COUNTY,
            name="焚烧厂",
            kind=TreatmentKind.INCINERATION,
            capacity_tpd=600,
            accepted_categories=["其他垃圾", "厨余垃圾"],
            status=FacilityStatus.OPERATING,
            geom=Point(120.15, 30.15),
        )
        sewage = SewageFacility(
            village_code=village,
            name="污水站",
            mode=SewageMode.CENTRALIZED,
            process="A/O",
            design_capacity_m3d=50,
            water_class=WaterClass.III,
            discharge_class=DischargeClass.CLASS_1A,
            status=FacilityStatus.OPERATING,
            service_area=Polygon([(120.0, 30.0), (120.01, 30.0), (120.01, 30.01)]),
            geom=Point(120.007, 30.007),
        )
        sewage2 = SewageFacility(
            village_code="330102102201",
            name="分散式设施",
            mode=SewageMode.DECENTRALIZED,
            status=FacilityStatus.BUILDING,
        )
        s.add_all([point, station, plant, sewage, sewage2])
        s.flush()
        assert point.id
        assert station.id
        assert plant.id
        assert sewage.id
        s.add_all(
            [
                ChainLink(
                    source_kind=ChainNodeKind.VILLAGE,
                    village_code=village,
                    collection_point_id=point.id,
                ),
                ChainLink(
                    source_kind=ChainNodeKind.COLLECTION_POINT,
                    collection_point_id=point.id,
                    transfer_station_id=station.id,
                    valid_from=date(2023, 1, 1),
                ),
                ChainLink(
                    source_kind=ChainNodeKind.TRANSFER_STATION,
                    transfer_station_id=station.id,
                    treatment_facility_id=plant.id,
                    category="其他垃圾",
                ),
                CollectionLog(
                    collection_point_id=point.id,
                    transfer_station_id=station.id,
                    collected_on=date(2024, 5, 1),
                    vehicle="浙A12345",
                    trips=2,
                    estimated_tonnes=0.8,
                ),
                TonnageRecord(
                    node_kind=ChainNodeKind.TREATMENT_FACILITY,
                    treatment_facility_id=plant.id,
                    period_start=date(2024, 5, 1),
                    period_end=date(2024, 5, 31),
                    category="其他垃圾",
                    tonnes=412.5,
                    method=TonnageMethod.MEASURED,
                    fate=TonnageFate.INCINERATED_ENERGY,
                ),
                SortingInspection(
                    household_id=households[0].id, inspected_on=date(2024, 5, 10), participated=True
                ),
                SewageConnection(
                    household_id=households[0].id,
                    facility_id=sewage.id,
                    connected_on=date(2020, 5, 1),
                ),
                SewageInspection(
                    facility_id=sewage.id,
                    inspected_on=date(2024, 5, 8),
                    pump_ok=False,
                    meter_m3=10234.5,
                ),
                RepairRequest(
                    facility_id=sewage.id,
                    reported_at=datetime(2024, 5, 8, 1, 30, tzinfo=UTC),
                    description="提升泵不启动",
                ),
                EffluentSample(
                    facility_id=sewage.id, sampled_on=date(2024, 5, 8), ph=7.2, cod=45.0
                ),
                CourtyardRating(
                    household_id=households[1].id,
                    rated_on=date(2024, 4, 20),
                    stars=4,
                    level=CourtyardLevel.TOWN,
                    published=True,
                    item_scores={"居室美": 18.5, "环境美": 20},
                ),
                CivilizedTitle(
                    unit_code=village,
                    level=TitleLevel.COUNTY,
                    title="文明村",
                    campaign="2024年度县级文明村镇评选",
                    document_no="青文明委〔2024〕3号",
                    awarded_on=date(2024, 12, 20),
                    revoked_on=date(2026, 5, 1),
                    revoke_reason="复查未通过",
                ),
            ]
        )
        problem = Problem(
            problem_type=ProblemType.INFORMAL_DUMP,
            source=ProblemSource.VILLAGER_REPORT,
            village_code=village,
            description="河边堆放垃圾",
            found_at=datetime(2024, 5, 3, 2, 0, tzinfo=UTC),
            deadline=date(2024, 5, 10),
            status=ProblemStatus.FIXING,
            escalation=Escalation.REMINDER,
            geom=Point(120.008, 30.008),
        )
        s.add(problem)
        s.flush()
        assert problem.id is not None
        s.add(
            ProblemPhoto(problem_id=problem.id, stage="found", file_name="a.jpg", sha256="0" * 64)
        )
        s.add(
            StatusChange(
                object_type="transfer_station",
                object_id=station.id,
                from_status="operating",
                to_status="fault",
                effective_on=date(2024, 5, 2),
                actor="cadre1",
            )
        )
        s.add(
            ChangeLog(
                actor="cadre1",
                action=ChangeAction.UPDATE,
                object_type="household",
                object_id=str(households[0].id),
                old={"householder": "张三", "phone": "13800009999", "members": 3},
                new={"householder": NAME, "phone": PHONE, "members": 4},
                at=datetime(2024, 5, 4, 5, 6, 7, 891011, tzinfo=UTC),
            )
        )
    return table_counts(engine)


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, geometries as WKB, in primary-key order."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in exported_tables():
            rows = conn.execute(select(table).order_by(*primary_key(table))).all()
            result[table.name] = [
                tuple(shapely.to_wkb(v) if isinstance(v, shapely.Geometry) else v for v in row)
                for row in rows
            ]
    return result


def read_layers(path: Path) -> dict[str, pd.DataFrame]:
    return {
        str(name): pyogrio.read_dataframe(path, layer=str(name), fid_as_index=True)
        for name, _kind in pyogrio.list_layers(path)
        if name != META_LAYER
    }


def assert_same_layers(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert sorted(a) == sorted(b)
    for name in a:
        left, right = a[name], b[name]
        assert list(left.columns) == list(right.columns), name
        assert len(left) == len(right), name
        for column in left.columns:
            if column == "geometry":
                lw = [None if g is None else shapely.to_wkb(g) for g in left.geometry]
                rw = [None if g is None else shapely.to_wkb(g) for g in right.geometry]
                assert lw == rw, name
            else:
                pd.testing.assert_series_equal(left[column], right[column], check_names=False)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, dict[str, int]]]:
    """The county in its own SQLite file, built once and only read (``engine`` and
    ``any_engine`` serve as restore targets)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('source') / 'source.db'}")
    migrate.upgrade(engine)
    yield engine, build_county(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def full_export(
    source: tuple[Engine, dict[str, int]], tmp_path_factory: pytest.TempPathFactory
) -> ExportReport:
    return export_gpkg(
        source[0], tmp_path_factory.mktemp("full") / "full.gpkg", include_personal=True
    )


@pytest.fixture(scope="module")
def masked_export(
    source: tuple[Engine, dict[str, int]], tmp_path_factory: pytest.TempPathFactory
) -> ExportReport:
    return export_gpkg(source[0], tmp_path_factory.mktemp("masked") / "masked.gpkg")


def copy_of(report: ExportReport, tmp_path: Path) -> Path:
    target = tmp_path / report.path.name
    shutil.copy(report.path, target)
    return target


# --- the data dictionary ----------------------------------------------------------------------


def test_every_table_and_column_has_a_chinese_name() -> None:
    """A new table or column needs its Chinese name in rural/ledgers/fields.py."""
    missing = []
    for table in exported_tables():
        if table.name not in TABLE_LABELS:
            missing.append(table.name)
        for column in attribute_columns(table, masked=False) + geometry_columns(table):
            if field_label(table.name, column.name) == column.name:
                missing.append(f"{table.name}.{column.name}")
    assert missing == []
    assert set(FIELD_LABELS) <= set(TABLE_LABELS)


def test_names_are_unique() -> None:
    assert len(set(TABLE_LABELS.values())) == len(TABLE_LABELS)
    for table in metadata.sorted_tables:
        labels = [field_label(table.name, c.name).lower() for c in table.columns]
        assert len(labels) == len(set(labels)), table.name


def test_enum_labels_are_unique() -> None:
    """Exports write labels; a restore maps them back, so no two members may share one."""
    for table in metadata.sorted_tables:
        for column in table.columns:
            if value_kind(column) == "enum":
                enum_class: type[LabeledEnum] = column.type.enum_class  # type: ignore[attr-defined]
                labels = [m.label for m in enum_class]
                assert len(labels) == len(set(labels)), enum_class.__name__


# --- round trip ---------------------------------------------------------------------------------


def test_round_trip_restores_every_row_and_exports_the_same(
    tmp_path: Path,
    source: tuple[Engine, dict[str, int]],
    full_export: ExportReport,
    any_engine: Engine,
) -> None:
    engine, counts = source
    # every table has something to carry (the security tables are built by their own module)
    empty = {t for t, n in counts.items() if n == 0}
    assert empty <= TRANSIENT_TABLES | FULL_EXPORT_ONLY_TABLES
    first = full_export
    report = restore_gpkg(any_engine, first.path)
    assert report.tables == {t: n for t, n in counts.items() if t not in TRANSIENT_TABLES}
    assert table_counts(any_engine) == counts
    assert dump(any_engine) == dump(engine)
    second = export_gpkg(any_engine, tmp_path / "two.gpkg", include_personal=True)
    assert first.layers == second.layers
    assert_same_layers(read_layers(first.path), read_layers(second.path))
    # new rows get fresh ids after a restore (sequences moved past the restored ids)
    with write_session(any_engine) as s:
        info = DatasetInfo(key="after", value="x")
        s.add(info)
        log = ChangeLog(actor="t", action=ChangeAction.CREATE, object_type="x", object_id="1")
        s.add(log)
        s.flush()
        assert log.id is not None
        assert log.id > counts["change_log"]


def test_gpkg_layers_are_cgcs2000_with_chinese_names(
    source: tuple[Engine, dict[str, int]], full_export: ExportReport
) -> None:
    _engine, counts = source
    report = full_export
    layers = {str(n): k for n, k in pyogrio.list_layers(report.path)}
    assert layers["农户"] == "Point"
    assert layers["行政区划"] == "MultiPolygon"
    assert layers["户厕"] is None  # an attribute table
    assert layers["污水处理设施_服务范围"] is not None
    info = pyogrio.read_info(report.path, layer="农户")
    assert info["crs"] == "EPSG:4490"
    assert info["features"] == counts["household"]
    assert "户主姓名" in list(info["fields"])
    assert "minx" not in list(info["fields"])
    units = pyogrio.read_dataframe(report.path, layer="行政区划")
    village = units[units["区划代码"] == "330102101201"].iloc[0]
    assert village["层级"] == "村"  # enum written as its label
    assert len(village.geometry.geoms[0].interiors) == 1  # the hole survived
    logs = pyogrio.read_dataframe(report.path, layer="变更记录", read_geometry=False)
    assert logs["时间"].iloc[0] == "2024-05-04T05:06:07.891011+00:00"


# --- masking ------------------------------------------------------------------------------------


def test_masked_export_hides_personal_data_everywhere(
    masked_export: ExportReport, full_export: ExportReport
) -> None:
    report = masked_export
    assert report.masked
    households = pyogrio.read_dataframe(report.path, layer="农户")
    first = households.iloc[0]
    assert first["户主姓名"] == "张**"
    assert first["身份证号"] == "110105" + "*" * 8 + "002X"
    assert first["联系电话"] == "138****1234"
    assert households.iloc[1]["户主姓名"] == "户**"
    users = pyogrio.read_dataframe(report.path, layer="用户", read_geometry=False)
    assert "密码摘要" not in users.columns
    assert users.iloc[0]["联系电话"] == "139****2222"
    logs = pyogrio.read_dataframe(report.path, layer="变更记录", read_geometry=False)
    old, new = json.loads(logs.iloc[0]["原值"]), json.loads(logs.iloc[0]["新值"])
    assert old == {"householder": "张*", "phone": "138****9999", "members": 3}
    assert new == {"householder": "张**", "phone": "138****1234", "members": 4}
    raw = report.path.read_bytes()
    for secret in (NAME, ID_NUMBER, PHONE, "13800009999", "$argon2id"):
        assert secret.encode() not in raw
    assert NAME.encode() in full_export.path.read_bytes()


def test_masked_export_cannot_be_restored(masked_export: ExportReport, engine: Engine) -> None:
    with pytest.raises(RestoreError, match="已脱敏"):
        restore_gpkg(engine, masked_export.path)
    assert sum(table_counts(engine).values()) == 0


def test_restore_refuses_a_database_with_data(
    source: tuple[Engine, dict[str, int]], full_export: ExportReport
) -> None:
    engine, counts = source
    with pytest.raises(RestoreError, match="不是空的") as caught:
        restore_gpkg(engine, full_export.path)
    assert "unit 12 行" in str(caught.value)
    assert table_counts(engine) == counts


def test_restore_refuses_another_schema_revision(
    tmp_path: Path, full_export: ExportReport, engine: Engine
) -> None:
    path = copy_of(full_export, tmp_path)
    meta = pyogrio.read_dataframe(path, layer=META_LAYER, read_geometry=False)
    meta.loc[meta["键"] == "schema_revision", "值"] = "0000_other"
    pyogrio.write_dataframe(meta, path, layer=META_LAYER)
    with pytest.raises(RestoreError, match="0000_other"):
        restore_gpkg(engine, path)
    assert sum(table_counts(engine).values()) == 0


def test_restore_is_all_or_nothing(
    tmp_path: Path, full_export: ExportReport, engine: Engine
) -> None:
    """A layer that lost features fails the count check after earlier tables were inserted:
    the whole restore rolls back."""
    broken = copy_of(full_export, tmp_path)
    photos = pyogrio.read_dataframe(broken, layer="问题照片", read_geometry=False)
    pyogrio.write_dataframe(photos.iloc[0:0], broken, layer="问题照片")
    with pytest.raises(RestoreError, match="问题照片"):
        restore_gpkg(engine, broken)
    assert sum(table_counts(engine).values()) == 0


def tamper(path: Path, layer: str, column: str, row: int, value: Any) -> None:
    """Overwrite one cell (``row`` 1-based, as the message counts) of a layer, by hand."""
    spatial = dict(pyogrio.list_layers(path))[layer] is not None
    frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=spatial)
    frame[column] = frame[column].astype(object)
    frame.loc[frame.index[row - 1], column] = value
    pyogrio.write_dataframe(frame, path, layer=layer)


PERSONAL = (NAME, ID_NUMBER, PHONE, "13911112222")


@pytest.mark.parametrize(
    ("layer", "column", "row", "value", "expected"),
    [
        # a status that is no label of FacilityStatus
        ("垃圾收集点", "状态", 1, "坏了", "应为 运行、故障、停运、在建、报废 之一"),
        # a date typed the way Excel shows it
        ("农村公厕", "启用日期", 1, "2019/07/01", "YYYY-MM-DD"),
        ("问题", "发现时间", 1, "昨天", "ISO 8601"),
        ("变更记录", "原值", 1, "{householder: 张三", "JSON"),
        ("农户", "常住户", 3, "也许", "是/否"),
        ("户厕", "补助金额(元)", 2, "一千二", "数字"),
    ],
    ids=["enum", "date", "datetime", "json", "bool", "float"],
)
def test_restore_refuses_a_bad_value_naming_layer_row_and_field(
    tmp_path: Path,
    full_export: ExportReport,
    engine: Engine,
    layer: str,
    column: str,
    row: int,
    value: str,
    expected: str,
) -> None:
    path = copy_of(full_export, tmp_path)
    tamper(path, layer, column, row, value)
    with pytest.raises(RestoreError) as caught:
        restore_gpkg(engine, path)
    message = str(caught.value)
    assert f"图层「{layer}」" in message
    assert f"第 {row} 行 字段「{column}」" in message
    assert expected in message
    assert "未写入任何数据" in message
    assert value not in message  # the cell itself is never repeated
    assert (caught.value.layer, caught.value.row, caught.value.field) == (layer, row, column)
    assert sum(table_counts(engine).values()) == 0


def test_restore_lists_every_bad_value_of_a_layer(
    tmp_path: Path, full_export: ExportReport, engine: Engine
) -> None:
    path = copy_of(full_export, tmp_path)
    frame = pyogrio.read_dataframe(path, layer="农户")
    frame["人口数"] = "很多"  # 12 households: 12 cells that are no integer
    pyogrio.write_dataframe(frame, path, layer="农户")
    with pytest.raises(RestoreError) as caught:
        restore_gpkg(engine, path)
    message = str(caught.value)
    assert "有 12 个值无法恢复" in message
    assert "第 1 行 字段「人口数」: 应为整数" in message
    assert "第 12 行 字段「人口数」: 应为整数" in message
    assert sum(table_counts(engine).values()) == 0


@pytest.mark.parametrize(
    ("column", "row", "value", "field", "reason"),
    [
        # household 1 (张三丰, with ID and phone) in a village that does not exist
        ("村代码", 1, "330102109999", "村代码", "引用的「行政区划」中没有这一条"),
        # household 2 given household 1's code
        ("户编码", 2, "3301021012010000", "户编码", "与前面的行重复"),
    ],
    ids=["unknown-village", "duplicate-code"],
)
def test_restore_refuses_a_row_the_database_refuses(
    tmp_path: Path,
    full_export: ExportReport,
    any_engine: Engine,
    column: str,
    row: int,
    value: str,
    field: str,
    reason: str,
) -> None:
    """The driver's error repeats every parameter of the insert (names, ID and phone numbers):
    the message names layer, row, field and constraint instead."""
    path = copy_of(full_export, tmp_path)
    households = pyogrio.read_dataframe(path, layer="农户", read_geometry=False)
    assert households["户编码"].iloc[0] == "3301021012010000"  # household i=0 of build_county
    assert households["户主姓名"].iloc[0] == NAME
    tamper(path, "农户", column, row, value)
    with pytest.raises(RestoreError) as caught:
        restore_gpkg(any_engine, path)
    message = str(caught.value)
    assert f"图层「农户」第 {row} 行 字段「{field}」: {reason}" in message
    assert "未写入任何数据" in message
    for secret in PERSONAL:
        assert secret not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert (caught.value.layer, caught.value.row, caught.value.field) == ("农户", row, field)
    assert sum(table_counts(any_engine).values()) == 0


def test_restore_command_reports_a_tampered_export_without_a_traceback(
    tmp_path: Path, full_export: ExportReport, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from rural.cli import app
    from rural.settings import get_settings

    path = copy_of(full_export, tmp_path)
    tamper(path, "农户", "村代码", 1, "330102109999")
    target = make_engine(sqlite_url)
    try:
        migrate.upgrade(target)
        monkeypatch.setenv("RURAL_DATABASE_URL", sqlite_url)
        get_settings.cache_clear()
        result = CliRunner().invoke(app, ["import", "gpkg", str(path)])
        assert result.exit_code == 2
        assert "图层「农户」第 1 行" in result.output
        assert "Traceback" not in result.output
        assert "IntegrityError" not in result.output
        for secret in PERSONAL:
            assert secret not in result.output
        assert sum(table_counts(target).values()) == 0
    finally:
        target.dispose()
        get_settings.cache_clear()


def test_not_an_export(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "other.gpkg"
    frame = pd.DataFrame({"a": [1]})
    pyogrio.write_dataframe(frame, path, layer="x")
    with pytest.raises(RestoreError, match="不是 rural 导出"):
        restore_gpkg(engine, path)


# --- Excel and GeoJSON --------------------------------------------------------------------------


def test_xlsx_has_a_sheet_per_table(tmp_path: Path, source: tuple[Engine, dict[str, int]]) -> None:
    engine, counts = source
    report = export_xlsx(engine, tmp_path / "x.xlsx")
    workbook = load_workbook(report.path, read_only=True)
    assert workbook.sheetnames[0] == "说明"
    expected = {TABLE_LABELS[t.name] for t in exported_tables(masked=True)}
    assert set(workbook.sheetnames[1:]) == expected
    # written out: every table but the live sessions and rate counters, and (masked) neither
    # the security log nor the access tokens
    assert sorted(workbook.sheetnames[1:]) == sorted(
        [
            "行政区划",
            "区划代码对照",
            "区划沿革",
            "数据集信息",
            "变更记录",
            "状态变更历史",
            "用户",
            "农户",
            "户厕",
            "户厕状态历史",
            "农村公厕",
            "垃圾收集点",
            "垃圾转运站",
            "垃圾处理设施",
            "收运链接",
            "收运记录",
            "垃圾吨位记录",
            "垃圾分类入户抽查",
            "污水处理设施",
            "污水接户",
            "污水设施巡检",
            "污水设施报修",
            "出水水质检测",
            "美丽庭院评定",
            "文明村镇称号",
            "问题",
            "问题照片",
        ]
    )
    sheet = workbook["农户"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:3] == ["编号", "户编码", "村代码"]
    assert header[-2:] == ["经度", "纬度"]
    assert len(rows) == counts["household"] + 1
    first = dict(zip(header, rows[1], strict=True))
    assert (first["户主姓名"], first["联系电话"]) == ("张**", "138****1234")
    assert (first["常住户"], first["经度"], first["纬度"]) == ("否", 120.001, 30.001)
    repairs = list(workbook["污水设施报修"].iter_rows(values_only=True))
    repair = dict(zip(repairs[0], repairs[1], strict=True))
    assert repair["报修时间"] == datetime(2024, 5, 8, 9, 30)  # Beijing time
    units = list(workbook["行政区划"].iter_rows(values_only=True))
    assert units[0][-1] == "几何(WKT)"
    assert str(units[3][-1]).startswith("MULTIPOLYGON")


def test_geojson_one_file_per_geometry_layer(
    tmp_path: Path, source: tuple[Engine, dict[str, int]]
) -> None:
    engine, _counts = source
    report = export_geojson(engine, tmp_path / "geojson", include_personal=False)
    files = sorted(p.name for p in report.path.glob("*.geojson"))
    assert files == sorted(
        f"{name}.geojson"
        for name in (
            "行政区划",
            "农户",
            "农村公厕",
            "垃圾收集点",
            "垃圾转运站",
            "垃圾处理设施",
            "污水处理设施",
            "污水处理设施_服务范围",
            "问题",
        )
    )
    data = json.loads((report.path / "农户.geojson").read_text("utf-8"))
    assert len(data["features"]) == 11  # the household without a location is left out
    feature = data["features"][0]
    assert feature["properties"]["户主姓名"] == "张**"
    assert feature["geometry"]["coordinates"] == [120.001, 30.001]
    assert "4490" in data["crs"]["properties"]["name"]
    area = json.loads((report.path / "污水处理设施_服务范围.geojson").read_text("utf-8"))
    assert len(area["features"]) == 1
