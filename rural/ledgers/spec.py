"""The declarative description of a ledger kind (台账): its columns, references and natural key.

A kind is data: a list of :class:`Column` (Chinese header, field, type, required, enum), the
:class:`Ref` columns that point at other objects by their natural key (a household by its code,
a facility by its unit code and name), and the natural key that finds the row to update.
Adding a kind means adding one :class:`LedgerKind` to ``rural.ledgers.kinds``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlmodel import SQLModel

from rural.enums import LabeledEnum, UnitLevel
from rural.permissions import Domain


class ColumnType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    ENUM = "enum"
    UNIT_CODE = "unit_code"
    LIST = "list"
    MAPPING = "mapping"
    LON = "lon"
    LAT = "lat"


TYPE_LABELS: dict[ColumnType, str] = {
    ColumnType.TEXT: "文本",
    ColumnType.INTEGER: "整数",
    ColumnType.NUMBER: "数值",
    ColumnType.BOOLEAN: "是/否",
    ColumnType.DATE: "日期(如 2024-05-01)",
    ColumnType.DATETIME: "日期时间(北京时间,如 2024-05-01 08:30)",
    ColumnType.ENUM: "下拉选项",
    ColumnType.UNIT_CODE: "统计用区划代码(村及以上12位,自然村15位;文本格式)",
    ColumnType.LIST: "多个值,用顿号、逗号或分号隔开",
    ColumnType.MAPPING: "类别:数量,多项用分号隔开(如 可回收物:2;其他垃圾:3)",
    ColumnType.LON: "经度(度,小数)",
    ColumnType.LAT: "纬度(度,小数)",
}

# Field names of the coordinate columns every point kind gets.
LON_FIELD = "_lon"
LAT_FIELD = "_lat"
EFFECTIVE_FIELD = "_effective_on"


@dataclass(frozen=True)
class Column:
    """One column of a ledger sheet.

    ``field`` is the model attribute the value goes to, or (for the parts of a reference and
    for coordinates) a name starting with ``_`` that only the reference or the point reads.
    """

    header: str
    field: str
    value_type: ColumnType = ColumnType.TEXT
    required: bool = False
    enum: type[LabeledEnum] | None = None
    levels: tuple[UnitLevel, ...] = ()
    help: str = ""
    example: str = ""
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    default: Any = None
    aliases: tuple[str, ...] = ()
    check: Callable[[Any], str | None] | None = None
    categories: bool = False  # garbage categories: key or label in, scheme key stored

    @property
    def is_model_field(self) -> bool:
        return not self.field.startswith("_")


@dataclass(frozen=True)
class Target:
    """A kind of object other ledgers point at, found by its natural key."""

    name: str
    label: str
    model: type[SQLModel]
    key: tuple[str, ...]
    unit_field: str


@dataclass(frozen=True)
class Ref:
    """Columns that together name another object; its id goes into ``field``.

    ``columns`` are the fields of this kind's columns, in the order of the target's key.
    A reference is required when any of its columns is required; a partly filled reference is
    a row error either way.
    """

    field: str
    target: Target
    columns: tuple[str, ...]


RowCheck = Callable[[Mapping[str, Any]], list[tuple[str, str]]]
Derive = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class LedgerKind:
    """A ledger kind: what its sheet looks like and how its rows become table rows.

    ``key`` lists model fields (after references are resolved) that identify a row: a row whose
    key exists is compared and updated, otherwise inserted. ``scope`` lists model fields
    (unit codes or references); the first one filled names the unit whose people may upload it.
    ``row_check`` returns (header, reason) pairs for rules that span columns.
    ``derive`` computes fields from others (e.g. the toilet class).
    ``history`` appends dated rows on change: ``"toilet_state"`` or ``"status_change"``
    (of ``status_field``, following the lifecycle ``lifecycle``).
    """

    name: str
    label: str
    model: type[SQLModel]
    object_type: str
    domain: Domain
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    scope: tuple[str, ...]
    refs: tuple[Ref, ...] = ()
    point: bool = False
    row_check: RowCheck | None = None
    derive: Derive | None = None
    history: str | None = None
    status_field: str | None = None
    lifecycle: str | None = None
    description: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """The sheet's columns: the declared ones, then coordinates and the change date."""
        extra: list[Column] = []
        if self.point:
            extra += [
                Column(
                    "经度",
                    LON_FIELD,
                    ColumnType.LON,
                    help="点位经度;默认 CGCS2000 (EPSG:4490),手机/高德坐标导入时声明 --crs gcj02",
                    example="119.9213",
                    aliases=("X", "经度(E)"),
                ),
                Column(
                    "纬度",
                    LAT_FIELD,
                    ColumnType.LAT,
                    help="点位纬度;与经度同时填写或同时留空",
                    example="28.4672",
                    aliases=("Y", "纬度(N)"),
                ),
            ]
        if self.history is not None:
            extra.append(
                Column(
                    "变更日期",
                    EFFECTIVE_FIELD,
                    ColumnType.DATE,
                    help="状态自哪天起生效(写入状态历史);留空为导入当天",
                    example="2024-05-01",
                )
            )
        return self.columns + tuple(extra)

    def column(self, field_name: str) -> Column:
        for col in self.all_columns:
            if col.field == field_name:
                return col
        msg = f"ledger kind {self.name} has no column for field {field_name!r}"
        raise KeyError(msg)

    def key_headers(self) -> list[str]:
        """The headers a person fills to identify a row (references by their own columns)."""
        headers: list[str] = []
        for name in self.key:
            ref = next((r for r in self.refs if r.field == name), None)
            if ref is None:
                headers.append(self.column(name).header)
            else:
                headers += [self.column(c).header for c in ref.columns]
        return headers
