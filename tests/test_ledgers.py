"""Ledger templates and imports (台账): every kind imports, re-imports as no change, and every
problem is reported with sheet, row, column, value and reason while nothing is written."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import shapely
from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine, func, select
from sqlmodel import Session, SQLModel

from rural import clock, migrate
from rural.db import make_engine, write_session
from rural.enums import (
    ChainNodeKind,
    ChangeAction,
    FacilityStatus,
    Role,
    ToiletClass,
    ToiletCondition,
    ToiletType,
)
from rural.ledgers import KINDS, LedgerError, get_kind, import_ledger, write_template
from rural.ledgers.kinds import classify_toilet
from rural.models import (
    ChainLink,
    ChangeLog,
    CollectionLog,
    CollectionPoint,
    CourtyardRating,
    EffluentSample,
    Household,
    HouseholdToilet,
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
    metadata,
)
from rural.permissions import Actor
from tests.factories import add_unit, add_unit_chain

COUNTY = "330102000000"
TOWN = "330102101000"
V1 = "330102101201"
V2 = "330102101202"
NATURAL = "330102101201001"
H1 = "3301021012010001"
H2 = "3301021012020001"
OPERATOR = Actor.operator("ledger-test")

# Sample rows of every kind, in an order that satisfies their references.
SAMPLES: dict[str, list[dict[str, Any]]] = {
    "households": [
        {
            "户编码": H1,
            "村代码": V1,
            "自然村代码": NATURAL,
            "户主姓名": "张三",
            "身份证号": "11010519491231002X",
            "联系电话": "13800001234",
            "地址": "一组1号",
            "人口数": 4,
            "常住户": "是",
            "户籍户": "是",
            "应改户": "否",
            "经度": 120.101,
            "纬度": 30.201,
        },
        {"户编码": H2, "村代码": V2, "户主姓名": "李四", "常住户": "否"},
    ],
    "toilets": [
        {
            "户编码": H1,
            "厕所类型": "三格化粪池式",
            "使用状况": "正常使用",
            "粪污去向": "就地处理(化粪池/沼气池)",
            "改厕年度": 2021,
            "验收日期": date(2021, 10, 15),
            "补助金额(元)": 1200,
        },
        # values instead of labels are accepted too
        {"户编码": H2, "厕所类型": "single_pit", "使用状况": "in_use", "粪污去向": "直排未处理"},
    ],
    "public_toilets": [
        {
            "村代码": V1,
            "公厕名称": "村委会旁公厕",
            "厕所类型": "完整上下水道水冲式",
            "使用状况": "正常使用",
            "经度": 120.102,
            "纬度": 30.202,
        }
    ],
    "collection_points": [
        {
            "村代码": V1,
            "收集点名称": "村口收集房",
            "类型": "分类收集房",
            "各类桶数": "可回收物:2;other:3",  # a label or the scheme's key
            "每周清运次数": 7,
            "状态": "运行",
            "经度": 120.103,
            "纬度": 30.203,
        }
    ],
    "transfer_stations": [
        {"乡镇代码": TOWN, "转运站名称": "镇中转站", "设计能力(吨/日)": 50, "状态": "运行"}
    ],
    "treatment_facilities": [
        {
            "所属单位代码": COUNTY,
            "设施名称": "县焚烧厂",
            "类型": "焚烧发电",
            "设计能力(吨/日)": 600,
            "接收类别": "其他垃圾、易腐垃圾",
            "状态": "运行",
        }
    ],
    "chain_links": [
        {"环节起点": "村", "村代码": V1, "收集点所在村代码": V1, "收集点名称": "村口收集房"},
        {
            "环节起点": "收集点",
            "收集点所在村代码": V1,
            "收集点名称": "村口收集房",
            "转运站所在乡镇代码": TOWN,
            "转运站名称": "镇中转站",
        },
        {
            "环节起点": "转运站",
            "转运站所在乡镇代码": TOWN,
            "转运站名称": "镇中转站",
            "处理设施所属单位代码": COUNTY,
            "处理设施名称": "县焚烧厂",
            "垃圾类别": "其他垃圾",
        },
    ],
    "collection_logs": [
        {
            "收集点所在村代码": V1,
            "收集点名称": "村口收集房",
            "转运站所在乡镇代码": TOWN,
            "转运站名称": "镇中转站",
            "收运日期": "2024-05-01",
            "车辆": "浙A12345",
            "车次": 2,
            "垃圾类别": "其他垃圾",
            "估算吨数": 0.8,
        }
    ],
    "tonnage": [
        {
            "环节": "转运站",
            "转运站所在乡镇代码": TOWN,
            "转运站名称": "镇中转站",
            "起始日期": "2024-05-01",
            "截止日期": "2024-05-31",
            "垃圾类别": "其他垃圾",
            "吨数": 412.5,
            "计量方式": "称重",
        },
        {
            "环节": "村",
            "村代码": V1,
            "起始日期": "2024-05-01",
            "截止日期": "2024-05-31",
            "垃圾类别": "会烂的",  # a category of the rural two-step scheme
            "吨数": 3.2,
            "计量方式": "估算",
        },
    ],
    "sorting_inspections": [
        {"户编码": H1, "抽查日期": "2024-05-10", "参与分类": "是", "分类正确": "否"}
    ],
    "sewage_facilities": [
        {
            "村代码": V1,
            "设施名称": "村污水站",
            "处理模式": "集中式",
            "处理工艺": "A/O",
            "设计规模(立方米/日)": 50,
            "水体类别": "III类",
            "排放等级": "一级",
            "状态": "运行",
            "经度": 120.104,
            "纬度": 30.204,
        }
    ],
    "sewage_connections": [
        {"户编码": H1, "设施所在村代码": V1, "设施名称": "村污水站", "接入日期": "2020-05-01"}
    ],
    "sewage_inspections": [
        {
            "设施所在村代码": V1,
            "设施名称": "村污水站",
            "巡检日期": "2024-05-08",
            "水泵正常": "是",
            "水表读数(立方米)": 10234.5,
        }
    ],
    "repair_requests": [
        {
            "设施所在村代码": V1,
            "设施名称": "村污水站",
            "报修时间": "2024-05-08 09:30",
            "故障描述": "提升泵不启动",
            "修复时间": "2024-05-09 16:00",
        }
    ],
    "effluent_samples": [
        {
            "设施所在村代码": V1,
            "设施名称": "村污水站",
            "采样日期": "2024-05-08",
            "pH": 7.2,
            "化学需氧量(mg/L)": 45,
        }
    ],
    "courtyard_ratings": [
        {
            "户编码": H1,
            "评定日期": "2024-04-20",
            "星级": 4,
            "评定层级": "乡镇级",
            "分项得分": "居室美:18;环境美:20",
        }
    ],
}


def write_ledger(
    path: Path, sheet: str, rows: list[dict[str, Any]], *, headers: list[str] | None = None
) -> Path:
    """A workbook as a person would fill it: one header row, then the rows."""
    names = headers or list(dict.fromkeys(h for row in rows for h in row))
    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = sheet
    ws.append(names)
    for row in rows:
        ws.append([row.get(h) for h in names])
    workbook.save(path)
    return path


def import_rows(
    engine: Engine, tmp_path: Path, kind_name: str, rows: list[dict[str, Any]], **kw: Any
) -> Any:
    kind = get_kind(kind_name)
    path = write_ledger(tmp_path / f"{kind_name}.xlsx", kind.label, rows)
    return import_ledger(engine, kind, path, actor=kw.pop("actor", OPERATOR), **kw)


def count(engine: Engine, model: type[SQLModel]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model.__table__)).scalar_one())  # type: ignore[attr-defined]


def all_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }


def add_units(engine: Engine) -> Engine:
    """A county with one town, two villages and a natural village."""
    with write_session(engine) as session:
        add_unit_chain(session=session, county_code=COUNTY)
        add_unit(session=session, code=TOWN, name="示例镇")
        add_unit(session=session, code=V1, name="东村")
        add_unit(session=session, code=V2, name="西村")
        add_unit(session=session, code=NATURAL, name="东村一组")
    return engine


@pytest.fixture
def county(engine: Engine) -> Engine:
    return add_units(engine)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The county with every sample ledger imported; shared by tests that write nothing."""
    folder = tmp_path_factory.mktemp("loaded")
    engine = make_engine(f"sqlite:///{folder / 'rural.db'}")
    migrate.upgrade(engine)
    add_units(engine)
    load_up_to(engine, folder, "")
    yield engine
    engine.dispose()


