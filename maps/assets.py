"""Local JavaScript and CSS for maps: no CDN, ever.

The files come from Python packages the project installs (XStatic packages). A map refers to
them in one of two ways (:class:`Assets`):

- **served**: ``<script src="/static/vendor/leaflet/1.9.3/leaflet.js">``; the app serves the
  files listed by :func:`asset_files` under that base;
- **inline**: the file contents are written into the page (images in CSS as data URIs), so a
  saved map opens from disk with no network at all.

folium declares each element's JS/CSS as class-level lists (``default_js``/``default_css``);
:func:`localize` replaces them **per instance** on every element of a map, so nothing leaks to
other maps in the process. folium's Map defaults jQuery, Bootstrap, glyphicons, awesome-markers
and Font Awesome are dropped: the elements we use do not need them. An element that asks for a
library we do not ship raises :class:`MissingAssetError` instead of falling back to a CDN.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink

from rural.errors import RuralError

DEFAULT_BASE_URL = "/static/vendor"


class MissingAssetError(RuralError):
    """A map element needs a JS/CSS library that is not bundled locally."""


@dataclass(frozen=True)
class VendorFile:
    """One file of a bundled library: where it is served and where it lies on disk."""

    path: str  # relative URL path under the vendor base, e.g. "leaflet/1.9.3/leaflet.js"
    source: Path

    @property
    def media_type(self) -> str:
        return media_type(self.path)


# folium link names whose library the elements we use do not need: dropped, never loaded.
DROPPED_LINKS = frozenset(
    {
        "jquery",
        "bootstrap",
        "bootstrap_css",
        "glyphicons_css",
        "awesome_markers",
        "awesome_markers_css",
        "awesome_markers_font_css",
        "awesome_rotate_css",
    }
)

_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
}


def media_type(path: str) -> str:
    """The Content-Type of a vendor file (JS and CSS as UTF-8 text)."""
    suffix = Path(path).suffix.lower()
    return _MEDIA_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


@dataclass(frozen=True)
class _Library:
    name: str
    version: str
    base_dir: Path
    links: dict[str, str]  # folium link name -> file name inside base_dir
    extra: tuple[str, ...]  # files the links refer to (images)

    def url_path(self, file_name: str) -> str:
        return f"{self.name}/{self.version}/{file_name}"


@cache
def _libraries() -> tuple[_Library, ...]:
    # Imported here: reading the packages is the first use, not module import.
    from xstatic.pkg import leaflet, leaflet_markercluster

    leaflet_images = tuple(
        f"images/{p.name}" for p in sorted((Path(leaflet.BASE_DIR) / "images").glob("*.png"))
    )
    return (
        _Library(
            name="leaflet",
            version=leaflet.VERSION,
            base_dir=Path(leaflet.BASE_DIR),
            links={"leaflet": "leaflet.js", "leaflet_css": "leaflet.css"},
            extra=leaflet_images,
        ),
        _Library(
            name="leaflet.markercluster",
            version=leaflet_markercluster.VERSION,
            base_dir=Path(leaflet_markercluster.BASE_DIR),
            links={
                "markerclusterjs": "leaflet.markercluster.js",
                "markerclustercss": "MarkerCluster.css",
                "markerclusterdefaultcss": "MarkerCluster.Default.css",
            },
            extra=(),
        ),
    )


def asset_files() -> dict[str, VendorFile]:
    """Every bundled file by its relative URL path (what the app serves under the base URL)."""
    files: dict[str, VendorFile] = {}
    for lib in _libraries():
        for file_name in (*lib.links.values(), *lib.extra):
            path = lib.url_path(file_name)
            files[path] = VendorFile(path=path, source=lib.base_dir / file_name)
    return files


def _link_targets() -> dict[str, VendorFile]:
    """folium link name -> the local file that replaces it."""
    files = asset_files()
    return {
        name: files[lib.url_path(file_name)]
        for lib in _libraries()
        for name, file_name in lib.links.items()
    }


@dataclass(frozen=True)
class Assets:
    """How a rendered map refers to its JS/CSS: URLs under ``base_url``, or inline when None.

    ``base_url`` may be absolute-path (``/static/vendor``) or relative (``vendor``, for a map
    saved next to a copy of the files); it must not name another host.
    """

    base_url: str | None = DEFAULT_BASE_URL

    def __post_init__(self) -> None:
        if self.base_url is not None and re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*:|//)", self.base_url):
            msg = f"assets base_url must be a local path, got {self.base_url!r}"
            raise ValueError(msg)

    @classmethod
    def served(cls, base_url: str = DEFAULT_BASE_URL) -> Assets:
        return cls(base_url=base_url.rstrip("/"))

    @classmethod
    def inline(cls) -> Assets:
        return cls(base_url=None)

    @property
    def is_inline(self) -> bool:
        return self.base_url is None

    def url(self, file: VendorFile) -> str:
        if self.base_url is None:
            msg = "inline assets have no URL"
            raise ValueError(msg)
        return f"{self.base_url}/{file.path}"


def _walk(element: Element) -> list[Element]:
    out = [element]
    for child in element._children.values():
        out.extend(_walk(child))
    return out


def _replace_links(
    element: Any, attribute: str, targets: dict[str, VendorFile], assets: Assets
) -> list[tuple[str, VendorFile]]:
    """Set the element's own link list to local URLs; return the files it needs."""
    needed: list[tuple[str, VendorFile]] = []
    local: list[tuple[str, str]] = []
    # Keep what folium declared, so a later call with other assets starts from it again.
    declared_key = f"_declared_{attribute}"
    if declared_key not in vars(element):
        setattr(element, declared_key, list(getattr(element, attribute)))
    for name, url in getattr(element, declared_key):
        if name in DROPPED_LINKS:
            continue
        if name not in targets:
            kind = type(element).__name__
            msg = f"{kind} needs {name!r} ({url}), which is not bundled: add it to maps/assets.py"
            raise MissingAssetError(msg)
        needed.append((name, targets[name]))
        if not assets.is_inline:
            local.append((name, assets.url(targets[name])))
    # Per instance: never touch the class-level list shared by every map in the process.
    setattr(element, attribute, local)
    return needed


