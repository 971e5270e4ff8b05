"""maps.style: pure class breaks, colours and labels (no folium)."""

from __future__ import annotations

import math

import pytest

from maps.style import (
    NO_DATA_LABEL,
    RATE_BREAKS,
    ClassBreaks,
    PathStyle,
    StyleError,
    format_percent,
    village_style,
)

RED, ORANGE, YELLOW, LIGHT_GREEN, GREEN = "#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"


@pytest.mark.parametrize(
    ("rate", "index", "colour"),
    [
        (0.0, 0, RED),
        (0.4994, 0, RED),  # shown as 49.9%
        (0.4996, 1, ORANGE),  # shown as 50.0%: coloured as it is shown
        (0.5, 1, ORANGE),  # a break belongs to the class above it
        (0.69, 1, ORANGE),
        (0.6996, 2, YELLOW),  # shown as 70.0%
        (0.7, 2, YELLOW),
        (0.85, 3, LIGHT_GREEN),
        (0.9494, 3, LIGHT_GREEN),
        (0.95, 4, GREEN),
        (1.0, 4, GREEN),
    ],
)
def test_rate_classes(rate: float, index: int, colour: str) -> None:
    assert RATE_BREAKS.classify(rate) == index
    assert RATE_BREAKS.colour(rate) == colour


@pytest.mark.parametrize("rate", [0.4994, 0.4996, 0.6996, 0.6994, 0.9494, 0.9496])
def test_a_rate_is_coloured_as_it_is_shown(rate: float) -> None:
    """The legend class of the text a popup shows is the class of the fill."""
    shown = float(format_percent(rate).removesuffix("%")) / 100
    assert RATE_BREAKS.classify(rate) == RATE_BREAKS.classify(shown)


@pytest.mark.parametrize("value", [None, math.nan])
def test_missing_rate_gets_the_no_data_colour(value: float | None) -> None:
    assert RATE_BREAKS.classify(value) is None
    assert RATE_BREAKS.colour(value) == "#bdbdbd"


def test_labels_and_legend() -> None:
    assert RATE_BREAKS.labels() == ["< 50%", "50%–70%", "70%–85%", "85%–95%", "≥ 95%"]
    assert RATE_BREAKS.legend() == [
        (GREEN, "≥ 95%"),
        (LIGHT_GREEN, "85%–95%"),
        (YELLOW, "70%–85%"),
        (ORANGE, "50%–70%"),
        (RED, "< 50%"),
        ("#bdbdbd", NO_DATA_LABEL),
    ]


def test_configured_breaks_from_mapping() -> None:
    classes = ClassBreaks.from_mapping(
        {
            "breaks": [0.6, 0.9],
            "colours": ["#000000", "#777777", "#ffffff"],
            "no_data_colour": "#123456",
        }
    )
    assert [classes.colour(v) for v in (0.1, 0.6, 0.95, None)] == [
        "#000000",
        "#777777",
        "#ffffff",
        "#123456",
    ]
    assert classes.labels() == ["< 60%", "60%–90%", "≥ 90%"]


def test_non_percent_breaks_label_plain_numbers() -> None:
    classes = ClassBreaks(
        breaks=(10, 20.5), colours=("#000000", "#111111", "#222222"), percent=False
    )
    assert classes.labels() == ["< 10", "10–20.5", "≥ 20.5"]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"breaks": [0.7, 0.5], "colours": ["#000000"] * 3}, "increase strictly"),
        ({"breaks": [0.5, 0.5], "colours": ["#000000"] * 3}, "increase strictly"),
        ({"breaks": [0.5], "colours": ["#000000"] * 3}, "one entry per class"),
        ({"breaks": [], "colours": ["#000000"]}, "at least one"),
        ({"breaks": [0.5], "colours": ["red", "#000000"]}, r"colours\[0\]"),
        ({"breaks": [0.5], "colours": ["#000000", "#000000;}</style>"]}, r"colours\[1\]"),
        ({"breaks": [0.5], "colours": ["#000000"] * 2, "no_data_colour": "x"}, "no_data_colour"),
        ({"breaks": [math.inf], "colours": ["#000000"] * 2}, "finite"),
        ({"breaks": "0.5", "colours": ["#000000"] * 2}, "list of numbers"),
        ({"breaks": [0.5], "colours": ["#000000"] * 2, "colour": "#000000"}, "unknown"),
    ],
)
def test_bad_configuration_is_refused(data: dict[str, object], match: str) -> None:
    with pytest.raises(StyleError, match=match):
        ClassBreaks.from_mapping(data)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.8333, "83.3%"),
        (1.0, "100.0%"),
        (0.0, "0.0%"),
        (2 / 3, "66.7%"),
        (None, "无数据"),
        (math.nan, "无数据"),
    ],
)
def test_format_percent(value: float | None, text: str) -> None:
    assert format_percent(value) == text


def test_village_style_fills_by_class_and_town_style_is_unfilled() -> None:
    options = village_style(0.72).leaflet()
    assert options["fillColor"] == YELLOW
    assert options["fill"] is True
    assert village_style(None).leaflet()["fillColor"] == "#bdbdbd"
    outline = PathStyle(colour="#252525", weight=2).leaflet()
    assert outline["fill"] is False
    assert "fillColor" not in outline


def test_path_style_refuses_bad_opacity() -> None:
    with pytest.raises(StyleError, match="fill_opacity"):
        PathStyle(colour="#000000", weight=1, fill_opacity=1.5)
