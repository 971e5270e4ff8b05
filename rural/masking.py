"""Personal data masked for those who may not see it (the API, the GIS feeds, exports, maps).

Masked by field name, in every table:

- the personal fields of a household (``householder``, ``id_number``, ``phone``, ``address``) and
  a user's ``phone``: masked whole, keeping what lets someone who already knows the value
  recognise it (张*, 331128********1234, 138****5678, 一***);
- names of villagers recorded with an object: who found or reported a problem or a repair
  (``found_by``, ``reported_by``), who must fix it (``responsible``), the cleaner of a point
  or a toilet (``cleaner``): masked like a name. Names of staff acting in their role
  (inspectors, reviewers, who recorded or accepted something, the change log's actor) stay:
  who did what is part of the record;
- free text (``note``, ``description``, ``result``, ``revoke_reason``): cadres write phone
  numbers and ID numbers into it, so every mainland mobile number and 18-digit ID number inside
  it is masked; the rest stays.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from rural.models import PERSONAL_FIELDS

NAME_FIELDS = frozenset(
    {"householder", "address", "found_by", "reported_by", "responsible", "cleaner"}
)
FREE_TEXT_FIELDS = frozenset({"note", "description", "result", "revoke_reason"})
MASKED_FIELDS = frozenset(PERSONAL_FIELDS) | NAME_FIELDS | FREE_TEXT_FIELDS

# An 18-digit resident ID (the last character may be X) and an 11-digit mobile number, each
# standing alone (not part of a longer run of digits).
_ID_NUMBER = re.compile(r"(?<![0-9Xx])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9Xx])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_name(value: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***, 张 -> 张*: the first character stays, at least one star."""
    text = value.strip()
    return text[:1] + "*" * max(len(text) - 1, 1) if text else text


def _keep_ends(value: str, *, head: int, tail: int) -> str:
    text = value.strip()
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[-tail:]


def mask_id_number(value: str) -> str:
    """Keep the first 6 (the region) and the last 4 characters."""
    return _keep_ends(value, head=6, tail=4)


def mask_phone(value: str) -> str:
    """Keep the first 3 and the last 4 characters."""
    return _keep_ends(value, head=3, tail=4)


def mask_text(value: str) -> str:
    """Free text with every ID number and mobile number in it masked, the rest unchanged."""
    text = _ID_NUMBER.sub(lambda m: f"{m[1]}{'*' * 8}{m[2]}", value)
    return _MOBILE.sub(lambda m: f"{m[1]}****{m[2]}", text)


def mask_value(field: str, value: Any) -> Any:
    """The masked form of ``field``'s value (None and non-text values pass through)."""
    if not isinstance(value, str) or not value:
        return value
    if field == "id_number":
        return mask_id_number(value)
    if field == "phone":
        return mask_phone(value)
    if field in FREE_TEXT_FIELDS:
        return mask_text(value)
    return mask_name(value)


def mask_record(record: Mapping[str, Any], *, visible: bool) -> dict[str, Any]:
    """``record`` with every personal field masked unless ``visible``."""
    if visible:
        return dict(record)
    return {k: mask_value(k, v) if k in MASKED_FIELDS else v for k, v in record.items()}


def mask_json(value: Any) -> Any:
    """A JSON snapshot (dict, or its text) with every personal key masked."""
    if value is None:
        return None
    parsed = json.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, dict):
        return value
    masked = mask_record(parsed, visible=False)
    return json.dumps(masked, ensure_ascii=False) if isinstance(value, str) else masked
