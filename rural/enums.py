"""Every enumeration of the domain: English values in code, Chinese labels for people."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Self


class LabeledEnum(StrEnum):
    """A string enum whose members carry a Chinese label: ``Member = ("value", "标签")``."""

    label: str

    if not TYPE_CHECKING:  # members are declared as (value, label); lookups take the value

        def __new__(cls, value: str, label: str):
            obj = str.__new__(cls, value)
            obj._value_ = value
            obj.label = label
            return obj

    @classmethod
    def from_label(cls, label: str) -> Self:
        """The member whose Chinese label or value is ``label`` (ledgers use either)."""
        text = label.strip()
        for member in cls:
            if text in (member.label, member.value):
                return member
        choices = "、".join(m.label for m in cls)
        msg = f"{text!r} is not a valid {cls.__name__} (expected one of: {choices})"
        raise ValueError(msg)


class UnitLevel(LabeledEnum):
    PROVINCE = ("province", "省")
    CITY = ("city", "市")
    COUNTY = ("county", "县")
    TOWN = ("town", "乡镇")
    VILLAGE = ("village", "村")
    NATURAL_VILLAGE = ("natural_village", "自然村")


class UrbanRuralCode(LabeledEnum):
    """城乡分类代码 of the statistics bureau."""

    MAIN_URBAN = ("111", "主城区")
    URBAN_RURAL_FRINGE = ("112", "城乡结合区")
    TOWN_CENTRE = ("121", "镇中心区")
    TOWN_FRINGE = ("122", "镇乡结合区")
    SPECIAL_AREA = ("123", "特殊区域")
    TOWNSHIP_CENTRE = ("210", "乡中心区")
    VILLAGE = ("220", "村庄")


class Role(LabeledEnum):
    COUNTY_ADMIN = ("county_admin", "县级管理员")
    TOWNSHIP_OFFICIAL = ("township_official", "乡镇干部")
    VILLAGE_CADRE = ("village_cadre", "村干部")
    DEPARTMENT_STAFF = ("department_staff", "条线部门人员")
    FIELD_STAFF = ("field_staff", "一线人员")
    REVIEWER = ("reviewer", "评审/测评人员")
    VILLAGER = ("villager", "村民")


class Line(LabeledEnum):
    """条线: the department a user works for; each line owns part of the data."""

    AGRICULTURE = ("agriculture", "农业农村")
    HOUSING = ("housing", "住建")
    ECOLOGY = ("ecology", "生态环境")
    WOMEN = ("women", "妇联")
    CIVILIZATION = ("civilization", "文明办")


class ToiletType(LabeledEnum):
    THREE_COMPARTMENT = ("three_compartment", "三格化粪池式")
    DOUBLE_URN = ("double_urn", "双瓮漏斗式")
    BIOGAS = ("biogas", "三联通沼气池式")
    URINE_DIVERTING = ("urine_diverting", "粪尿分集式")
    DOUBLE_PIT = ("double_pit", "双坑交替式")
    FLUSH_SEWER = ("flush_sewer", "完整上下水道水冲式")
    CENTRAL_EMPTYING = ("central_emptying", "粪尿集中清运")
    DEEP_PIT_FROSTPROOF = ("deep_pit_frostproof", "深坑防冻式")
    LOFT = ("loft", "阁楼式")
    FLUSH_OTHER = ("flush_other", "其他水冲式")
    SINGLE_PIT = ("single_pit", "单坑旱厕")
    OPEN_PIT = ("open_pit", "露天粪坑")
    NONE = ("none", "无厕所")


class ToiletCondition(LabeledEnum):
    IN_USE = ("in_use", "正常使用")
    LEAKING = ("leaking", "损坏-渗漏")
    BLOCKED = ("blocked", "损坏-堵塞")
    FROZEN = ("frozen", "损坏-冻结")
    UNUSED = ("unused", "闲置")
    BUILDING = ("building", "在建")

    @property
    def is_broken(self) -> bool:
        return self in (ToiletCondition.LEAKING, ToiletCondition.BLOCKED, ToiletCondition.FROZEN)


class ExcretaDestination(LabeledEnum):
    """粪污去向."""

    ONSITE_TANK = ("onsite_tank", "就地处理(化粪池/沼气池)")
    SEWER_TREATED = ("sewer_treated", "纳管集中处理")
    CENTRAL_EMPTYING = ("central_emptying", "清运至处理设施")
    FIELD_AFTER_TREATMENT = ("field_after_treatment", "无害化后还田")
    UNTREATED_DISCHARGE = ("untreated_discharge", "直排未处理")
    UNKNOWN = ("unknown", "不明")


class ToiletClass(LabeledEnum):
    HARMLESS = ("harmless", "无害化卫生厕所")
    SANITARY = ("sanitary", "卫生厕所(非无害化)")
    NON_SANITARY = ("non_sanitary", "非卫生厕所")


class FacilityStatus(LabeledEnum):
    """State of every facility (collection points, stations, plants, sewage facilities)."""

    OPERATING = ("operating", "运行")
    FAULT = ("fault", "故障")
    STOPPED = ("stopped", "停运")
    BUILDING = ("building", "在建")
    DECOMMISSIONED = ("decommissioned", "报废")


class CollectionPointKind(LabeledEnum):
    POINT = ("point", "收集点")
    SORTING_HOUSE = ("sorting_house", "分类收集房")
    BIN_STATION = ("bin_station", "垃圾桶站")


class TreatmentKind(LabeledEnum):
    INCINERATION = ("incineration", "焚烧发电")
    LANDFILL = ("landfill", "卫生填埋")
    COMPOSTING = ("composting", "厨余/易腐垃圾处理")
    RECYCLING = ("recycling", "再生资源回收")
    HAZARDOUS = ("hazardous", "有害垃圾处置")


class ChainNodeKind(LabeledEnum):
    VILLAGE = ("village", "村")
    COLLECTION_POINT = ("collection_point", "收集点")
    TRANSFER_STATION = ("transfer_station", "转运站")
    TREATMENT_FACILITY = ("treatment_facility", "处理设施")


class TonnageMethod(LabeledEnum):
    MEASURED = ("measured", "称重")
    ESTIMATED = ("estimated", "估算")


class TonnageFate(LabeledEnum):
    """What became of a weighed amount at a facility (for resource-use rates)."""

    RECYCLED = ("recycled", "回收利用")
    COMPOSTED = ("composted", "堆肥/厌氧处理")
    INCINERATED_ENERGY = ("incinerated_energy", "焚烧发电")
    LANDFILLED = ("landfilled", "填埋")
    HAZARDOUS_DISPOSED = ("hazardous_disposed", "有害垃圾处置")
    TRANSFERRED = ("transferred", "转运")


class SewageMode(LabeledEnum):
    CENTRALIZED = ("centralized", "集中式")
    DECENTRALIZED = ("decentralized", "分散式")
    PIPED = ("piped", "纳管")


class WaterClass(LabeledEnum):
    """Receiving water class 受纳水体类别 (GB 3838) or a small water body."""

    II = ("II", "II类")
    III = ("III", "III类")
    IV = ("IV", "IV类")
    V = ("V", "V类")
    POND_DITCH = ("pond_ditch", "沟渠/池塘")
    NONE = ("none", "无(纳管)")


class DischargeClass(LabeledEnum):
    CLASS_1 = ("1", "一级")
    CLASS_1A = ("1A", "一级A")
    CLASS_1B = ("1B", "一级B")
    CLASS_2 = ("2", "二级")
    CLASS_3 = ("3", "三级")


class CourtyardLevel(LabeledEnum):
    """The level that awarded a courtyard rating."""

    VILLAGE = ("village", "村级")
    TOWN = ("town", "乡镇级")
    COUNTY = ("county", "县级")


class ProblemStatus(LabeledEnum):
    REGISTERED = ("registered", "登记")
    ASSIGNED = ("assigned", "交办")
    FIXING = ("fixing", "整改中")
    AWAITING_CHECK = ("awaiting_check", "待验收")
    CLOSED = ("closed", "销号")


class ProblemSource(LabeledEnum):
    UNANNOUNCED_VISIT = ("unannounced_visit", "暗访")
    INSPECTION = ("inspection", "督查")
    CROSS_CHECK = ("cross_check", "交叉检查")
    MONTHLY_SCORING = ("monthly_scoring", "月度考评")
    HOTLINE = ("hotline", "12345/信访")
    VILLAGER_REPORT = ("villager_report", "随手拍")


class ProblemType(LabeledEnum):
    TOILET = ("toilet", "厕所")
    GARBAGE = ("garbage", "垃圾")
    INFORMAL_DUMP = ("informal_dump", "非正规堆放点")
    SEWAGE = ("sewage", "污水")
    COURTYARD = ("courtyard", "庭院")
    VILLAGE_APPEARANCE = ("village_appearance", "村容村貌")
    OTHER = ("other", "其他")


class Escalation(LabeledEnum):
    NONE = ("none", "无")
    REMINDER = ("reminder", "提醒单")
    ORDER = ("order", "交办单")
    SUPERVISION = ("supervision", "督办单")


class ChangeAction(LabeledEnum):
    CREATE = ("create", "新增")
    UPDATE = ("update", "修改")
    STATUS = ("status", "状态变更")
    DELETE = ("delete", "删除")
    IMPORT = ("import", "导入")


class ChainBreakKind(LabeledEnum):
    """Where the garbage chain (户分类、村收集、镇转运、县处理) breaks; found by the chain audit."""

    VILLAGE_NO_POINT = ("village_no_point", "村无正常运行的收集点")
    POINT_NO_STATION = ("point_no_station", "收集点未接入正常运行的转运站")
    STATION_OVERLOADED = ("station_overloaded", "转运站超负荷")
    MIXED_TRANSPORT = ("mixed_transport", "混装混运(设施不接收该类别)")
    FACILITY_DOWN = ("facility_down", "设施故障/停运")
    UNBALANCED = ("unbalanced", "上下游重量不平衡")


class TitleLevel(LabeledEnum):
    """The level that named a civilized village or town (文明村镇), county and up."""

    COUNTY = ("county", "县级")
    CITY = ("city", "市级")
    PROVINCE = ("province", "省级")
    NATION = ("nation", "全国")