def load_up_to(engine: Engine, tmp_path: Path, last: str) -> None:
    """Import the samples of every kind before ``last`` (their references)."""
    for name, rows in SAMPLES.items():
        if name == last:
            return
        import_rows(engine, tmp_path, name, rows)


# --- templates ------------------------------------------------------------------------------


def test_every_kind_has_samples() -> None:
    assert set(SAMPLES) == {k.name for k in KINDS}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_template_has_headers_choices_and_notes(tmp_path: Path, kind: Any) -> None:
    path = write_template(kind, tmp_path / "t.xlsx")
    workbook = load_workbook(path)
    assert workbook.sheetnames[:2] == [kind.label, "说明"]
    data = workbook[kind.label]
    headers = [c.value for c in data[1]]
    assert headers == [c.header for c in kind.all_columns]
    if kind.name == "households":
        # the household ledger's columns, written out (rural.models.Household: code, village,
        # natural village, householder, ID number, phone, address, members, 常住户 / 户籍户 /
        # 应改户 flags, location)
        assert headers == [
            "户编码",
            "村代码",
            "自然村代码",
            "户主姓名",
            "身份证号",
            "联系电话",
            "地址",
            "人口数",
            "常住户",
            "户籍户",
            "应改户",
            "经度",
            "纬度",
        ]
    assert data.max_row == 1  # no example rows to delete by hand
    notes = "\n".join(
        str(c.value) for row in workbook["说明"].iter_rows() for c in row if c.value is not None
    )
    for column in kind.all_columns:
        assert column.header in notes
    assert "自然键" in notes
    assert "、".join(kind.key_headers()) in notes
    enum_columns = [c for c in kind.all_columns if c.enum is not None]
    validations = data.data_validations.dataValidation
    listed_columns = [
        c
        for c in kind.all_columns
        if c.enum is not None
        or c.value_type == "boolean"
        or (c.categories and c.value_type == "text")
    ]
    assert len([v for v in validations if v.type == "list"]) == len(listed_columns)
    options = workbook["选项"]
    listed = {str(c.value) for row in options.iter_rows() for c in row if c.value is not None}
    for column in enum_columns:
        assert column.enum is not None
        assert {m.label for m in column.enum} <= listed


