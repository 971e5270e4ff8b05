"""Tooltips, popups and the links in them, without jQuery and without raw user text.

folium's ``GeoJsonTooltip``/``GeoJsonPopup`` build a table from each feature's properties at
run time with ``innerHTML``. Every property value is escaped by :mod:`maps.escape` before it
reaches the page, so a village named ``<img src=x onerror=...>`` shows literally. The only
HTML in properties is the link row built here from escaped parts (:class:`markupsafe.Markup`).

Links go to the app: relative to the app's root when the map is served by it, to the
configured ``base_url`` in a saved file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import folium
from markupsafe import Markup

from maps.escape import escape_text

POPUP_STYLE = "font-size: 13px; max-width: 320px;"
TOOLTIP_STYLE = "font-size: 13px;"
# '' | http(s)://host[:port] | either followed by /segments (never '//', no '/' at the end)
_BASE = re.compile(r"^(https?://[A-Za-z0-9.\-]+(:\d+)?)?(/[A-Za-z0-9._~-]+)*$")


@dataclass(frozen=True)
class Links:
    """Where a map's links point: ``""`` (the serving app's root) or the app's public address."""

    base: str = ""

    def __post_init__(self) -> None:
        if not _BASE.match(self.base):
            msg = (
                "links base must be '' or http(s)://host[:port][/path] without '/' at the end,"
                f" got {self.base!r}"
            )
            raise ValueError(msg)

    @classmethod
    def for_file(cls, base_url: str) -> Links:
        return cls(base=base_url.rstrip("/"))

    def url(self, path: str, **query: str) -> str:
        text = f"{self.base}{quote(path)}"
        return f"{text}?{urlencode(query)}" if query else text

    def unit_page(self, code: str) -> str:
        """The unit's page (the official's dashboard, which drills down to villages)."""
        return self.url("/official", unit=code)

    def map_page(self, kind: str, code: str) -> str:
        return self.url(f"/maps/{kind}", unit=code)


def link_row(links: Sequence[tuple[str, str]]) -> Markup:
    """``<a>`` elements for (url, label) pairs, every part escaped; opened in the same tab."""
    parts = [
        f'<a href="{escape_text(url)}" target="_top">{escape_text(label)}</a>'
        for url, label in links
    ]
    return Markup(" · ".join(parts))  # noqa: S704 (built from escaped parts only)


def village_links(links: Links, code: str, *, detail_map: bool = True) -> Markup:
    pairs = [(links.unit_page(code), "村页面")]
    if detail_map:
        pairs.append((links.map_page("village", code), "村详图"))
    return link_row(pairs)


def tooltip(rows: Sequence[tuple[str, str]]) -> folium.GeoJsonTooltip:
    """A hover tooltip with (property, Chinese label) rows."""
    return folium.GeoJsonTooltip(
        fields=[key for key, _ in rows],
        aliases=[label for _, label in rows],
        sticky=True,
        style=TOOLTIP_STYLE,
    )


def popup(rows: Sequence[tuple[str, str]]) -> folium.GeoJsonPopup:
    """A click popup with (property, Chinese label) rows (the last is often the links)."""
    return folium.GeoJsonPopup(
        fields=[key for key, _ in rows],
        aliases=[label for _, label in rows],
        style=POPUP_STYLE,
        class_name="rural-popup",
        max_width=340,
    )
