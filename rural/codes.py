"""The 12-digit statistical division code 统计用区划代码 and the hierarchy it encodes.

Digits 1-2 province, 3-4 city, 5-6 county, 7-9 town, 10-12 village; a parent's code is its
prefix padded with zeros. Natural villages 自然村 have no statistical code; we key them by
their village's code plus a 3-digit sequence (15 digits).
"""

from __future__ import annotations

import re
import unicodedata

from rural.enums import UnitLevel
from rural.errors import InvalidCodeError

# ASCII digits only: ``\d`` would also take full-width (３) and other Unicode digits.
_CODE_RE = re.compile(r"[0-9]{12}(?:[0-9]{3})?")

# Significant prefix length of each level.
PREFIX_LENGTH: dict[UnitLevel, int] = {
    UnitLevel.PROVINCE: 2,
    UnitLevel.CITY: 4,
    UnitLevel.COUNTY: 6,
    UnitLevel.TOWN: 9,
    UnitLevel.VILLAGE: 12,
    UnitLevel.NATURAL_VILLAGE: 15,
}


def normalize(text: str) -> str:
    """A code as typed, with full-width digits (３３１１…, from a Chinese input method) folded to
    ASCII (NFKC) and surrounding spaces removed. Reading a file calls it; ``validate`` does not."""
    return unicodedata.normalize("NFKC", text).strip()


def validate(code: str) -> str:
    """Return ``code`` if it is a well-formed division code, else raise ``InvalidCodeError``."""
    if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
        msg = f"division code must be 12 digits (15 for a natural village), got {code!r}"
        if isinstance(code, str) and not code.isascii():
            msg += "; only ASCII digits 0-9 are accepted (not full-width or other digits)"
        raise InvalidCodeError(msg, field="code", value=code)
    level = _level_unchecked(code)
    # Every part down to the code's own level must be non-zero (no gaps in the hierarchy).
    start = 0
    for part_level, end in PREFIX_LENGTH.items():
        if int(code[start:end]) == 0:
            msg = f"division code {code!r}: the {part_level.value} part is all zeros"
            raise InvalidCodeError(msg, field="code", value=code)
        if part_level == level:
            break
        start = end
    return code


def _level_unchecked(code: str) -> UnitLevel:
    if len(code) == 15:
        return UnitLevel.NATURAL_VILLAGE
    if code[2:] == "0" * 10:
        return UnitLevel.PROVINCE
    if code[4:] == "0" * 8:
        return UnitLevel.CITY
    if code[6:] == "0" * 6:
        return UnitLevel.COUNTY
    if code[9:] == "000":
        return UnitLevel.TOWN
    return UnitLevel.VILLAGE


def level_of(code: str) -> UnitLevel:
    """The level a valid code denotes (by where its trailing zeros start)."""
    return _level_unchecked(validate(code))


def parent_of(code: str) -> str | None:
    """The parent unit's code (prefix padded with zeros); None for a province."""
    level = level_of(code)
    if level == UnitLevel.PROVINCE:
        return None
    if level == UnitLevel.NATURAL_VILLAGE:
        return code[:12]
    order = list(PREFIX_LENGTH)
    parent_level = order[order.index(level) - 1]
    keep = PREFIX_LENGTH[parent_level]
    return code[:keep] + "0" * (12 - keep)


def prefix_of(code: str) -> str:
    """The significant prefix: every unit beneath ``code`` starts with it."""
    return code[: PREFIX_LENGTH[level_of(code)]]


def is_within(code: str, ancestor: str) -> bool:
    """True when ``code`` is ``ancestor`` or lies beneath it."""
    return code.startswith(prefix_of(ancestor))


def child_code(parent: str, seq: int) -> str:
    """The code of the ``seq``-th child of ``parent`` (seq as the digits of the child's part)."""
    level = level_of(parent)
    if level == UnitLevel.VILLAGE:
        width = 3
        if not 1 <= seq <= 999:
            msg = f"natural village sequence must be 1..999, got {seq}"
            raise InvalidCodeError(msg, field="seq", value=seq)
        return parent + f"{seq:0{width}d}"
    order = list(PREFIX_LENGTH)
    child_level = order[order.index(level) + 1]
    start, end = PREFIX_LENGTH[level], PREFIX_LENGTH[child_level]
    width = end - start
    if not 1 <= seq < 10**width:
        msg = f"child sequence of {parent} must be 1..{10**width - 1}, got {seq}"
        raise InvalidCodeError(msg, field="seq", value=seq)
    return validate(parent[:start] + f"{seq:0{width}d}" + "0" * (12 - end))


def town_kind(code: str) -> str:
    """街道 / 镇 / 乡 / other, from digits 7-9 of a town code."""
    part = int(code[6:9])
    if 1 <= part <= 99:
        return "街道"
    if 100 <= part <= 199:
        return "镇"
    if 200 <= part <= 399:
        return "乡"
    return "其他乡级单位"


def village_kind(code: str) -> str:
    """居委会 / 村委会 / 新设 from digits 10-12 of a village-level code."""
    part = int(code[9:12])
    if 1 <= part <= 199:
        return "居委会"
    if 200 <= part <= 399:
        return "村委会"
    return "其他村级单位"