def test_filled_template_imports(tmp_path: Path, county: Engine) -> None:
    """The template itself, filled below its header row, is a valid ledger."""
    kind = get_kind("农户台账")
    path = write_template(kind, tmp_path / "households.xlsx")
    workbook = load_workbook(path)
    sheet = workbook[kind.label]
    headers = [c.value for c in sheet[1]]
    sheet.append([SAMPLES["households"][0].get(h) for h in headers])
    workbook.save(path)
    result = import_ledger(county, kind, path, actor=OPERATOR)
    assert (result.created, result.updated, result.rows) == (1, 0, 1)


# --- every kind imports, then re-imports as no change ---------------------------------------

EXPECTED_TABLE = {
    "households": Household,
    "toilets": HouseholdToilet,
    "public_toilets": PublicToilet,
    "collection_points": CollectionPoint,
    "transfer_stations": TransferStation,
    "treatment_facilities": TreatmentFacility,
    "chain_links": ChainLink,
    "collection_logs": CollectionLog,
    "tonnage": TonnageRecord,
    "sorting_inspections": SortingInspection,
    "sewage_facilities": SewageFacility,
    "sewage_connections": SewageConnection,
    "sewage_inspections": SewageInspection,
    "repair_requests": RepairRequest,
    "effluent_samples": EffluentSample,
    "courtyard_ratings": CourtyardRating,
}


def test_every_kind_imports_and_reimport_changes_nothing(tmp_path: Path, county: Engine) -> None:
    for name, rows in SAMPLES.items():
        model = EXPECTED_TABLE[name]
        before_logs = count(county, ChangeLog)
        first = import_rows(county, tmp_path, name, rows)
        assert (first.created, first.updated, first.unchanged) == (len(rows), 0, 0), name
        assert count(county, model) == len(rows), name
        assert count(county, ChangeLog) == before_logs + len(rows), name
        counts = all_counts(county)
        again = import_rows(county, tmp_path, name, rows)
        assert (again.created, again.updated, again.unchanged) == (0, 0, len(rows)), name
        assert again.changed == 0
        assert all_counts(county) == counts, name


def test_imported_values(loaded: Engine) -> None:
    county = loaded
    with Session(county) as s:
        h1 = s.scalars(select(Household).where(Household.code == H1)).one()
        assert (h1.householder, h1.id_number, h1.members, h1.resident) == (
            "张三",
            "11010519491231002X",
            4,
            True,
        )
        assert h1.natural_village_code == NATURAL
        assert h1.geom.equals_exact(shapely.Point(120.101, 30.201), 0)
        assert (h1.minx, h1.maxy) == (120.101, 30.201)
        h2 = s.scalars(select(Household).where(Household.code == H2)).one()
        assert (h2.resident, h2.registered, h2.due_for_renovation, h2.geom) == (
            False,
            True,
            False,
            None,
        )
        toilets = {t.household_id: t for t in s.scalars(select(HouseholdToilet))}
        assert toilets[h1.id].toilet_class == ToiletClass.HARMLESS
        assert toilets[h2.id].toilet_class == ToiletClass.NON_SANITARY
        assert toilets[h2.id].toilet_type == ToiletType.SINGLE_PIT
        states = {st.toilet_id: st for st in s.scalars(select(ToiletState))}
        assert states[toilets[h1.id].id].effective_on == date(2021, 10, 15)  # the acceptance date
        assert states[toilets[h2.id].id].effective_on == clock.today()
        point = s.scalars(select(CollectionPoint)).one()
        # categories are stored by their key in rural/rules/garbage_categories.toml
        assert point.bins == {"recyclable": 2, "other": 3}
        facility = s.scalars(select(TreatmentFacility)).one()
        assert facility.accepted_categories == ["other", "perishable"]
        station = s.scalars(select(TransferStation)).one()
        assert station.has_weighbridge is True  # empty → the column's default
        links = {lk.source_kind: lk for lk in s.scalars(select(ChainLink))}
        assert links[ChainNodeKind.VILLAGE].collection_point_id == point.id
        assert links[ChainNodeKind.COLLECTION_POINT].transfer_station_id == station.id
        assert links[ChainNodeKind.TRANSFER_STATION].treatment_facility_id == facility.id
        assert links[ChainNodeKind.TRANSFER_STATION].category == "other"
        assert links[ChainNodeKind.VILLAGE].category is None  # mixed
        tonnage = {t.node_kind: t.category for t in s.scalars(select(TonnageRecord))}
        assert tonnage == {ChainNodeKind.TRANSFER_STATION: "other", ChainNodeKind.VILLAGE: "rots"}
        repair = s.scalars(select(RepairRequest)).one()
        # 09:30 Beijing time is 01:30 UTC
        assert repair.reported_at == datetime(2024, 5, 8, 1, 30, tzinfo=UTC)
        rating = s.scalars(select(CourtyardRating)).one()
        assert (rating.stars, rating.item_scores) == (4, {"居室美": 18, "环境美": 20})
        statuses = {
            (c.object_type, c.from_status, c.to_status) for c in s.scalars(select(StatusChange))
        }
        assert statuses == {
            ("public_toilet", None, "in_use"),
            ("collection_point", None, "operating"),
            ("transfer_station", None, "operating"),
            ("treatment_facility", None, "operating"),
            ("sewage_facility", None, "operating"),
        }
        created = s.scalars(select(ChangeLog).where(ChangeLog.object_type == "household")).all()
        assert {c.action for c in created} == {ChangeAction.CREATE}
        assert {c.actor for c in created} == {"ledger-test"}


