"""Chinese labels of stored enum values, for popups (unknown values shown as they are)."""

from __future__ import annotations

from rural.enums import LabeledEnum


def label_of(enum_cls: type[LabeledEnum], value: object) -> str:
    """The Chinese label of ``value`` in ``enum_cls``; ``—`` for None; else the text itself."""
    if value is None:
        return "—"
    try:
        return enum_cls(str(value)).label
    except ValueError:
        return str(value)
