"""Escape user-supplied text before it reaches a map.

folium builds tooltips and popups as HTML, and often inside JavaScript template literals
(`` `...${x}...` ``). ``html.escape`` is not enough there: a backtick ends the literal,
``${...}`` runs code and a backslash escapes the closing backtick or makes an invalid escape.
:func:`escape_text` replaces ``& < > " '`` and also backtick, ``$`` and backslash by HTML
character references, which the browser shows as the original characters once the text is
parsed as HTML, while the JavaScript source never contains them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

from markupsafe import Markup

_REPLACEMENTS = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#x27;",
    "`": "&#x60;",
    "$": "&#x24;",
    "\\": "&#x5C;",
}
_TABLE = str.maketrans(_REPLACEMENTS)

# What a map shows for a missing text value.
MISSING_TEXT = "—"


def escape_text(value: object) -> str:
    """``value`` as text safe in HTML, in HTML attributes and inside JS template literals.

    ``None`` and NaN become :data:`MISSING_TEXT`.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING_TEXT
    return str(value).translate(_TABLE)


def escape_properties(properties: Mapping[str, object]) -> dict[str, object]:
    """A copy of a feature's properties with every string value escaped.

    Numbers and booleans are kept as they are (JSON numbers cannot carry markup);
    :class:`markupsafe.Markup` is HTML the map code built itself from escaped parts (a link
    to a village's page) and is kept; any other object is escaped as its text.
    """
    out: dict[str, object] = {}
    for key, value in properties.items():
        if isinstance(value, Markup):
            out[key] = str(value)
        elif isinstance(value, bool):
            out[key] = value
        elif isinstance(value, numbers.Integral):
            out[key] = int(value)
        elif isinstance(value, numbers.Real) and math.isfinite(float(value)):
            out[key] = float(value)
        else:
            out[key] = escape_text(value)
    return out