# --- changes: update, change log, history ----------------------------------------------------


def test_changed_toilet_updates_logs_and_appends_state(tmp_path: Path, county: Engine) -> None:
    load_up_to(county, tmp_path, "public_toilets")
    changed = [dict(SAMPLES["toilets"][0]), SAMPLES["toilets"][1]]
    changed[0]["使用状况"] = "损坏-渗漏"
    changed[0]["变更日期"] = "2024-06-01"
    logs_before = count(county, ChangeLog)
    result = import_rows(county, tmp_path, "toilets", changed)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert result.history_rows == 1
    assert count(county, ChangeLog) == logs_before + 1
    with Session(county) as s:
        h1 = s.scalars(select(Household).where(Household.code == H1)).one()
        toilet = s.scalars(
            select(HouseholdToilet).where(HouseholdToilet.household_id == h1.id)
        ).one()
        assert toilet.condition == ToiletCondition.LEAKING
        assert toilet.toilet_class == ToiletClass.NON_SANITARY  # a leaking tank is not sanitary
        assert toilet.version == 2
        states = s.scalars(
            select(ToiletState)
            .where(ToiletState.toilet_id == toilet.id)
            .order_by(ToiletState.effective_on)  # type: ignore[arg-type]
        ).all()
        assert [(st.effective_on, st.condition) for st in states] == [
            (date(2021, 10, 15), ToiletCondition.IN_USE),
            (date(2024, 6, 1), ToiletCondition.LEAKING),
        ]
        log = s.scalars(select(ChangeLog).order_by(ChangeLog.id.desc())).first()  # type: ignore[union-attr]
        assert log is not None
        assert log.action == ChangeAction.UPDATE
        assert (log.object_type, log.object_id) == ("household_toilet", str(toilet.id))
        assert log.old == {"condition": "in_use", "toilet_class": "harmless", "version": 1}
        assert log.new == {"condition": "leaking", "toilet_class": "non_sanitary", "version": 2}


def test_status_change_appends_history_and_follows_lifecycle(
    tmp_path: Path, county: Engine
) -> None:
    load_up_to(county, tmp_path, "transfer_stations")
    rows = [dict(SAMPLES["collection_points"][0], 状态="故障", 变更日期="2024-07-02")]
    result = import_rows(county, tmp_path, "collection_points", rows)
    assert result.updated == 1
    with Session(county) as s:
        point = s.scalars(select(CollectionPoint)).one()
        assert point.status == FacilityStatus.FAULT
        change = s.scalars(
            select(StatusChange).where(StatusChange.from_status == "operating")
        ).one()
        assert (change.to_status, change.effective_on) == ("fault", date(2024, 7, 2))
    # 故障 → 在建 is not an allowed transition: refused, nothing written
    counts = all_counts(county)
    rows = [dict(SAMPLES["collection_points"][0], 状态="在建")]
    with pytest.raises(LedgerError) as caught:
        import_rows(county, tmp_path, "collection_points", rows)
    (problem,) = caught.value.problems
    assert (problem.row, problem.column, problem.value) == (2, "状态", "在建")
    assert "状态不能从「故障」变为「在建」" in problem.reason
    assert all_counts(county) == counts


# --- every problem is reported, nothing written -------------------------------------------


def _households(**changes: Any) -> list[dict[str, Any]]:
    rows = [dict(r) for r in SAMPLES["households"]]
    rows[1].update(changes)
    return rows


