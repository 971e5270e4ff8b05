"""Turn one Excel cell into a typed value, or say in Chinese why it cannot be one."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from rural import codes
from rural.clock import CHINA
from rural.errors import InvalidCodeError
from rural.ledgers.spec import Column, ColumnType

EMPTY = object()


class CellError(ValueError):
    """A cell that does not hold a value of its column's type; the message is the reason."""


_TRUE = {"是", "有", "y", "yes", "true", "1", "√", "✓", "对"}
_FALSE = {"否", "无", "n", "no", "false", "0", "×", "✗", "x", "不"}
_SPLIT = re.compile(r"[、,，;；\n]+")
_PAIR_SPLIT = re.compile(r"[;；\n,，、]+")
_PAIR = re.compile(r"^\s*(.+?)\s*[:：=]\s*(-?\d+(?:\.\d+)?)\s*$")
_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATETIME_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?[\sT]+(\d{1,2})[:时](\d{1,2})"
    r"(?:[:分](\d{1,2})(?:\.\d+)?)?\s*秒?$"
)
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# Text columns holding identifiers (户编码 and references to it, 身份证号, 电话): full-width
# characters typed with a Chinese input method are folded to ASCII, so one household cannot be
# stored twice under ３３… and 33….
_IDENTIFIER_FIELDS = frozenset({"code", "_household_code", "id_number", "phone"})
# Excel's day zero (serial numbers count days from 1899-12-30 in the 1900 date system).
_EXCEL_EPOCH = date(1899, 12, 30)


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_cell(column: Column, value: Any) -> Any:
    """The typed value of a non-empty cell; raises :class:`CellError` with the reason."""
    kind = column.value_type
    if kind == ColumnType.TEXT:
        result: Any = _text(value, column)
        if column.field in _IDENTIFIER_FIELDS:
            result = codes.normalize(result)
        if column.categories:
            result = category_key(result)
    elif kind == ColumnType.INTEGER:
        result = _integer(value)
    elif kind in (ColumnType.NUMBER, ColumnType.LON, ColumnType.LAT):
        result = _number(value)
    elif kind == ColumnType.BOOLEAN:
        result = _boolean(value)
    elif kind == ColumnType.DATE:
        result = _date(value)
    elif kind == ColumnType.DATETIME:
        result = _datetime(value)
    elif kind == ColumnType.ENUM:
        result = _enum(value, column)
    elif kind == ColumnType.UNIT_CODE:
        result = _unit_code(value)
    elif kind == ColumnType.LIST:
        result = [part.strip() for part in _SPLIT.split(_text(value, column)) if part.strip()]
        if column.categories:
            result = [category_key(part) for part in result]
    elif kind == ColumnType.MAPPING:
        result = _mapping(_text(value, column))
        if column.categories:
            result = _category_keys(result)
    else:  # pragma: no cover - every type is handled above
        msg = f"未知的列类型 {kind}"
        raise CellError(msg)
    _check_range(column, result)
    if column.check is not None:
        reason = column.check(result)
        if reason:
            raise CellError(reason)
    return result


def _text(value: Any, column: Column) -> str:
    if isinstance(value, bool):
        text = "是" if value else "否"
    elif isinstance(value, float) and value.is_integer():
        if abs(value) >= 1e15:
            msg = "长编码被 Excel 当成了数值并丢失了位数,请将该列设为文本格式后重新填写"
            raise CellError(msg)
        text = str(int(value))
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    else:
        text = str(value).strip()
    if column.max_length is not None and len(text) > column.max_length:
        msg = f"长度 {len(text)} 超过上限 {column.max_length} 个字"
        raise CellError(msg)
    return text


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        msg = "应为整数"
        raise CellError(msg)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        msg = "应为整数,不能有小数"
        raise CellError(msg)
    text = str(value).strip().replace(",", "")
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?\d+\.0*", text):
        return int(float(text))
    msg = "应为整数"
    raise CellError(msg)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        msg = "应为数值"
        raise CellError(msg)
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().replace(",", "")
        if not _NUMBER_RE.match(text):
            msg = "应为数值"
            raise CellError(msg)
        number = float(text)
    if not math.isfinite(number):
        msg = "应为有限的数值"
        raise CellError(msg)
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    msg = "应为 是 或 否"
    raise CellError(msg)


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        if value.time() != time(0):
            msg = "应为日期,不含时刻"
            raise CellError(msg)
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 20_000 <= value <= 80_000:
            return _EXCEL_EPOCH + timedelta(days=int(value))
        msg = "应为日期(如 2024-05-01)"
        raise CellError(msg)
    match = _DATE_RE.match(str(value).strip())
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError as exc:
            msg = "不是存在的日期"
            raise CellError(msg) from exc
    msg = "应为日期(如 2024-05-01)"
    raise CellError(msg)