def localize(m: folium.Map, assets: Assets) -> folium.Map:
    """Point every element of ``m`` at local JS/CSS (or inline it); returns ``m``.

    Call it after the last element is added, before rendering. Calling it again with other
    assets switches the map over (e.g. served in the app, inline when saved to a file).
    """
    targets = _link_targets()
    figure = m.get_root()
    if not isinstance(figure, Figure):
        msg = "the map must belong to a Figure"
        raise TypeError(msg)
    js: dict[str, VendorFile] = {}
    css: dict[str, VendorFile] = {}
    for element in _walk(m):
        if isinstance(element, folium.Popup):
            # folium.Popup builds its content with jQuery, which we do not ship.
            msg = "folium.Popup needs jQuery, which is not bundled: use GeoJsonPopup instead"
            raise MissingAssetError(msg)
        if hasattr(element, "default_js"):
            js.update(_replace_links(element, "default_js", targets, assets))
            css.update(_replace_links(element, "default_css", targets, assets))
    header = figure.header
    # Forget links or inlined files left in the header by an earlier render.
    for name in {*targets, *DROPPED_LINKS}:
        header._children.pop(name, None)
    # Vendor CSS and JS first in <head>, so the map's own styles override Leaflet's; a later
    # render re-adds served links under the same names, which keeps these positions.
    entries: list[tuple[str, Element]] = []
    for name, file in css.items():
        entries.append(
            (name, Element(_inline_css(file)) if assets.is_inline else CssLink(assets.url(file)))
        )
    for name, file in js.items():
        entries.append(
            (
                name,
                Element(_inline_js(file)) if assets.is_inline else JavascriptLink(assets.url(file)),
            )
        )
    # ... but after the charset declaration, which browsers look for in the first 1024 bytes.
    first = 1 if "meta_http" in header._children else 0
    if first:
        header.add_child(header._children["meta_http"], name="meta_http", index=0)
    for index, (name, element) in enumerate(entries, start=first):
        header.add_child(element, name=name, index=index)
    return m


def _inline_js(file: VendorFile) -> str:
    text = file.source.read_text(encoding="utf-8")
    # "</script" would end the element early; "<\/script" means the same inside JS strings.
    text = re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)
    return f"<script>{text}</script>"


def _data_uri(path: Path) -> str:
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"data:{media_type(path.name)};base64,{encoded}"


def _inline_css(file: VendorFile) -> str:
    text = file.source.read_text(encoding="utf-8")
    base = file.source.parent

    def to_data_uri(match: re.Match[str]) -> str:
        target = match.group(2)
        if target.startswith(("#", "data:")):
            return match.group(0)
        local = (base / target).resolve()
        if not local.is_file() or base.resolve() not in local.parents:
            msg = f"{file.path} refers to {target!r}, which is not a bundled file"
            raise MissingAssetError(msg)
        return f"url({_data_uri(local)})"

    text = re.sub(r"url\((['\"]?)([^'\")]+)\1\)", to_data_uri, text)
    text = re.sub(r"</(style)", r"<\\/\1", text, flags=re.IGNORECASE)
    return f"<style>{text}</style>"


_EXTERNAL_REFERENCE = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?|@import\s+["']?)\s*(?:https?:)?//""",
    re.IGNORECASE,
)


def external_references(html: str) -> list[str]:
    """Attributes and CSS ``url()``/``@import`` in ``html`` that point at another host."""
    return [m.group(0) for m in _EXTERNAL_REFERENCE.finditer(html)]


def render_page(m: folium.Map, *, assets: Assets) -> str:
    """The map's full HTML page with local assets; refuses a page that refers to another host.

    Inlined library code is left out of the check: Leaflet's source holds link text (its own
    home page, the SVG namespace) that the browser never fetches.
    """
    localize(m, assets)
    figure = m.get_root()
    assert isinstance(figure, Figure)  # localize() checked it
    html: str = figure.render()
    checked = html
    if assets.is_inline:
        for name in _link_targets():
            element = figure.header._children.get(name)
            if element is not None:
                checked = checked.replace(element.render(), "")
    outside = external_references(checked)
    if outside:
        msg = f"the map refers to other hosts: {outside[:3]}"
        raise MissingAssetError(msg)
    return html
