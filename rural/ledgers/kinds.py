"""Every ledger kind (台账) the county imports, as data: headers, types, references, natural keys.

Each kind lists its columns in the order of its template. References name other objects by
their natural key: a household by its 户编码, a collection point or sewage facility by its
village code and name, a transfer station by its town code and name, a treatment facility by
its unit code and name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rural.enums import (
    ChainNodeKind,
    CollectionPointKind,
    CourtyardLevel,
    DischargeClass,
    ExcretaDestination,
    FacilityStatus,
    SewageMode,
    ToiletClass,
    ToiletCondition,
    ToiletType,
    TonnageFate,
    TonnageMethod,
    TreatmentKind,
    UnitLevel,
    WaterClass,
)
from rural.ledgers.spec import Column, LedgerKind, Ref, Target
from rural.ledgers.spec import ColumnType as T
from rural.models import (
    ChainLink,
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
    TonnageRecord,
    TransferStation,
    TreatmentFacility,
)
from rural.permissions import Domain

VILLAGE = (UnitLevel.VILLAGE,)
TOWN = (UnitLevel.TOWN,)

# --- value checks -------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")
_PHONE_RE = re.compile(r"^[0-9\-+ ]{7,20}$")


def check_id_number(value: Any) -> str | None:
    """GB 11643: 18 characters, the last a check digit (0-9 or X)."""
    text = str(value).upper()
    if not _ID_RE.match(text):
        return "身份证号应为18位(最后一位可为X)"
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != text[17]:
        return "身份证号校验位不正确"
    return None


def check_counts(value: Any) -> str | None:
    if isinstance(value, dict) and all(isinstance(v, int) for v in value.values()):
        return None
    return "桶数应为整数"


def check_phone(value: Any) -> str | None:
    return None if _PHONE_RE.match(str(value)) else "电话号码只能含数字、空格、+ 和 -(7-20位)"


# --- derived fields -------------------------------------------------------------------------


def classify_toilet(
    toilet_type: ToiletType, condition: ToiletCondition, destination: ExcretaDestination
) -> ToiletClass:
    """The class from type, condition and where the excreta goes: the rule as data in
    ``rural/rules/toilet_class.toml`` (DOMAIN.md, 厕所革命)."""
    from rural.rules_loader import load_toilet_class

    return load_toilet_class().classify(toilet_type, condition, destination)


def _derive_toilet_class(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "toilet_class": classify_toilet(
            row["toilet_type"], row["condition"], row["excreta_destination"]
        )
    }


# --- reference targets --------------------------------------------------------------------

HOUSEHOLD = Target("household", "农户", Household, ("code",), "village_code")
COLLECTION_POINT = Target(
    "collection_point", "垃圾收集点", CollectionPoint, ("village_code", "name"), "village_code"
)
TRANSFER_STATION = Target(
    "transfer_station", "转运站", TransferStation, ("town_code", "name"), "town_code"
)
TREATMENT_FACILITY = Target(
    "treatment_facility", "处理设施", TreatmentFacility, ("unit_code", "name"), "unit_code"
)
SEWAGE_FACILITY = Target(
    "sewage_facility", "污水处理设施", SewageFacility, ("village_code", "name"), "village_code"
)

# Reference columns shared by several kinds.
HOUSEHOLD_CODE = Column(
    "户编码",
    "_household_code",
    required=True,
    help="农户台账中的户编码(村代码+户序号)",
    example="331122101201001",
    aliases=("户号", "农户编码"),
)
HOUSEHOLD_REF = Ref("household_id", HOUSEHOLD, ("_household_code",))


def _point_columns(*, required: bool) -> tuple[Column, Column]:
    return (
        Column(
            "收集点所在村代码",
            "_point_village",
            T.UNIT_CODE,
            required=required,
            levels=VILLAGE,
            help="垃圾收集点所在村的12位代码",
            example="331122101201",
        ),
        Column(
            "收集点名称",
            "_point_name",
            required=required,
            help="与垃圾收集点台账中的名称一致",
            example="村口分类收集房",
        ),
    )


def _station_columns(*, required: bool) -> tuple[Column, Column]:
    return (
        Column(
            "转运站所在乡镇代码",
            "_station_town",
            T.UNIT_CODE,
            required=required,
            levels=TOWN,
            help="转运站所在乡镇的12位代码",
            example="331122101000",
        ),
        Column(
            "转运站名称",
            "_station_name",
            required=required,
            help="与转运站台账中的名称一致",
            example="某镇垃圾中转站",
        ),
    )


def _facility_columns(*, required: bool) -> tuple[Column, Column]:
    return (
        Column(
            "处理设施所属单位代码",
            "_facility_unit",
            T.UNIT_CODE,
            required=required,
            help="处理设施所属单位(通常为县)的12位代码",
            example="331122000000",
        ),
        Column(
            "处理设施名称",
            "_facility_name",
            required=required,
            help="与处理设施台账中的名称一致",
            example="县垃圾焚烧发电厂",
        ),
    )


def _sewage_columns() -> tuple[Column, Column]:
    return (
        Column(
            "设施所在村代码",
            "_sewage_village",
            T.UNIT_CODE,
            required=True,
            levels=VILLAGE,
            help="污水处理设施所在村的12位代码",
            example="331122101201",
        ),
        Column(
            "设施名称",
            "_sewage_name",
            required=True,
            help="与污水处理设施台账中的名称一致",
            example="某村集中式污水处理站",
        ),
    )


POINT_REF = Ref("collection_point_id", COLLECTION_POINT, ("_point_village", "_point_name"))
STATION_REF = Ref("transfer_station_id", TRANSFER_STATION, ("_station_town", "_station_name"))
FACILITY_REF = Ref(
    "treatment_facility_id", TREATMENT_FACILITY, ("_facility_unit", "_facility_name")
)
SEWAGE_REF = Ref("facility_id", SEWAGE_FACILITY, ("_sewage_village", "_sewage_name"))

VILLAGE_CODE = Column(
    "村代码",
    "village_code",
    T.UNIT_CODE,
    required=True,
    levels=VILLAGE,
    help="村(居)委会的12位统计用区划代码",
    example="331122101201",
    aliases=("村级代码", "行政村代码"),
)
CATEGORY_HELP = "按本县垃圾分类方案填写类别名称(如 可回收物、有害垃圾、易腐垃圾、其他垃圾)"
CATEGORY = Column(
    "垃圾类别",
    "category",
    help=CATEGORY_HELP + ";留空表示混合(全部类别)",
    example="其他垃圾",
    max_length=30,
    categories=True,
)
STATUS_HELP = "设施当前状态;状态变化时写入状态历史,并须符合状态流转规则"


# --- cross-column rules ---------------------------------------------------------------------

_STAGE_REFS = {
    ChainNodeKind.VILLAGE: ("village_code", "collection_point_id"),
    ChainNodeKind.COLLECTION_POINT: ("collection_point_id", "transfer_station_id"),
    ChainNodeKind.TRANSFER_STATION: ("transfer_station_id", "treatment_facility_id"),
}
_REF_HEADERS = {
    "village_code": "村代码",
    "collection_point_id": "收集点名称",
    "transfer_station_id": "转运站名称",
    "treatment_facility_id": "处理设施名称",
}


def _check_chain_link(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    kind = row["source_kind"]
    needed = _STAGE_REFS.get(kind)
    if needed is None:
        return [("环节起点", "处理设施是链条终点,环节起点只能是 村、收集点 或 转运站")]
    problems = [
        (_REF_HEADERS[f], f"环节起点为「{kind.label}」时必须填写")
        for f in needed
        if row.get(f) is None
    ]
    problems += [
        (_REF_HEADERS[f], f"环节起点为「{kind.label}」时不应填写")
        for f in _REF_HEADERS
        if f not in needed and row.get(f) is not None
    ]
    problems += _check_period(row, "valid_from", "valid_to", "终止日期")
    return problems


_NODE_REF = {
    ChainNodeKind.VILLAGE: "village_code",
    ChainNodeKind.COLLECTION_POINT: "collection_point_id",
    ChainNodeKind.TRANSFER_STATION: "transfer_station_id",
    ChainNodeKind.TREATMENT_FACILITY: "treatment_facility_id",
}


def _check_tonnage(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    kind = row["node_kind"]
    wanted = _NODE_REF[kind]
    problems = (
        [] if row.get(wanted) is not None else [(_REF_HEADERS[wanted], "环节对应的对象必须填写")]
    )
    problems += [
        (_REF_HEADERS[f], f"环节为「{kind.label}」时不应填写")
        for f in _REF_HEADERS
        if f != wanted and row.get(f) is not None
    ]
    if kind == ChainNodeKind.VILLAGE and row.get("method") == TonnageMethod.MEASURED:
        problems.append(("计量方式", "村级垃圾量只能是估算(村里没有称重),请填「估算」"))
    problems += _check_period(row, "period_start", "period_end", "截止日期")
    return problems


def _check_period(
    row: Mapping[str, Any], start: str, end: str, end_header: str
) -> list[tuple[str, str]]:
    a, b = row.get(start), row.get(end)
    if a is not None and b is not None and b < a:
        return [(end_header, f"不能早于开始日期 {a.isoformat()}")]
    return []


def _check_connection(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    return _check_period(row, "connected_on", "disconnected_on", "断开日期")


def _check_repair(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    return _check_period(row, "reported_at", "fixed_at", "修复时间")


# --- the kinds ------------------------------------------------------------------------------

KINDS: tuple[LedgerKind, ...] = (
    LedgerKind(
        name="households",
        label="农户台账",
        model=Household,
        object_type="household",
        domain=Domain.HOUSEHOLDS,
        description="每户一行:户编码、所在村、户主与联系方式(个人信息,按角色脱敏)、常住/户籍/应改户。",
        columns=(
            Column(
                "户编码",
                "code",
                required=True,
                help="本县唯一的户编码(最长20位),一般为村代码+户序号",
                example="331122101201001",
                max_length=20,
                aliases=("户号", "农户编码"),
            ),
            VILLAGE_CODE,
            Column(
                "自然村代码",
                "natural_village_code",
                T.UNIT_CODE,
                levels=(UnitLevel.NATURAL_VILLAGE,),
                help="15位自然村代码(村代码+3位序号),可不填",
                example="331122101201001",
            ),
            Column(
                "户主姓名",
                "householder",
                help="个人信息",
                example="张三",
                max_length=50,
                aliases=("户主",),
            ),
            Column(
                "身份证号",
                "id_number",
                help="18位居民身份证号(个人信息)",
                example="330102199001011234",
                check=check_id_number,
                aliases=("户主身份证号",),
            ),
            Column(
                "联系电话",
                "phone",
                help="个人信息",
                example="13800001234",
                check=check_phone,
                max_length=20,
                aliases=("电话", "手机号"),
            ),
            Column("地址", "address", help="门牌地址", example="某村3组12号", max_length=200),
            Column("人口数", "members", T.INTEGER, help="户籍人口", example="4", minimum=0),
            Column(
                "常住户", "resident", T.BOOLEAN, help="是/否;留空为是", example="是", default=True
            ),
            Column(
                "户籍户", "registered", T.BOOLEAN, help="是/否;留空为是", example="是", default=True
            ),
            Column(
                "应改户",
                "due_for_renovation",
                T.BOOLEAN,
                help="列入改厕任务的户;是/否,留空为否",
                example="否",
                default=False,
            ),
        ),
        key=("code",),
        scope=("village_code",),
        point=True,
    ),
    LedgerKind(
        name="toilets",
        label="改厕台账",
        model=HouseholdToilet,
        object_type="household_toilet",
        domain=Domain.SANITATION,
        description="每户一行(户厕现状):类型、使用状况、粪污去向,以及改厕年度、批次、验收、补助、清掏。"
        "厕所类别(无害化/卫生/非卫生)由类型、状况和去向自动判定;变化写入户厕状态历史。",
        columns=(
            HOUSEHOLD_CODE,
            Column(
                "厕所类型",
                "toilet_type",
                T.ENUM,
                required=True,
                enum=ToiletType,
                example="三格化粪池式",
            ),
            Column(
                "使用状况",
                "condition",
                T.ENUM,
                required=True,
                enum=ToiletCondition,
                help="只有正常使用的厕所计入普及率",
                example="正常使用",
            ),
            Column(
                "粪污去向",
                "excreta_destination",
                T.ENUM,
                required=True,
                enum=ExcretaDestination,
                example="就地处理(化粪池/沼气池)",
            ),
            Column("旧厕已拆除", "old_toilet_demolished", T.BOOLEAN, help="是/否", example="是"),
            Column("改厕年度", "build_year", T.INTEGER, example="2021", minimum=1980, maximum=2100),
            Column("批次", "batch", example="2021年第二批", max_length=50),
            Column("施工单位", "builder", example="某建筑公司", max_length=100),
            Column("验收日期", "accepted_on", T.DATE, example="2021-10-15"),
            Column("验收人", "accepted_by", example="李四", max_length=50),
            Column("补助金额(元)", "subsidy_yuan", T.NUMBER, example="1200", minimum=0),
            Column("补助来源", "subsidy_source", example="中央财政", max_length=100),
            Column("最近清掏日期", "last_emptied_on", T.DATE, example="2024-03-02"),
        ),
        key=("household_id",),
        scope=("household_id",),
        refs=(HOUSEHOLD_REF,),
        derive=_derive_toilet_class,
        history="toilet_state",
    ),
    LedgerKind(
        name="public_toilets",
        label="农村公厕台账",
        model=PublicToilet,
        object_type="public_toilet",
        domain=Domain.SANITATION,
        description="每座农村公厕一行;同村内以名称区分。",
        columns=(
            VILLAGE_CODE,
            Column("公厕名称", "name", required=True, example="村委会旁公厕", max_length=100),
            Column(
                "厕所类型",
                "toilet_type",
                T.ENUM,
                required=True,
                enum=ToiletType,
                example="完整上下水道水冲式",
            ),
            Column(
                "使用状况",
                "condition",
                T.ENUM,
                required=True,
                enum=ToiletCondition,
                help=STATUS_HELP,
                example="正常使用",
            ),
            Column("保洁员", "cleaner", example="王五", max_length=50),
            Column("启用日期", "opened_on", T.DATE, example="2020-06-01"),
        ),
        key=("village_code", "name"),
        scope=("village_code",),
        point=True,
        history="status_change",
        status_field="condition",
        lifecycle="toilet_condition",
    ),
    LedgerKind(
        name="collection_points",
        label="垃圾收集点台账",
        model=CollectionPoint,
        object_type="collection_point",
        domain=Domain.GARBAGE,
        description="每个垃圾收集点(收集点/分类收集房/桶站)一行;同村内以名称区分。",
        columns=(
            VILLAGE_CODE,
            Column("收集点名称", "name", required=True, example="村口分类收集房", max_length=100),
            Column(
                "类型",
                "kind",
                T.ENUM,
                required=True,
                enum=CollectionPointKind,
                example="分类收集房",
            ),
            Column(
                "各类桶数",
                "bins",
                T.MAPPING,
                help="每类垃圾的桶数;" + CATEGORY_HELP,
                example="可回收物:2;有害垃圾:1;易腐垃圾:2;其他垃圾:3",
                default={},
                check=check_counts,
                categories=True,
            ),
            Column("每周清运次数", "frequency_per_week", T.NUMBER, example="7", minimum=0),
            Column("保洁员", "cleaner", example="王五", max_length=50),
            Column(
                "状态",
                "status",
                T.ENUM,
                required=True,
                enum=FacilityStatus,
                help=STATUS_HELP,
                example="运行",
            ),
        ),
        key=("village_code", "name"),
        scope=("village_code",),
        point=True,
        history="status_change",
        status_field="status",
        lifecycle="facility",
    ),
    LedgerKind(
        name="transfer_stations",
        label="垃圾转运站台账",
        model=TransferStation,
        object_type="transfer_station",
        domain=Domain.GARBAGE,
        description="每座乡镇垃圾转运站一行;同乡镇内以名称区分。",
        columns=(
            Column(
                "乡镇代码",
                "town_code",
                T.UNIT_CODE,
                required=True,
                levels=TOWN,
                help="乡镇(街道)的12位统计用区划代码",
                example="331122101000",
            ),
            Column("转运站名称", "name", required=True, example="某镇垃圾中转站", max_length=100),
            Column(
                "设计能力(吨/日)",
                "capacity_tpd",
                T.NUMBER,
                required=True,
                example="50",
                minimum=0,
                aliases=("设计能力",),
            ),
            Column(
                "有地磅",
                "has_weighbridge",
                T.BOOLEAN,
                help="是/否;留空为是",
                example="是",
                default=True,
            ),
            Column("运营单位", "operator", example="某环境公司", max_length=100),
            Column(
                "状态",
                "status",
                T.ENUM,
                required=True,
                enum=FacilityStatus,
                help=STATUS_HELP,
                example="运行",
            ),
        ),
        key=("town_code", "name"),
        scope=("town_code",),
        point=True,
        history="status_change",
        status_field="status",
        lifecycle="facility",
    ),
    LedgerKind(
        name="treatment_facilities",
        label="垃圾处理设施台账",
        model=TreatmentFacility,
        object_type="treatment_facility",
        domain=Domain.GARBAGE,
        description="每座县级垃圾处理设施一行(焚烧、填埋、厨余处理、再生资源、有害垃圾处置)。",
        columns=(
            Column(
                "所属单位代码",
                "unit_code",
                T.UNIT_CODE,
                required=True,
                help="设施所属单位(通常为县)的12位代码",
                example="331122000000",
            ),
            Column("设施名称", "name", required=True, example="县垃圾焚烧发电厂", max_length=100),
            Column("类型", "kind", T.ENUM, required=True, enum=TreatmentKind, example="焚烧发电"),
            Column(
                "设计能力(吨/日)",
                "capacity_tpd",
                T.NUMBER,
                required=True,
                example="600",
                minimum=0,
                aliases=("设计能力",),
            ),
            Column(
                "接收类别",
                "accepted_categories",
                T.LIST,
                help="设施接收的垃圾类别;" + CATEGORY_HELP,
                example="其他垃圾、易腐垃圾",
                default=[],
                categories=True,
            ),
            Column(
                "达标",
                "compliant",
                T.BOOLEAN,
                help="是否符合污染控制标准;留空为是",
                example="是",
                default=True,
            ),
            Column(
                "状态",
                "status",
                T.ENUM,
                required=True,
                enum=FacilityStatus,
                help=STATUS_HELP,
                example="运行",
            ),
        ),
        key=("unit_code", "name"),
        scope=("unit_code",),
        point=True,
        history="status_change",
        status_field="status",
        lifecycle="facility",
    ),
    LedgerKind(
        name="chain_links",
        label="收运链接台账",
        model=ChainLink,
        object_type="chain_link",
        domain=Domain.GARBAGE,
        description="收运链条的每一段一行:村→收集点、收集点→转运站、转运站→处理设施。",
        columns=(
            Column(
                "环节起点",
                "source_kind",
                T.ENUM,
                required=True,
                enum=ChainNodeKind,
                help="村(村→收集点)、收集点(收集点→转运站)或 转运站(转运站→处理设施)",
                example="收集点",
            ),
            Column(
                "村代码",
                "village_code",
                T.UNIT_CODE,
                levels=VILLAGE,
                help="环节起点为村时填写",
                example="331122101201",
            ),
            *_point_columns(required=False),
            *_station_columns(required=False),
            *_facility_columns(required=False),
            CATEGORY,
            Column("起始日期", "valid_from", T.DATE, example="2023-01-01"),
            Column("终止日期", "valid_to", T.DATE, help="链接停用的日期;仍在使用则留空"),
        ),
        key=(
            "source_kind",
            "village_code",
            "collection_point_id",
            "transfer_station_id",
            "treatment_facility_id",
            "category",
            "valid_from",
        ),
        scope=("village_code", "collection_point_id", "transfer_station_id"),
        refs=(POINT_REF, STATION_REF, FACILITY_REF),
        row_check=_check_chain_link,
        notes=("按环节起点只填对应的两端,其余留空。",),
    ),
    LedgerKind(
        name="collection_logs",
        label="收运记录",
        model=CollectionLog,
        object_type="collection_log",
        domain=Domain.GARBAGE,
        description="每次清运一行:收集点、日期、车辆、车次、类别。",
        columns=(
            *_point_columns(required=True),
            *_station_columns(required=False),
            Column("收运日期", "collected_on", T.DATE, required=True, example="2024-05-01"),
            Column("车辆", "vehicle", help="车牌号", example="浙K12345", max_length=30),
            Column("车次", "trips", T.INTEGER, help="留空为1", example="1", minimum=0, default=1),
            CATEGORY,
            Column(
                "估算吨数",
                "estimated_tonnes",
                T.NUMBER,
                help="估算值,非称重",
                example="0.8",
                minimum=0,
            ),
            Column("记录人", "recorded_by", example="王五", max_length=50),
        ),
        key=("collection_point_id", "collected_on", "vehicle", "category"),
        scope=("collection_point_id",),
        refs=(POINT_REF, STATION_REF),
    ),
    LedgerKind(
        name="tonnage",
        label="垃圾吨位台账",
        model=TonnageRecord,
        object_type="tonnage_record",
        domain=Domain.GARBAGE,
        description="某环节一段时间内的垃圾量:转运站、处理设施为称重,村为估算。",
        columns=(
            Column(
                "环节",
                "node_kind",
                T.ENUM,
                required=True,
                enum=ChainNodeKind,
                help="村、收集点、转运站 或 处理设施;只填该环节对应的对象",
                example="转运站",
            ),
            Column(
                "村代码",
                "village_code",
                T.UNIT_CODE,
                levels=VILLAGE,
                help="环节为村时填写",
                example="331122101201",
            ),
            *_point_columns(required=False),
            *_station_columns(required=False),
            *_facility_columns(required=False),
            Column("起始日期", "period_start", T.DATE, required=True, example="2024-05-01"),
            Column("截止日期", "period_end", T.DATE, required=True, example="2024-05-31"),
            Column(
                "垃圾类别",
                "category",
                required=True,
                help=CATEGORY_HELP,
                example="其他垃圾",
                max_length=30,
                categories=True,
            ),
            Column("吨数", "tonnes", T.NUMBER, required=True, example="412.5", minimum=0),
            Column("计量方式", "method", T.ENUM, required=True, enum=TonnageMethod, example="称重"),
            Column(
                "去向", "fate", T.ENUM, enum=TonnageFate, help="处理设施填写", example="焚烧发电"
            ),
        ),
        key=(
            "node_kind",
            "village_code",
            "collection_point_id",
            "transfer_station_id",
            "treatment_facility_id",
            "period_start",
            "period_end",
            "category",
        ),
        scope=(
            "village_code",
            "collection_point_id",
            "transfer_station_id",
            "treatment_facility_id",
        ),
        refs=(POINT_REF, STATION_REF, FACILITY_REF),
        row_check=_check_tonnage,
    ),
    LedgerKind(
        name="sorting_inspections",
        label="垃圾分类入户抽查",
        model=SortingInspection,
        object_type="sorting_inspection",
        domain=Domain.GARBAGE,
        description="每户每次抽查一行:是否参与分类、分类是否正确。",
        columns=(
            HOUSEHOLD_CODE,
            Column("抽查日期", "inspected_on", T.DATE, required=True, example="2024-05-10"),
            Column("参与分类", "participated", T.BOOLEAN, required=True, example="是"),
            Column("分类正确", "correct", T.BOOLEAN, example="是"),
            Column("抽查人", "inspector", example="赵六", max_length=50),
        ),
        key=("household_id", "inspected_on"),
        scope=("household_id",),
        refs=(HOUSEHOLD_REF,),
    ),
    LedgerKind(
        name="sewage_facilities",
        label="污水处理设施台账",
        model=SewageFacility,
        object_type="sewage_facility",
        domain=Domain.SEWAGE,
        description="一设施一档案:每座设施一行;同村内以名称区分。",
        columns=(
            VILLAGE_CODE,
            Column(
                "设施名称", "name", required=True, example="某村集中式污水处理站", max_length=100
            ),
            Column("处理模式", "mode", T.ENUM, required=True, enum=SewageMode, example="集中式"),
            Column("处理工艺", "process", example="A/O+人工湿地", max_length=50),
            Column(
                "设计规模(立方米/日)",
                "design_capacity_m3d",
                T.NUMBER,
                example="50",
                minimum=0,
                aliases=("设计规模",),
            ),
            Column("受纳水体", "receiving_water", example="某溪", max_length=100),
            Column("水体类别", "water_class", T.ENUM, enum=WaterClass, example="III类"),
            Column("执行标准", "standard", example="DB33/973-2021", max_length=50),
            Column(
                "排放等级",
                "discharge_class",
                T.ENUM,
                enum=DischargeClass,
                help="留空则按水体类别规则确定",
                example="一级",
            ),
            Column("运维单位", "om_contractor", example="某水务公司", max_length=100),
            Column("年运维费用(元)", "om_cost_yuan", T.NUMBER, example="36000", minimum=0),
            Column("投运日期", "commissioned_on", T.DATE, example="2019-07-01"),
            Column(
                "状态",
                "status",
                T.ENUM,
                required=True,
                enum=FacilityStatus,
                help=STATUS_HELP,
                example="运行",
            ),
        ),
        key=("village_code", "name"),
        scope=("village_code",),
        point=True,
        history="status_change",
        status_field="status",
        lifecycle="facility",
    ),
    LedgerKind(
        name="sewage_connections",
        label="污水接户台账",
        model=SewageConnection,
        object_type="sewage_connection",
        domain=Domain.SEWAGE,
        description="每户接入一行:农户的生活污水接入哪座设施(或管网),自何日起。",
        columns=(
            HOUSEHOLD_CODE,
            *_sewage_columns(),
            Column("接入日期", "connected_on", T.DATE, required=True, example="2020-05-01"),
            Column("断开日期", "disconnected_on", T.DATE, help="仍接入则留空"),
        ),
        key=("household_id", "facility_id", "connected_on"),
        scope=("household_id",),
        refs=(HOUSEHOLD_REF, SEWAGE_REF),
        row_check=_check_connection,
    ),
    LedgerKind(
        name="sewage_inspections",
        label="污水设施巡检记录",
        model=SewageInspection,
        object_type="sewage_inspection",
        domain=Domain.SEWAGE,
        description="每座设施每次巡检一行:水泵、水表读数、出水观感。",
        columns=(
            *_sewage_columns(),
            Column("巡检日期", "inspected_on", T.DATE, required=True, example="2024-05-08"),
            Column("巡检人", "inspector", example="钱七", max_length=50),
            Column("水泵正常", "pump_ok", T.BOOLEAN, example="是"),
            Column("水表读数(立方米)", "meter_m3", T.NUMBER, example="10234.5", minimum=0),
            Column("出水观感", "effluent_look", example="清澈", max_length=50),
            Column("备注", "note", example=""),
        ),
        key=("facility_id", "inspected_on"),
        scope=("facility_id",),
        refs=(SEWAGE_REF,),
    ),
    LedgerKind(
        name="repair_requests",
        label="污水设施报修记录",
        model=RepairRequest,
        object_type="repair_request",
        domain=Domain.SEWAGE,
        description="每次报修一行:报修时间、故障、修复时间(北京时间)。",
        columns=(
            *_sewage_columns(),
            Column(
                "报修时间", "reported_at", T.DATETIME, required=True, example="2024-05-08 09:30"
            ),
            Column("报修人", "reported_by", example="钱七", max_length=50),
            Column("故障描述", "description", required=True, example="提升泵不启动"),
            Column(
                "修复时间", "fixed_at", T.DATETIME, help="未修复则留空", example="2024-05-09 16:00"
            ),
        ),
        key=("facility_id", "reported_at"),
        scope=("facility_id",),
        refs=(SEWAGE_REF,),
        row_check=_check_repair,
    ),
    LedgerKind(
        name="effluent_samples",
        label="出水水质检测",
        model=EffluentSample,
        object_type="effluent_sample",
        domain=Domain.SEWAGE,
        description="每座设施每次采样一行;未检测的指标留空。",
        columns=(
            *_sewage_columns(),
            Column("采样日期", "sampled_on", T.DATE, required=True, example="2024-05-08"),
            Column("检测单位", "lab", example="某检测公司", max_length=100),
            Column("pH", "ph", T.NUMBER, example="7.2", minimum=0, maximum=14),
            Column("化学需氧量(mg/L)", "cod", T.NUMBER, example="45", minimum=0, aliases=("COD",)),
            Column(
                "五日生化需氧量(mg/L)", "bod5", T.NUMBER, example="12", minimum=0, aliases=("BOD5",)
            ),
            Column("悬浮物(mg/L)", "ss", T.NUMBER, example="15", minimum=0, aliases=("SS",)),
            Column("氨氮(mg/L)", "nh3n", T.NUMBER, example="5.1", minimum=0, aliases=("氨氮",)),
            Column("总氮(mg/L)", "tn", T.NUMBER, example="14", minimum=0, aliases=("总氮",)),
            Column("总磷(mg/L)", "tp", T.NUMBER, example="0.9", minimum=0, aliases=("总磷",)),
            Column("粪大肠菌群(MPN/L)", "fecal_coliform", T.NUMBER, example="8000", minimum=0),
        ),
        key=("facility_id", "sampled_on"),
        scope=("facility_id",),
        refs=(SEWAGE_REF,),
    ),
    LedgerKind(
        name="courtyard_ratings",
        label="美丽庭院评定台账",
        model=CourtyardRating,
        object_type="courtyard_rating",
        domain=Domain.COURTYARD,
        description="每户每次评定一行:星级、评定层级、评定人、是否公示。",
        columns=(
            HOUSEHOLD_CODE,
            Column("评定日期", "rated_on", T.DATE, required=True, example="2024-04-20"),
            Column(
                "星级",
                "stars",
                T.INTEGER,
                required=True,
                help="1-5",
                example="4",
                minimum=1,
                maximum=5,
            ),
            Column(
                "评定层级", "level", T.ENUM, required=True, enum=CourtyardLevel, example="乡镇级"
            ),
            Column("评定人", "inspector", example="孙八", max_length=50),
            Column(
                "已公示", "published", T.BOOLEAN, help="是/否;留空为否", example="是", default=False
            ),
            Column(
                "分项得分",
                "item_scores",
                T.MAPPING,
                help="各项得分,如 居室美:18;环境美:20",
                example="居室美:18;环境美:20;绿化美:17;布局美:19;家风美:20",
            ),
            Column("备注", "note"),
        ),
        key=("household_id", "rated_on"),
        scope=("household_id",),
        refs=(HOUSEHOLD_REF,),
    ),
)

KINDS_BY_NAME: dict[str, LedgerKind] = {k.name: k for k in KINDS}
