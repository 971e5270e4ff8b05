"""Pure style rules for maps: class breaks, a colour per class, legend labels, number formats.

Nothing here imports folium: the rules are plain functions of values, tested on their own.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

NO_DATA_LABEL = "无数据"


class StyleError(ValueError):
    """A style rule that does not hold together (breaks out of order, a bad colour...)."""


def _check_colour(colour: object, *, field: str) -> str:
    # Colours end up in CSS and JavaScript: accept only #rrggbb.
    if not isinstance(colour, str) or not _HEX_COLOUR.match(colour):
        msg = f"{field} must be a colour like '#1a9641', got {colour!r}"
        raise StyleError(msg)
    return colour


def format_percent(value: float | None, *, digits: int = 1) -> str:
    """A rate (0..1) as a percentage, e.g. ``0.8333 -> '83.3%'``; missing -> ``无数据``."""
    if value is None or math.isnan(value):
        return NO_DATA_LABEL
    return f"{value * 100:.{digits}f}%"


def _break_text(value: float, *, percent: bool) -> str:
    if percent:
        text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
        return f"{text}%"
    return f"{value:g}"


@dataclass(frozen=True)
class ClassBreaks:
    """Fixed class breaks: class ``i`` holds ``breaks[i-1] <= value < breaks[i]``.

    ``colours`` has one colour per class (``len(breaks) + 1``), lowest class first;
    ``no_data_colour`` is for missing values (None or NaN).
    """

    breaks: tuple[float, ...]
    colours: tuple[str, ...]
    no_data_colour: str = "#bdbdbd"
    percent: bool = True

    def __post_init__(self) -> None:
        if not self.breaks:
            msg = "breaks must hold at least one value"
            raise StyleError(msg)
        for value in self.breaks:
            if not isinstance(value, int | float) or not math.isfinite(value):
                msg = f"breaks must be finite numbers, got {value!r}"
                raise StyleError(msg)
        if any(high <= low for low, high in itertools.pairwise(self.breaks)):
            msg = f"breaks must increase strictly, got {list(self.breaks)}"
            raise StyleError(msg)
        if len(self.colours) != len(self.breaks) + 1:
            msg = (
                f"colours must have one entry per class ({len(self.breaks) + 1}),"
                f" got {len(self.colours)}"
            )
            raise StyleError(msg)
        for i, colour in enumerate(self.colours):
            _check_colour(colour, field=f"colours[{i}]")
        _check_colour(self.no_data_colour, field="no_data_colour")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> ClassBreaks:
        """Build from configuration data, e.g. a TOML table with ``breaks`` and ``colours``."""
        unknown = set(data) - {"breaks", "colours", "no_data_colour", "percent"}
        if unknown:
            msg = f"unknown style keys: {sorted(unknown)}"
            raise StyleError(msg)
        breaks = data.get("breaks")
        colours = data.get("colours")
        if not isinstance(breaks, Sequence) or isinstance(breaks, str):
            msg = f"breaks must be a list of numbers, got {breaks!r}"
            raise StyleError(msg)
        if not isinstance(colours, Sequence) or isinstance(colours, str):
            msg = f"colours must be a list of colours, got {colours!r}"
            raise StyleError(msg)
        no_data = data.get("no_data_colour", "#bdbdbd")
        percent = data.get("percent", True)
        if not isinstance(percent, bool):
            msg = f"percent must be true or false, got {percent!r}"
            raise StyleError(msg)
        return cls(
            breaks=tuple(breaks),
            colours=tuple(str(c) for c in colours),
            no_data_colour=str(no_data),
            percent=percent,
        )

    @property
    def class_count(self) -> int:
        return len(self.colours)

    def classify(self, value: float | None) -> int | None:
        """The class index of ``value`` (0 = lowest), or None when it is missing."""
        if value is None or math.isnan(value):
            return None
        index = 0
        for limit in self.breaks:
            if value < limit:
                return index
            index += 1
        return index

    def colour(self, value: float | None) -> str:
        """The fill colour of ``value``; the no-data colour when it is missing."""
        index = self.classify(value)
        return self.no_data_colour if index is None else self.colours[index]

    def labels(self) -> list[str]:
        """One Chinese legend label per class, lowest first: ``< 50%``, ``50%–70%``, ``≥ 95%``."""
        texts = [_break_text(b, percent=self.percent) for b in self.breaks]
        out = [f"< {texts[0]}"]
        out.extend(f"{low}–{high}" for low, high in itertools.pairwise(texts))
        out.append(f"≥ {texts[-1]}")
        return out

    def legend(self) -> list[tuple[str, str]]:
        """(colour, label) pairs for a legend, highest class first, then 无数据."""
        pairs = list(zip(self.colours, self.labels(), strict=True))
        pairs.reverse()
        pairs.append((self.no_data_colour, NO_DATA_LABEL))
        return pairs


# Harmless-toilet and other coverage rates: red (low) to green (high), ColorBrewer RdYlGn.
# 70% echoes the old 国家卫生乡镇 harmless-toilet threshold; the breaks are a default, not a rule.
RATE_BREAKS = ClassBreaks(
    breaks=(0.5, 0.7, 0.85, 0.95),
    colours=("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"),
)


@dataclass(frozen=True)
class PathStyle:
    """Leaflet path options for a polygon layer."""

    colour: str
    weight: float
    fill_colour: str | None = None
    fill_opacity: float = 0.0
    opacity: float = 1.0

    def __post_init__(self) -> None:
        _check_colour(self.colour, field="colour")
        if self.fill_colour is not None:
            _check_colour(self.fill_colour, field="fill_colour")
        for name in ("fill_opacity", "opacity"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                msg = f"{name} must be between 0 and 1, got {value!r}"
                raise StyleError(msg)

    def leaflet(self) -> dict[str, object]:
        """The options as Leaflet expects them."""
        options: dict[str, object] = {
            "color": self.colour,
            "weight": self.weight,
            "opacity": self.opacity,
            "fill": self.fill_colour is not None,
            "fillOpacity": self.fill_opacity,
        }
        if self.fill_colour is not None:
            options["fillColor"] = self.fill_colour
        return options


def village_style(value: float | None, *, classes: ClassBreaks = RATE_BREAKS) -> PathStyle:
    """A village polygon filled by its rate class, with a thin grey outline."""
    return PathStyle(
        colour="#666666", weight=0.8, fill_colour=classes.colour(value), fill_opacity=0.75
    )


TOWN_STYLE = PathStyle(colour="#252525", weight=2.5)
