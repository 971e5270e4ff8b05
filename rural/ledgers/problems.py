"""Problems found in a ledger file, each naming the file, sheet, row, column, value and reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rural.errors import ValidationError

MAX_LISTED = 50
MAX_SHOWN_VALUE = 60  # characters of a value a message shows (a cell may hold 32,767)


@dataclass(frozen=True)
class RowProblem:
    """One problem: ``row`` is the row number Excel shows (the header row for a missing column)."""

    file: str
    sheet: str
    row: int
    column: str
    value: Any
    reason: str
    out_of_scope: bool = False  # refused by the caller's scope (the API security-logs these)

    def __str__(self) -> str:
        value = "(空)" if self.value is None or self.value == "" else _shown(self.value)
        return (
            f"{self.file} 工作表「{self.sheet}」第{self.row}行 列「{self.column}」"
            f" 值 {value}: {self.reason}"
        )


def _shown(value: Any) -> str:
    """``repr`` of ``value``, cut to about ``MAX_SHOWN_VALUE`` characters with an ellipsis."""
    text = repr(value)
    if len(text) <= MAX_SHOWN_VALUE:
        return text
    return f"{text[: MAX_SHOWN_VALUE - 1]}…(共 {len(str(value))} 字)"


class LedgerError(ValidationError):
    """A ledger file that cannot be imported; nothing was written. ``problems`` lists them all."""

    def __init__(self, problems: list[RowProblem], *, file: str) -> None:
        self.problems = sorted(problems, key=lambda p: (p.sheet, p.row))
        lines = [str(p) for p in self.problems[:MAX_LISTED]]
        more = len(self.problems) - MAX_LISTED
        if more > 0:
            lines.append(f"…… 另有 {more} 个问题未列出")
        header = f"台账 {file} 有 {len(self.problems)} 个问题,未导入任何数据:"
        super().__init__("\n".join([header, *lines]), field=None, value=file)