BAD_CASES: list[tuple[str, list[dict[str, Any]], list[tuple[int, str, Any, str]]]] = [
    ("wrong integer", _households(人口数="四口"), [(3, "人口数", "四口", "应为整数")]),
    ("fraction", _households(人口数=2.5), [(3, "人口数", 2.5, "应为整数,不能有小数")]),
    ("boolean", _households(常住户="也许"), [(3, "常住户", "也许", "应为 是 或 否")]),
    (
        "unknown village",
        _households(村代码="330102101299"),
        [(3, "村代码", "330102101299", "区划代码不存在(请先导入区划)")],
    ),
    (
        "malformed code",
        _households(村代码="3301021012"),
        [(3, "村代码", "3301021012", "不是有效的统计用区划代码(12位,自然村15位)")],
    ),
    (
        "town code where a village is wanted",
        _households(村代码=TOWN),
        [(3, "村代码", TOWN, "「示例镇」是乡镇级单位,此列应填村级单位的代码")],
    ),
    (
        "duplicate key",
        _households(户编码=H1, 村代码=V1),
        [(3, "户编码", H1, "与第2行重复(自然键: 户编码)")],
    ),
    (
        "full-width copy of a household code",
        _households(户编码="３３０１０２１０１２０１０００１", 村代码=V1),
        [(3, "户编码", H1, "与第2行重复(自然键: 户编码)")],
    ),
    (
        "code in other digits",
        _households(村代码="٣٣٠١٠٢١٠١٢٠٢"),
        [
            (
                3,
                "村代码",
                "٣٣٠١٠٢١٠١٢٠٢",
                "不是有效的统计用区划代码(12位,自然村15位)(只能用半角数字 0-9)",
            )
        ],
    ),
    ("missing required value", _households(户编码=None), [(3, "户编码", None, "必填,不能为空")]),
    (
        "half a point",
        _households(经度=120.1),
        [(3, "纬度", None, "经度和纬度须同时填写或同时留空")],
    ),
    (
        "swapped coordinates",
        _households(经度=30.2, 纬度=120.1),
        [(3, "经度", 30.2, "经度和纬度可能填反了(经度应在73-136之间,纬度应在3-54之间)")],
    ),
    (
        "bad id number",
        _households(身份证号="110105194912310021"),
        [(3, "身份证号", "110105194912310021", "身份证号校验位不正确")],
    ),
    (
        "several problems in several rows",
        [
            dict(SAMPLES["households"][0], 人口数="x"),
            dict(SAMPLES["households"][1], 村代码="330102101299", 应改户="maybe"),
        ],
        [
            (2, "人口数", "x", "应为整数"),
            (3, "应改户", "maybe", "应为 是 或 否"),
            (3, "村代码", "330102101299", "区划代码不存在(请先导入区划)"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("rows", "expected"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES]
)
def test_bad_rows_are_reported_and_nothing_written(
    tmp_path: Path,
    loaded: Engine,
    rows: list[dict[str, Any]],
    expected: list[tuple[int, str, Any, str]],
) -> None:
    counts = all_counts(loaded)
    with pytest.raises(LedgerError) as caught:
        import_rows(loaded, tmp_path, "households", rows)
    found = sorted((p.row, p.column, p.value, p.reason) for p in caught.value.problems)
    assert found == sorted(expected)
    for p in caught.value.problems:
        assert (p.file, p.sheet) == ("households.xlsx", "农户台账")
        assert f"第{p.row}行 列「{p.column}」" in str(caught.value)
    assert all_counts(loaded) == counts


def test_missing_required_column_names_the_header_row(tmp_path: Path, loaded: Engine) -> None:
    county = loaded
    kind = get_kind("toilets")
    headers = ["户编码", "厕所类型", "使用状况"]  # 粪污去向 left out
    path = write_ledger(tmp_path / "t.xlsx", kind.label, SAMPLES["toilets"], headers=headers)
    counts = all_counts(county)
    with pytest.raises(LedgerError) as caught:
        import_ledger(county, kind, path, actor=OPERATOR)
    ((row, column, reason),) = [(p.row, p.column, p.reason) for p in caught.value.problems]
    assert (row, column, reason) == (1, "粪污去向", "缺少必填列")
    assert all_counts(county) == counts


def test_references_that_do_not_resolve(tmp_path: Path, loaded: Engine) -> None:
    county = loaded
    rows = [
        {
            "户编码": "3301021012019999",
            "厕所类型": "三格化粪池式",
            "使用状况": "正常使用",
            "粪污去向": "不明",
        },
        {"户编码": H1, "厕所类型": "三格", "使用状况": "正常使用", "粪污去向": "不明"},
    ]
    with pytest.raises(LedgerError) as caught:
        import_rows(county, tmp_path, "toilets", rows)
    found = [(p.row, p.column, p.value) for p in caught.value.problems]
    assert found == [(2, "户编码", "3301021012019999"), (3, "厕所类型", "三格")]
    assert "找不到该农户(户编码 3301021012019999)" in caught.value.problems[0].reason
    assert "可选: 三格化粪池式、" in caught.value.problems[1].reason


def test_chain_link_stage_rules(tmp_path: Path, loaded: Engine) -> None:
    county = loaded
    rows = [
        {"环节起点": "村", "村代码": V1},  # no collection point
        {"环节起点": "处理设施", "处理设施所属单位代码": COUNTY, "处理设施名称": "县焚烧厂"},
        {
            "环节起点": "收集点",
            "收集点所在村代码": V1,
            "收集点名称": "村口收集房",
            "转运站名称": "镇中转站",
        },
    ]
    with pytest.raises(LedgerError) as caught:
        import_rows(county, tmp_path, "chain_links", rows)
    found = [(p.row, p.column, p.reason) for p in caught.value.problems]
    assert (2, "收集点名称", "环节起点为「村」时必须填写") in found
    assert (3, "环节起点", "处理设施是链条终点,环节起点只能是 村、收集点 或 转运站") in found
    assert (4, "转运站所在乡镇代码", "须与「转运站名称」一起填写") in found
    assert len(found) == 3


def test_village_tonnage_must_be_estimated(tmp_path: Path, loaded: Engine) -> None:
    county = loaded
    rows = [dict(SAMPLES["tonnage"][1], 计量方式="称重")]
    with pytest.raises(LedgerError) as caught:
        import_rows(county, tmp_path, "tonnage", rows)
    ((row, column, value),) = [(p.row, p.column, p.value) for p in caught.value.problems]
    assert (row, column, value) == (2, "计量方式", "称重")


def test_scope_refuses_other_villages(tmp_path: Path, county: Engine) -> None:
    cadre = Actor(username="cadre", role=Role.VILLAGE_CADRE, unit_code=V1)
    rows = SAMPLES["households"]
    with pytest.raises(LedgerError) as caught:
        import_rows(county, tmp_path, "households", rows, actor=cadre)
    ((row, column, value),) = [(p.row, p.column, p.value) for p in caught.value.problems]
    assert (row, column, value) == (3, "村代码", V2)
    result = import_rows(county, tmp_path, "households", rows[:1], actor=cadre)
    assert result.created == 1


def test_a_file_cannot_take_over_another_units_record_by_its_key(
    tmp_path: Path, county: Engine
) -> None:
    """The file names the cadre's own village, but the key is a household of another village:
    refused (the stored record's unit is checked too), nothing written; their own one updates."""
    import_rows(county, tmp_path, "households", SAMPLES["households"])
    before = all_counts(county)
    with Session(county) as session:
        other = session.execute(select(Household).where(Household.code == H2)).scalar_one()
    cadre = Actor(username="cadre", role=Role.VILLAGE_CADRE, unit_code=V1)
    takeover = [dict(SAMPLES["households"][1], 村代码=V1, 户主姓名="被改名")]
    with pytest.raises(LedgerError) as caught:
        import_rows(county, tmp_path, "households", takeover, actor=cadre)
    ((row, column, value, reason),) = [
        (p.row, p.column, p.value, p.reason) for p in caught.value.problems
    ]
    assert (row, column, value) == (2, "户编码", H2)
    assert "无权修改的单位" in reason
    with pytest.raises(LedgerError):  # a dry run answers the same
        import_rows(county, tmp_path, "households", takeover, actor=cadre, dry_run=True)
    with Session(county) as session:
        after = session.execute(select(Household).where(Household.code == H2)).scalar_one()
    assert (after.village_code, after.householder) == (V2, other.householder)
    assert all_counts(county) == before
    own = [dict(SAMPLES["households"][0], 户主姓名="张三丰")]
    assert import_rows(county, tmp_path, "households", own, actor=cadre).updated == 1


# --- reading real-world sheets ----------------------------------------------------------------


def test_title_rows_aliases_numeric_codes_and_excel_dates(tmp_path: Path, county: Engine) -> None:
    """A title above the header, header aliases, codes typed as numbers, real Excel dates."""
    load_up_to(county, tmp_path, "toilets")
    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = "我的改厕表"
    ws.append(["某村2024年改厕台账"])
    ws.append([])
    ws.append(["户号", "厕所类型*", " 使用状况 ", "粪污去向(必填)", "验收日期", "备用列"])
    ws.append(
        [
            int(H1),
            "三格化粪池式",
            "正常使用",
            "就地处理(化粪池/沼气池)",
            datetime(2021, 10, 15),
            "x",
        ]
    )
    ws.append([None, None, None, None, None, None])
    ws.append([int(H2), "双瓮漏斗式", "闲置", "不明", None, None])
    path = tmp_path / "real.xlsx"
    workbook.save(path)
    result = import_ledger(county, get_kind("toilets"), path, actor=OPERATOR)
    assert (result.created, result.rows, result.sheet) == (2, 2, "我的改厕表")
    assert result.warnings == ["忽略了不认识的列「备用列」"]
    row = {"户主": "x", "户号": H1, "村代码": V1, "人口数": "n"}
    path = tmp_path / "h.xlsx"
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(["标题"])
    sheet.append(list(row))
    sheet.append(list(row.values()))
    wb.save(path)
    with pytest.raises(LedgerError) as caught:
        import_ledger(county, get_kind("households"), path, actor=OPERATOR)
    ((row, column),) = [(p.row, p.column) for p in caught.value.problems]
    assert (row, column) == (3, "人口数")  # the row number Excel shows


def test_full_width_codes_are_stored_as_ascii(tmp_path: Path, county: Engine) -> None:
    rows = [
        {
            "户编码": "３３０１０２１０１２０１０００１",
            "村代码": "３３０１０２１０１２０１",
            "自然村代码": "３３０１０２１０１２０１００１",
            "身份证号": "１１０１０５１９４９１２３１００２Ｘ",
        }
    ]
    assert import_rows(county, tmp_path, "households", rows).created == 1
    with Session(county) as s:
        household = s.scalars(select(Household)).one()
    assert (household.code, household.village_code, household.natural_village_code) == (
        "3301021012010001",
        "330102101201",
        "330102101201001",
    )
    assert household.id_number == "11010519491231002X"
    # The same household typed in ASCII is the same row, not a second one.
    again = import_rows(county, tmp_path, "households", [{"户编码": H1, "村代码": V1}])
    assert (again.created, again.unchanged) == (0, 1)
    assert count(county, Household) == 1
    toilets = [
        {
            "户编码": "３３０１０２１０１２０１０００１",
            "厕所类型": "三格化粪池式",
            "使用状况": "正常使用",
            "粪污去向": "不明",
        }
    ]
    assert import_rows(county, tmp_path, "toilets", toilets).created == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "空文件,不是 Excel 文件"),
        ("户编码,村代码\n3301021012010001,330102101201\n".encode(), "不是有效的 .xlsx 文件"),
    ],
    ids=["empty", "csv-text"],
)
def test_a_broken_xlsx_is_a_file_problem(
    tmp_path: Path,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    reason: str,
) -> None:
    from typer.testing import CliRunner

    from rural.cli import app

    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    add_units(engine)
    counts = all_counts(engine)
    path = tmp_path / "农户.xlsx"
    path.write_bytes(content)
    with pytest.raises(LedgerError) as caught:
        import_ledger(engine, get_kind("households"), path, actor=OPERATOR)
    ((file, row, problem),) = [(p.file, p.row, p.reason) for p in caught.value.problems]
    assert (file, row) == ("农户.xlsx", 0)
    assert problem.startswith(reason)
    assert "另存为 .xlsx" in problem

    monkeypatch.setenv("RURAL_DATABASE_URL", sqlite_url)
    result = CliRunner().invoke(app, ["import", "ledger", "households", str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    output = " ".join(result.output.split())  # the console wraps long lines
    assert "农户.xlsx" in output
    assert reason in output
    assert "未导入任何数据" in output
    assert all_counts(engine) == counts
    engine.dispose()


def test_long_values_are_shortened_in_messages(tmp_path: Path, loaded: Engine) -> None:
    long_address = "长" * 32_767  # the most text an Excel cell holds
    rows = _households(地址=long_address)
    with pytest.raises(LedgerError) as caught:
        import_rows(loaded, tmp_path, "households", rows)
    (problem,) = caught.value.problems
    assert problem.value == long_address  # the problem keeps the value as it was
    shown = str(problem)
    assert "值 '" + "长" * 58 + "…(共 32767 字): 长度 32767 超过上限 200 个字" in shown
    assert len(shown) < 150
    assert len(str(caught.value)) < 250


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("短值", "值 '短值': "),
        ("x" * 58, "值 '" + "x" * 58 + "': "),  # 60 characters with the quotes: kept whole
        ("x" * 59, "值 '" + "x" * 58 + "…(共 59 字): "),
        (12345, "值 12345: "),
    ],
)
def test_row_problem_shows_at_most_about_sixty_characters(value: Any, shown: str) -> None:
    from rural.ledgers.problems import RowProblem

    problem = RowProblem("f.xlsx", "农户台账", 3, "地址", value, "原因")
    assert shown in str(problem)


