"""Sub-commands of ``rural``, one module per area, registered in ``rural.cli``."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text


def print_error(
    console: Console, message: object, *, label: str = "错误", style: str = "red"
) -> None:
    """``错误: message`` with the label coloured and the message as plain text: never read as
    rich markup, since an error may quote what a user typed (a name with brackets, a URL
    template like ``http(s)://host[:port][/path]``). Never broken into lines by rich: a list of
    valid names in it must survive copying from a narrow terminal."""
    console.print(Text.assemble((f"{label}: ", style), str(message)), soft_wrap=True)
