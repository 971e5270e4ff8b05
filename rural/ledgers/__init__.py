"""Ledgers 台账: templates and imports of every registry and record, one declarative spec per kind.

``rural template KIND`` writes a template; ``rural import ledger KIND FILE`` imports a filled one.
The kinds live in :mod:`rural.ledgers.kinds`; adding one is adding data there.
"""

from __future__ import annotations

from rural.errors import NotFoundError
from rural.ledgers.importer import LedgerResult, PointTransform, import_ledger
from rural.ledgers.kinds import KINDS, KINDS_BY_NAME
from rural.ledgers.problems import LedgerError, RowProblem
from rural.ledgers.spec import Column, ColumnType, LedgerKind, Ref, Target
from rural.ledgers.template import template_filename, write_template


def get_kind(name: str) -> LedgerKind:
    """The kind named ``name`` (English name such as ``toilets``, or its label 改厕台账)."""
    text = name.strip()
    for kind in KINDS:
        if text in (kind.name, kind.label, kind.label.removesuffix("台账")):
            return kind
    choices = "、".join(f"{k.name}({k.label})" for k in KINDS)
    msg = f"没有这种台账: {name!r}(可选: {choices})"
    raise NotFoundError(msg)


__all__ = [
    "KINDS",
    "KINDS_BY_NAME",
    "Column",
    "ColumnType",
    "LedgerError",
    "LedgerKind",
    "LedgerResult",
    "PointTransform",
    "Ref",
    "RowProblem",
    "Target",
    "get_kind",
    "import_ledger",
    "template_filename",
    "write_template",
]