def test_not_an_xlsx_file(tmp_path: Path, loaded: Engine) -> None:
    county = loaded
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(LedgerError, match=r"另存为 \.xlsx"):
        import_ledger(county, get_kind("households"), path, actor=OPERATOR)


@pytest.mark.parametrize(
    ("toilet_type", "condition", "destination", "expected"),
    [
        ("three_compartment", "in_use", "onsite_tank", "harmless"),
        ("three_compartment", "unused", "onsite_tank", "harmless"),
        ("three_compartment", "in_use", "unknown", "sanitary"),
        ("three_compartment", "leaking", "onsite_tank", "non_sanitary"),
        ("flush_other", "in_use", "untreated_discharge", "non_sanitary"),
        ("flush_other", "in_use", "onsite_tank", "sanitary"),
        ("deep_pit_frostproof", "in_use", "onsite_tank", "sanitary"),
        ("single_pit", "in_use", "onsite_tank", "non_sanitary"),
    ],
)
def test_toilet_class_rule(
    toilet_type: str, condition: str, destination: str, expected: str
) -> None:
    from rural.enums import ExcretaDestination

    result = classify_toilet(
        ToiletType(toilet_type), ToiletCondition(condition), ExcretaDestination(destination)
    )
    assert result.value == expected


# --- size: a few thousand rows ------------------------------------------------------------------


