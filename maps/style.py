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
        """The class index of ``value`` (0 = lowest), or None when it is missing. A rate is
        classed as it is shown, to 0.1% (69.96% shows as 70.0% and is coloured as 70%)."""
        if value is None or math.isnan(value):
            return None
        if self.percent:
            value = round(value, 3)
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


# ---------------------------------------------------------------- data-driven breaks

# ColorBrewer YlGnBu, 5 classes: for figures that are neither rates nor "bad when high".
SEQUENTIAL_COLOURS = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")


def quantile_breaks(
    values: Sequence[float | None],
    *,
    colours: Sequence[str] = SEQUENTIAL_COLOURS,
    percent: bool = False,
) -> ClassBreaks:
    """Class breaks at the quantiles of ``values`` (missing values ignored), one class per colour.

    Repeated quantiles collapse into one break, so a skewed figure gets fewer classes (the
    highest colours are kept). With fewer than two distinct values there is a single break.
    """
    finite = sorted(
        float(v) for v in values if v is not None and not math.isnan(v) and math.isfinite(v)
    )
    if not finite:
        return ClassBreaks(breaks=(0.0,), colours=(colours[0], colours[-1]), percent=percent)
    k = len(colours)
    cuts: list[float] = []
    for i in range(1, k):
        position = (len(finite) - 1) * i / k
        low = finite[math.floor(position)]
        high = finite[math.ceil(position)]
        cut = round(low + (high - low) * (position - math.floor(position)), 6)
        if cut > finite[0] and (not cuts or cut > cuts[-1]):
            cuts.append(cut)
    if not cuts:
        cuts = [finite[-1]] if finite[-1] > finite[0] else [finite[0] + 1.0]
    chosen = tuple(colours[-(len(cuts) + 1) :])
    return ClassBreaks(breaks=tuple(cuts), colours=chosen, percent=percent)


# Load of a transfer station (inflow / design capacity): fine, near full, over capacity.
LOAD_BREAKS = ClassBreaks(breaks=(0.8, 1.0), colours=("#1a9641", "#fdae61", "#d7191c"))


# ---------------------------------------------------------------- categories


@dataclass(frozen=True)
class Category:
    """One class of a categorical layer: a key in the data, its Chinese label and colour."""

    key: str
    label: str
    colour: str

    def __post_init__(self) -> None:
        _check_colour(self.colour, field=f"colour of {self.key!r}")


@dataclass(frozen=True)
class Categories:
    """Colours of a categorical layer, in legend order; unknown keys get the last entry."""

    items: tuple[Category, ...]

    def __post_init__(self) -> None:
        keys = [c.key for c in self.items]
        if not keys or len(set(keys)) != len(keys):
            msg = f"categories must be non-empty with distinct keys, got {keys}"
            raise StyleError(msg)

    def index(self, key: object) -> int:
        for i, item in enumerate(self.items):
            if item.key == key:
                return i
        return len(self.items) - 1

    def colour(self, key: object) -> str:
        return self.items[self.index(key)].colour

    def label(self, key: object) -> str:
        return self.items[self.index(key)].label

    def legend(self) -> list[tuple[str, str]]:
        return [(c.colour, c.label) for c in self.items]


# A facility's state (collection points, stations, treatment and sewage facilities).
FACILITY_STATUS = Categories(
    (
        Category("operating", "运行", "#1a9641"),
        Category("fault", "故障", "#fdae61"),
        Category("stopped", "停运", "#d7191c"),
        Category("building", "在建", "#2c7bb6"),
        Category("decommissioned", "报废", "#969696"),
    )
)

# A household by its toilet (the ledger's current state): what the sanitation rates count.
HOUSEHOLD_TOILET = Categories(
    (
        Category("harmless", "无害化卫生厕所(正常使用)", "#1a9641"),
        Category("sanitary", "卫生厕所(非无害化)", "#a6d96a"),
        Category("not_in_use", "厕所损坏/闲置/在建", "#fdae61"),
        Category("non_sanitary", "非卫生厕所", "#d7191c"),
        Category("none", "无户厕记录", "#7f7f7f"),
    )
)

# A household by the courtyard rating in force (美丽庭院 stars).
COURTYARD_STARS = Categories(
    (
        Category("5", "五星", "#006837"),
        Category("4", "四星", "#31a354"),
        Category("3", "三星", "#78c679"),
        Category("2", "二星", "#fdae61"),
        Category("1", "一星", "#d7191c"),
        Category("none", "未评星", "#7f7f7f"),
    )
)

# A link of the garbage chain.
CHAIN_LINK = Categories(
    (
        Category("ok", "收运链正常", "#2b83ba"),
        Category("broken", "断链(设施停运/故障/混装)", "#e31a1c"),
    )
)

# An open problem, by how late it is.
PROBLEM_STATE = Categories(
    (
        Category("overdue", "逾期未销号", "#d7191c"),
        Category("open", "整改期限内", "#fdae61"),
        Category("no_deadline", "未定期限", "#2c7bb6"),
    )
)


@dataclass(frozen=True)
class PointStyle:
    """Leaflet circle-marker options for a point."""

    colour: str
    radius: float = 6.0
    weight: float = 1.0
    fill_opacity: float = 0.9
    outline: str = "#333333"
    dash: str | None = None

    def __post_init__(self) -> None:
        _check_colour(self.colour, field="colour")
        _check_colour(self.outline, field="outline")

    def leaflet(self) -> dict[str, object]:
        options: dict[str, object] = {
            "radius": self.radius,
            "color": self.outline,
            "weight": self.weight,
            "fill": True,
            "fillColor": self.colour,
            "fillOpacity": self.fill_opacity,
            "opacity": 1.0,
        }
        if self.dash:
            options["dashArray"] = self.dash
        return options


def line_style(state: str) -> dict[str, object]:
    """A chain link: blue when it works, thick dashed red when it is broken."""
    if state == "broken":
        return {
            "color": CHAIN_LINK.colour("broken"),
            "weight": 3.5,
            "opacity": 0.95,
            "dashArray": "6 4",
        }
    return {"color": CHAIN_LINK.colour("ok"), "weight": 1.5, "opacity": 0.7}


# A village public toilet by its condition.
PUBLIC_TOILET_CONDITION = Categories(
    (
        Category("in_use", "正常使用", "#1a9641"),
        Category("broken", "损坏(渗漏/堵塞/冻结)", "#d7191c"),
        Category("unused", "闲置", "#969696"),
        Category("building", "在建", "#2c7bb6"),
    )
)


def public_toilet_key(condition: str) -> str:
    """The legend class of a public toilet's condition (the three broken ones are one class)."""
    if condition in ("leaking", "blocked", "frozen"):
        return "broken"
    return condition
