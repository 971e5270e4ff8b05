"""The data dictionary: the Chinese name of every table and column, and which columns are
personal (masked by :mod:`rural.masking`). Ledger templates, exports (GeoPackage, Excel,
GeoJSON) and restores share it, so a column has one Chinese name everywhere.

A table or column missing here is exported under its English name (and a test says so).
"""

from __future__ import annotations

from rural.models import PERSONAL_FIELDS

# Bounding-box helper columns: derived from the geometry, never exported.
DERIVED_COLUMNS = frozenset({"minx", "miny", "maxx", "maxy"})

TABLE_LABELS: dict[str, str] = {
    "unit": "行政区划",
    "unit_successor": "区划沿革",
    "unit_crosswalk": "区划代码对照",
    "dataset_info": "数据集信息",
    "user_account": "用户",
    "household": "农户",
    "household_toilet": "户厕",
    "toilet_state": "户厕状态历史",
    "public_toilet": "农村公厕",
    "collection_point": "垃圾收集点",
    "transfer_station": "垃圾转运站",
    "treatment_facility": "垃圾处理设施",
    "chain_link": "收运链接",
    "collection_log": "收运记录",
    "tonnage_record": "垃圾吨位记录",
    "sorting_inspection": "垃圾分类入户抽查",
    "sewage_facility": "污水处理设施",
    "sewage_connection": "污水接户",
    "sewage_inspection": "污水设施巡检",
    "repair_request": "污水设施报修",
    "effluent_sample": "出水水质检测",
    "courtyard_rating": "美丽庭院评定",
    "civilized_title": "文明村镇称号",
    "problem": "问题",
    "problem_photo": "问题照片",
    "change_log": "变更记录",
    "status_change": "状态变更历史",
    "security_event": "安全日志",
    "personal_access_token": "访问令牌",
    "rate_counter": "访问频率计数",
    "web_session": "网页会话",
}

# Tables never exported: live login sessions and rate-limit windows mean nothing elsewhere.
TRANSIENT_TABLES = frozenset({"web_session", "rate_counter"})
# Tables only in a full (unmasked) export: the security log (addresses) and token hashes.
FULL_EXPORT_ONLY_TABLES = frozenset({"security_event", "personal_access_token"})

_COMMON = {
    "id": "编号",
    "version": "版本",
    "geom": "几何",
    "note": "备注",
    "valid_from": "生效日期",
    "valid_to": "失效日期",
}