def _many_households(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        village = V1 if i % 2 else V2
        yield {
            "户编码": f"{village}{i:04d}",
            "村代码": village,
            "户主姓名": f"户主{i}",
            "人口数": i % 6 + 1,
            "经度": 120.0 + i * 1e-5,
            "纬度": 30.0 + i * 1e-5,
        }


def test_three_thousand_rows_then_a_few_changes(tmp_path: Path, county: Engine) -> None:
    rows = list(_many_households(3000))
    first = import_rows(county, tmp_path, "households", rows)
    assert (first.created, first.rows) == (3000, 3000)
    rows[10]["人口数"] = 99
    rows[2000]["经度"] = 121.5
    second = import_rows(county, tmp_path, "households", rows)
    assert (second.created, second.updated, second.unchanged) == (0, 2, 2998)
    with Session(county) as s:
        moved = s.scalars(select(Household).where(Household.code == rows[2000]["户编码"])).one()
        assert moved.geom.x == 121.5
        assert moved.minx == 121.5  # the bounding box follows the geometry
        assert moved.version == 2


def test_dry_run_counts_but_writes_nothing(tmp_path: Path, loaded: Engine) -> None:
    counts = all_counts(loaded)
    rows = [dict(SAMPLES["households"][0], 人口数=9), {"户编码": "3301021012010077", "村代码": V1}]
    result = import_rows(loaded, tmp_path, "households", rows, dry_run=True)
    assert (result.created, result.updated) == (1, 1)
    assert all_counts(loaded) == counts


def test_every_kind_on_sqlite_and_postgis(tmp_path: Path, any_engine: Engine) -> None:
    """The same imports, re-imports and an update on both databases."""
    add_units(any_engine)
    created = {
        name: import_rows(any_engine, tmp_path, name, rows).created
        for name, rows in SAMPLES.items()
    }
    assert created == {name: len(rows) for name, rows in SAMPLES.items()}
    counts = all_counts(any_engine)
    for name, rows in SAMPLES.items():
        assert import_rows(any_engine, tmp_path, name, rows).changed == 0, name
    assert all_counts(any_engine) == counts
    rows = [dict(SAMPLES["sewage_facilities"][0], 状态="停运", 经度=120.2)]
    result = import_rows(any_engine, tmp_path, "sewage_facilities", rows)
    assert (result.updated, result.history_rows) == (1, 1)
    with Session(any_engine) as s:
        facility = s.scalars(select(SewageFacility)).one()
        assert (facility.status, facility.version, facility.minx) == (
            FacilityStatus.STOPPED,
            2,
            120.2,
        )
        assert facility.geom is not None
        assert facility.geom.equals_exact(shapely.Point(120.2, 30.204), 0)


def test_unknown_garbage_category(tmp_path: Path, loaded: Engine) -> None:
    rows = [
        dict(SAMPLES["collection_points"][0], 各类桶数="可回收物:2;塑料:1"),
        dict(
            SAMPLES["collection_points"][0],
            收集点名称="另一收集点",
            各类桶数="可回收物:2;recyclable:1",
        ),
    ]
    with pytest.raises(LedgerError) as caught:
        import_rows(loaded, tmp_path, "collection_points", rows)
    found = [(p.row, p.column, p.reason) for p in caught.value.problems]
    assert found == [
        (2, "各类桶数", "「塑料」不是垃圾类别(可选: 可回收物、有害垃圾、易腐垃圾、其他垃圾)"),
        (3, "各类桶数", "「recyclable」与另一项是同一类别"),
    ]


def test_formulas_without_a_computed_value_are_refused(tmp_path: Path, county: Engine) -> None:
    """A file written by a program keeps formulas but no results: those cells would import as
    empty, so every one is named; the same file with the results Excel stores imports."""
    kind = get_kind("households")
    rows = [
        dict(SAMPLES["households"][0], 户主姓名='=CONCAT("张","三")', 人口数="=1+3"),
        dict(SAMPLES["households"][1], 人口数="=2*2"),
    ]
    path = write_ledger(tmp_path / "formulas.xlsx", kind.label, rows)
    before = all_counts(county)
    with pytest.raises(LedgerError) as caught:
        import_ledger(county, kind, path, actor=OPERATOR)
    found = [(p.row, p.column, p.value) for p in caught.value.problems]
    assert found == [
        (2, "户主姓名", '=CONCAT("张","三")'),
        (2, "人口数", "=1+3"),
        (3, "人口数", "=2*2"),
    ]
    assert all("公式没有计算结果" in p.reason for p in caught.value.problems)
    assert all_counts(county) == before
    # What Excel saves: each formula with its cached result <v>.
    saved = tmp_path / "saved.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(saved, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                text = data.decode()
                for formula, value, kind_attr in (
                    ('CONCAT("张","三")', "张三", ' t="str"'),
                    ("1+3", "4", ""),
                    ("2*2", "4", ""),
                ):
                    text = re.sub(
                        rf'<c r="(\w+)"><f>{re.escape(formula)}</f><v ?/>',
                        rf'<c r="\1"{kind_attr}><f>{formula}</f><v>{value}</v>',
                        text,
                    )
                data = text.encode()
            target.writestr(info, data)
    result = import_ledger(county, kind, saved, actor=OPERATOR)
    assert result.created == 2
    with Session(county) as session:
        first = session.execute(select(Household).where(Household.code == H1)).scalar_one()
    assert (first.householder, first.members) == ("张三", 4)


@pytest.mark.parametrize(
    ("cell", "expected_utc"),
    [
        # serial 45292 is 2024-01-01; 45422 is 130 days later, 2024-05-10 (31+29+31+30 = 121
        # days to 1 May, +9). 45422.5 = 12:00 Beijing time = 04:00 UTC
        (45422.5, datetime(2024, 5, 10, 4, 0, tzinfo=UTC)),
        (45422, datetime(2024, 5, 9, 16, 0, tzinfo=UTC)),  # midnight Beijing time
        ("2024-05-09 12:00", datetime(2024, 5, 9, 4, 0, tzinfo=UTC)),
    ],
)
def test_a_date_time_cell_may_be_an_excel_serial(cell: object, expected_utc: datetime) -> None:
    from rural.ledgers.parse import parse_cell
    from rural.ledgers.spec import Column, ColumnType

    column = Column("报修时间", "reported_at", ColumnType.DATETIME)
    assert parse_cell(column, cell) == expected_utc


def test_a_date_time_serial_out_of_range_is_refused() -> None:
    from rural.ledgers.parse import CellError, parse_cell
    from rural.ledgers.spec import Column, ColumnType

    with pytest.raises(CellError, match="应为日期时间"):
        parse_cell(Column("报修时间", "reported_at", ColumnType.DATETIME), 12.5)
