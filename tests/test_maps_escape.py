"""maps.escape: user text made safe for HTML and for folium's JavaScript template literals."""

from __future__ import annotations

import html
import math

import pytest

from maps.escape import escape_properties, escape_text

MISSING = "—"  # what a popup shows for a missing value (an em dash)

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "王`家村",
    "${alert(1)}",
    "</script><script>alert(1)</script>",
    "a\\",
    "\"'&",
]
DANGEROUS = set("<>\"'`$\\")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("王`家村", "王&#x60;家村"),
        ("${alert(1)}", "&#x24;{alert(1)}"),
        ("</script>", "&lt;/script&gt;"),
        ("a\\", "a&#x5C;"),
        ("\"'&", "&quot;&#x27;&amp;"),
        ("东山村", "东山村"),
    ],
)
def test_escape_text_replaces_each_dangerous_character(text: str, expected: str) -> None:
    assert escape_text(text) == expected


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_has_no_dangerous_character_left(text: str) -> None:
    escaped = escape_text(text)
    assert not DANGEROUS & set(escaped)


@pytest.mark.parametrize("text", HOSTILE)
def test_html_parsing_gives_back_the_original_text(text: str) -> None:
    # What a browser shows once it parses the escaped text as HTML.
    assert html.unescape(escape_text(text)) == text


def test_escape_text_is_not_idempotent_by_design() -> None:
    # Escaping twice shows the entity text: callers must escape exactly once.
    assert escape_text(escape_text("<")) == "&amp;lt;"


@pytest.mark.parametrize("value", [None, math.nan])
def test_missing_values_become_a_dash(value: object) -> None:
    assert escape_text(value) == MISSING


def test_escape_properties_escapes_strings_and_keeps_numbers() -> None:
    props = {
        "name": "<b>王`家村</b>",
        "households": 12,
        "rate": 0.5,
        "flag": True,
        "missing": None,
        "nan": math.nan,
    }
    assert escape_properties(props) == {
        "name": "&lt;b&gt;王&#x60;家村&lt;/b&gt;",
        "households": 12,
        "rate": 0.5,
        "flag": True,
        "missing": MISSING,
        "nan": MISSING,
    }


def test_escape_properties_accepts_numpy_numbers() -> None:
    import numpy as np

    out = escape_properties({"n": np.int64(7), "r": np.float64(0.25)})
    assert out == {"n": 7, "r": 0.25}
    assert type(out["n"]) is int