FIELD_LABELS: dict[str, dict[str, str]] = {
    "unit": {
        "code": "区划代码",
        "name": "名称",
        "level": "层级",
        "parent_code": "上级区划代码",
        "urban_rural_code": "城乡分类代码",
        "rural_override": "人工认定为村庄",
    },
    "unit_successor": {
        "code": "区划代码",
        "successor_code": "承继区划代码",
        "effective_on": "生效日期",
    },
    "unit_crosswalk": {"code": "区划代码", "system": "外部系统", "external_id": "外部编码"},
    "dataset_info": {"key": "键", "value": "值"},
    "user_account": {
        "username": "用户名",
        "display_name": "姓名",
        "role": "角色",
        "unit_code": "所属单位代码",
        "line": "条线",
        "phone": "联系电话",
        "active": "启用",
        "password_hash": "密码摘要",
        "created_at": "创建时间",
    },
    "household": {
        "code": "户编码",
        "village_code": "村代码",
        "natural_village_code": "自然村代码",
        "householder": "户主姓名",
        "id_number": "身份证号",
        "phone": "联系电话",
        "address": "地址",
        "members": "人口数",
        "resident": "常住户",
        "registered": "户籍户",
        "due_for_renovation": "应改户",
    },
    "household_toilet": {
        "household_id": "农户编号",
        "toilet_type": "厕所类型",
        "condition": "使用状况",
        "excreta_destination": "粪污去向",
        "toilet_class": "厕所类别",
        "old_toilet_demolished": "旧厕已拆除",
        "build_year": "改厕年度",
        "batch": "批次",
        "builder": "施工单位",
        "accepted_on": "验收日期",
        "accepted_by": "验收人",
        "subsidy_yuan": "补助金额(元)",
        "subsidy_source": "补助来源",
        "last_emptied_on": "最近清掏日期",
    },
    "toilet_state": {
        "toilet_id": "户厕编号",
        "effective_on": "生效日期",
        "toilet_type": "厕所类型",
        "condition": "使用状况",
        "excreta_destination": "粪污去向",
        "toilet_class": "厕所类别",
        "recorded_at": "记录时间",
        "actor": "操作人",
    },
    "public_toilet": {
        "village_code": "村代码",
        "name": "公厕名称",
        "toilet_type": "厕所类型",
        "condition": "使用状况",
        "cleaner": "保洁员",
        "opened_on": "启用日期",
    },
    "collection_point": {
        "village_code": "村代码",
        "name": "收集点名称",
        "kind": "类型",
        "bins": "各类桶数",
        "frequency_per_week": "每周清运次数",
        "cleaner": "保洁员",
        "status": "状态",
    },
    "transfer_station": {
        "town_code": "乡镇代码",
        "name": "转运站名称",
        "capacity_tpd": "设计能力(吨/日)",
        "has_weighbridge": "有地磅",
        "operator": "运营单位",
        "status": "状态",
    },
    "treatment_facility": {
        "unit_code": "所属单位代码",
        "name": "设施名称",
        "kind": "类型",
        "capacity_tpd": "设计能力(吨/日)",
        "accepted_categories": "接收类别",
        "compliant": "达标",
        "status": "状态",
    },
    "chain_link": {
        "source_kind": "环节起点",
        "village_code": "村代码",
        "collection_point_id": "收集点编号",
        "transfer_station_id": "转运站编号",
        "treatment_facility_id": "处理设施编号",
        "category": "垃圾类别",
    },
    "collection_log": {
        "collection_point_id": "收集点编号",
        "transfer_station_id": "转运站编号",
        "collected_on": "收运日期",
        "vehicle": "车辆",
        "trips": "车次",
        "category": "垃圾类别",
        "estimated_tonnes": "估算吨数",
        "recorded_by": "记录人",
    },
    "tonnage_record": {
        "node_kind": "环节",
        "village_code": "村代码",
        "collection_point_id": "收集点编号",
        "transfer_station_id": "转运站编号",
        "treatment_facility_id": "处理设施编号",
        "period_start": "起始日期",
        "period_end": "截止日期",
        "category": "垃圾类别",
        "tonnes": "吨数",
        "method": "计量方式",
        "fate": "去向",
    },
    "sorting_inspection": {
        "household_id": "农户编号",
        "inspected_on": "抽查日期",
        "participated": "参与分类",
        "correct": "分类正确",
        "inspector": "抽查人",
    },
    "sewage_facility": {
        "village_code": "村代码",
        "name": "设施名称",
        "mode": "处理模式",
        "process": "处理工艺",
        "design_capacity_m3d": "设计规模(立方米/日)",
        "receiving_water": "受纳水体",
        "water_class": "水体类别",
        "standard": "执行标准",
        "discharge_class": "排放等级",
        "om_contractor": "运维单位",
        "om_cost_yuan": "年运维费用(元)",
        "commissioned_on": "投运日期",
        "status": "状态",
        "service_area": "服务范围",
    },
    "sewage_connection": {
        "household_id": "农户编号",
        "facility_id": "设施编号",
        "connected_on": "接入日期",
        "disconnected_on": "断开日期",
    },
    "sewage_inspection": {
        "facility_id": "设施编号",
        "inspected_on": "巡检日期",
        "inspector": "巡检人",
        "pump_ok": "水泵正常",
        "meter_m3": "水表读数(立方米)",
        "effluent_look": "出水观感",
    },
    "repair_request": {
        "facility_id": "设施编号",
        "reported_at": "报修时间",
        "reported_by": "报修人",
        "description": "故障描述",
        "fixed_at": "修复时间",
    },
    "effluent_sample": {
        "facility_id": "设施编号",
        "sampled_on": "采样日期",
        "lab": "检测单位",
        "ph": "pH",
        "cod": "化学需氧量(mg/L)",
        "bod5": "五日生化需氧量(mg/L)",
        "ss": "悬浮物(mg/L)",
        "nh3n": "氨氮(mg/L)",
        "tn": "总氮(mg/L)",
        "tp": "总磷(mg/L)",
        "fecal_coliform": "粪大肠菌群(MPN/L)",
    },
    "civilized_title": {
        "unit_code": "单位代码",
        "level": "称号级别",
        "title": "称号",
        "campaign": "评选批次",
        "document_no": "命名文号",
        "awarded_on": "命名日期",
        "revoked_on": "撤销日期",
        "revoke_reason": "撤销原因",
    },
    "courtyard_rating": {
        "household_id": "农户编号",
        "rated_on": "评定日期",
        "stars": "星级",
        "level": "评定层级",
        "inspector": "评定人",
        "published": "已公示",
        "item_scores": "分项得分",
    },
    "problem": {
        "problem_type": "问题类型",
        "source": "来源",
        "village_code": "村代码",
        "object_kind": "对象类型",
        "object_id": "对象编号",
        "description": "问题描述",
        "found_by": "发现人",
        "found_at": "发现时间",
        "responsible": "责任人",
        "deadline": "整改期限",
        "status": "状态",
        "escalation": "督办等级",
        "reviewer": "验收人",
        "result": "整改结果",
        "closed_on": "销号日期",
    },
    "problem_photo": {
        "problem_id": "问题编号",
        "stage": "阶段",
        "file_name": "文件名",
        "sha256": "SHA256",
        "taken_at": "拍摄时间",
        "lon": "经度",
        "lat": "纬度",
    },
    "change_log": {
        "at": "时间",
        "actor": "操作人",
        "action": "操作",
        "object_type": "对象类型",
        "object_id": "对象编号",
        "old": "原值",
        "new": "新值",
    },
    "status_change": {
        "object_type": "对象类型",
        "object_id": "对象编号",
        "from_status": "原状态",
        "to_status": "新状态",
        "effective_on": "生效日期",
        "recorded_at": "记录时间",
        "actor": "操作人",
    },
    "security_event": {
        "at": "时间",
        "kind": "事件",
        "username": "用户名",
        "ip": "IP地址",
        "method": "请求方法",
        "path": "路径",
        "status": "状态码",
        "detail": "详情",
    },
    "personal_access_token": {
        "user_id": "用户编号",
        "name": "令牌名称",
        "token_hash": "令牌摘要",
        "prefix": "令牌前缀",
        "created_at": "创建时间",
        "expires_at": "过期时间",
        "revoked_at": "撤销时间",
    },
}

# Personal columns per table (masked unless the caller may see personal data); free text
# (FREE_TEXT_FIELDS, any table) is masked as well, see rural.masking.
PERSONAL_COLUMNS: dict[str, frozenset[str]] = {
    "household": frozenset(PERSONAL_FIELDS),
    "user_account": frozenset({"phone"}),
    "problem": frozenset({"found_by"}),
}
# Columns left out of any masked export (secrets, not merely personal).
SECRET_COLUMNS: dict[str, frozenset[str]] = {"user_account": frozenset({"password_hash"})}
# JSON columns whose keys may carry personal values (the change log's old/new snapshots).
PERSONAL_JSON_COLUMNS: dict[str, frozenset[str]] = {"change_log": frozenset({"old", "new"})}


def table_label(table: str) -> str:
    return TABLE_LABELS.get(table, table)


def field_label(table: str, column: str) -> str:
    """The Chinese name of a column (its English name when the dictionary lacks it)."""
    return FIELD_LABELS.get(table, {}).get(column) or _COMMON.get(column) or column