def _datetime(value: Any) -> datetime:
    """A Beijing-time wall clock reading (as people write it) → an aware UTC datetime."""
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=CHINA)
        return local.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=CHINA).astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # an Excel serial date-time (days since 1899-12-30, the fraction is the time of day)
        if 20_000 <= value <= 80_000:
            seconds = round((float(value) - int(value)) * 86_400)
            day = _EXCEL_EPOCH + timedelta(days=int(value))
            local = datetime.combine(day, time(0), tzinfo=CHINA) + timedelta(seconds=seconds)
            return local.astimezone(UTC)
        msg = "应为日期时间(如 2024-05-01 08:30)"
        raise CellError(msg)
    text = str(value).strip()
    match = _DATETIME_RE.match(text)
    try:
        if match:
            y, mo, d, h, mi, sec = (int(p) if p else 0 for p in match.groups())
            return datetime(y, mo, d, h, mi, sec, tzinfo=CHINA).astimezone(UTC)
        return datetime.combine(_date(text), time(0), tzinfo=CHINA).astimezone(UTC)
    except (ValueError, CellError) as exc:
        msg = "应为日期时间(如 2024-05-01 08:30)"
        raise CellError(msg) from exc


def _enum(value: Any, column: Column) -> Any:
    assert column.enum is not None
    text = _text(value, column)
    try:
        return column.enum.from_label(text)
    except ValueError as exc:
        choices = "、".join(m.label for m in column.enum)
        msg = f"不是有效的选项(可选: {choices})"
        raise CellError(msg) from exc


def _unit_code(value: Any) -> str:
    if isinstance(value, float):
        if not value.is_integer() or value >= 1e15:
            msg = "区划代码被 Excel 当成了数值并丢失了位数,请将该列设为文本格式后重新填写"
            raise CellError(msg)
        value = int(value)
    text = codes.normalize(str(value))
    try:
        return codes.validate(text)
    except InvalidCodeError as exc:
        msg = "不是有效的统计用区划代码(12位,自然村15位)"
        if not text.isascii():
            msg += "(只能用半角数字 0-9)"
        raise CellError(msg) from exc


def _mapping(text: str) -> dict[str, int | float]:
    result: dict[str, int | float] = {}
    for part in _PAIR_SPLIT.split(text):
        if not part.strip():
            continue
        match = _PAIR.match(part)
        if not match:
            msg = f"「{part.strip()}」应写成 名称:数量"
            raise CellError(msg)
        name, raw = match[1], match[2]
        if name in result:
            msg = f"「{name}」重复"
            raise CellError(msg)
        number = float(raw)
        result[name] = int(number) if "." not in raw else number
    return result


def category_key(text: str) -> str:
    """The key of a garbage category given by its key or its label in any scheme
    (rural/rules/garbage_categories.toml), e.g. 其他垃圾 → other."""
    from rural.rules_loader import load_garbage_categories

    rules = load_garbage_categories()
    wanted = text.strip()
    for scheme in (rules.scheme, *rules.schemes.values()):
        for category in scheme.categories.values():
            if wanted in (category.key, category.label):
                return category.key
    choices = "、".join(c.label for c in rules.scheme.categories.values())
    msg = f"「{wanted}」不是垃圾类别(可选: {choices})"
    raise CellError(msg)


def _category_keys(counts: dict[str, int | float]) -> dict[str, int | float]:
    result: dict[str, int | float] = {}
    for name, number in counts.items():
        key = category_key(name)
        if key in result:
            msg = f"「{name}」与另一项是同一类别"
            raise CellError(msg)
        result[key] = number
    return result


def _check_range(column: Column, value: Any) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return
    if column.minimum is not None and value < column.minimum:
        msg = f"不能小于 {column.minimum:g}"
        raise CellError(msg)
    if column.maximum is not None and value > column.maximum:
        msg = f"不能大于 {column.maximum:g}"
        raise CellError(msg)
