"""Reading GIS files: GeoPackage, GeoJSON, Shapefile (also zipped), through pyogrio.

Text encoding follows DOMAIN.md: ``--encoding`` if given; else for a Shapefile the ``.cpg``,
else the DBF language byte (0x4D = 77 = CP936), else UTF-8 if every string decodes strictly,
else GB18030. GeoJSON is UTF-8 by definition but the same strict-UTF-8-else-GB18030 rule
catches the odd GBK file; GeoPackage text is always UTF-8. The result says which was used.

The file's own CRS is returned as read (None when it has none). A GeoJSON without a ``crs``
member is RFC 7946 WGS84 by the letter of the standard, but web-map exports in China are often
GCJ-02 without saying so: it counts as having no CRS, and the caller must declare one.
"""

from __future__ import annotations

import codecs
import io
import json
import struct
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from rural.errors import GisFileError

SUPPORTED_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".zip")
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")

# DBF language driver IDs (byte 29) that name a code page; 0x4D is what Chinese ArcGIS writes.
DBF_LANGUAGE_CODEPAGES: dict[int, str] = {
    0x01: "cp437",
    0x02: "cp850",
    0x03: "cp1252",
    0x4D: "cp936",
    0x4E: "cp949",
    0x4F: "cp950",
    0x7A: "cp936",
    0x7B: "cp932",
}

# Encoding sources, as reported.
FROM_OPTION = "--encoding"
FROM_CPG = ".cpg"
FROM_LANGUAGE_BYTE = "DBF language byte"
FROM_STRICT_UTF8 = "strict UTF-8 decode"
FROM_FALLBACK = "GB18030 fallback (not valid UTF-8)"
FROM_FORMAT = "format (always UTF-8)"


@dataclass(frozen=True)
class GisFile:
    """A GIS layer read into memory, with what we learnt about how it was written."""

    path: Path
    frame: gpd.GeoDataFrame
    driver: str
    layer: str | None
    file_crs: CRS | None
    encoding: str
    encoding_source: str
    notes: tuple[str, ...] = ()


def codec_name(encoding: str, *, origin: str, field: str = "encoding") -> str:
    """Python's canonical name for ``encoding`` (``GBK`` → ``gbk``, ``936`` → ``gbk``)."""
    text = encoding.strip()
    upper = text.upper()
    for prefix in ("ANSI ", "CP", "WINDOWS-"):
        if upper.startswith(prefix) and upper[len(prefix) :].strip().isdigit():
            text = "cp" + upper[len(prefix) :].strip()
            break
    if text.isdigit():
        text = "cp" + text
    if upper in ("88591", "8859_1", "ISO88591"):
        text = "latin-1"
    try:
        return codecs.lookup(text).name
    except LookupError as exc:
        msg = f"{origin}: 不认识的文字编码 / unknown text encoding {encoding!r}"
        raise GisFileError(msg, field=field, value=encoding) from exc


# --- DBF ----------------------------------------------------------------------------------


def dbf_language_byte(dbf: Path) -> int:
    """Byte 29 of a DBF header: the language driver ID (0 when none was written)."""
    with dbf.open("rb") as handle:
        header = handle.read(32)
    if len(header) < 32:
        msg = f"{dbf.name}: DBF 文件头不完整 / truncated DBF header"
        raise GisFileError(msg, field="dbf", value=len(header))
    return header[29]


def dbf_text_fields(dbf: Path) -> Iterator[bytes]:
    """The raw bytes of every field name and every character value of a DBF file."""
    data = dbf.read_bytes()
    if len(data) < 32:
        msg = f"{dbf.name}: DBF 文件头不完整 / truncated DBF header"
        raise GisFileError(msg, field="dbf", value=len(data))
    records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    fields: list[tuple[int, int]] = []  # (offset in record, length) of character fields
    offset = 1  # byte 0 of a record is the deletion flag
    pos = 32
    while pos + 32 <= header_len and data[pos] != 0x0D:
        descriptor = data[pos : pos + 32]
        yield descriptor[:11].split(b"\x00", 1)[0]
        kind, length = chr(descriptor[11]), descriptor[16]
        if kind == "C":
            length += descriptor[17] * 256  # character fields may use the decimal byte as high byte
            fields.append((offset, length))
        offset += length
        pos += 32
    for i in range(records):
        start = header_len + i * record_len
        record = data[start : start + record_len]
        for field_offset, length in fields:
            yield record[field_offset : field_offset + length].rstrip(b" \x00")


def decodes_strictly(chunks: Iterator[bytes], encoding: str) -> bool:
    """True when every chunk decodes under ``encoding`` with no error."""
    decoder = codecs.getdecoder(encoding)
    try:
        for chunk in chunks:
            if chunk:
                decoder(chunk, "strict")
    except UnicodeDecodeError:
        return False
    return True


def shapefile_encoding(shp: Path, *, override: str | None = None) -> tuple[str, str]:
    """(encoding, where it came from) for a Shapefile, by the DOMAIN.md rule."""
    if override:
        return codec_name(override, origin=shp.name), FROM_OPTION
    cpg = _sibling(shp, ".cpg")
    if cpg is not None:
        raw = cpg.read_bytes().decode("ascii", errors="replace").strip()
        if raw:
            return codec_name(raw, origin=cpg.name), FROM_CPG
    dbf = _sibling(shp, ".dbf")
    if dbf is None:
        msg = f"{shp.name}: 缺少 .dbf 属性文件 / the .dbf part of the Shapefile is missing"
        raise GisFileError(msg, field="dbf", value=None)
    ldid = dbf_language_byte(dbf)
    if ldid in DBF_LANGUAGE_CODEPAGES:
        name = codecs.lookup(DBF_LANGUAGE_CODEPAGES[ldid]).name
        return name, f"{FROM_LANGUAGE_BYTE} 0x{ldid:02X}"
    if decodes_strictly(dbf_text_fields(dbf), "utf-8"):
        return "utf-8", FROM_STRICT_UTF8
    return "gb18030", FROM_FALLBACK


def _sibling(path: Path, suffix: str) -> Path | None:
    """The file next to ``path`` with ``suffix``, in either letter case."""
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None


# --- reading --------------------------------------------------------------------------------


def read_gis_file(
    path: str | Path, *, encoding: str | None = None, layer: str | None = None
) -> GisFile:
    """Read a GeoPackage, GeoJSON, Shapefile or zipped Shapefile into memory."""
    source = Path(path)
    if not source.exists():
        msg = f"{source}: 文件不存在 / file not found"
        raise GisFileError(msg, field="file", value=str(source))
    suffix = source.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        msg = (
            f"{source.name}: 不支持的文件类型 {suffix or '(无扩展名)'}; 支持 "
            f"{', '.join(SUPPORTED_SUFFIXES)} / unsupported file type"
        )
        raise GisFileError(msg, field="file", value=source.name)
    if suffix == ".zip":
        return _read_zip(source, encoding=encoding, layer=layer)
    if suffix == ".shp":
        return _read_shapefile(source, encoding=encoding, shown=source)
    if suffix == ".gpkg":
        return _read_geopackage(source, encoding=encoding, layer=layer)
    return _read_geojson(source, encoding=encoding)


def _read_shapefile(shp: Path, *, encoding: str | None, shown: Path) -> GisFile:
    enc, origin = shapefile_encoding(shp, override=encoding)
    frame = _read_frame(shp, shown=shown, encoding=enc, layer=None)
    notes: tuple[str, ...] = ()
    if _sibling(shp, ".prj") is None:
        notes = ("无 .prj 文件 / no .prj file",)
    return GisFile(
        path=shown,
        frame=frame,
        driver="ESRI Shapefile",
        layer=None,
        file_crs=frame.crs,
        encoding=enc,
        encoding_source=origin,
        notes=notes,
    )


def _read_geopackage(gpkg: Path, *, encoding: str | None, layer: str | None) -> GisFile:
    layers = [str(name) for name, _kind in _list_layers(gpkg)]
    chosen = layer
    if chosen is None:
        if len(layers) != 1:
            msg = (
                f"{gpkg.name}: 含 {len(layers)} 个图层 ({', '.join(layers)}), 请用 --layer 指定 / "
                "the GeoPackage has several layers: name one with --layer"
            )
            raise GisFileError(msg, field="layer", value=layers)
        chosen = layers[0]
    elif chosen not in layers:
        msg = f"{gpkg.name}: 没有图层 {chosen!r} (有: {', '.join(layers)}) / no such layer"
        raise GisFileError(msg, field="layer", value=chosen)
    frame = _read_frame(gpkg, shown=gpkg, encoding=None, layer=chosen)
    notes: tuple[str, ...] = ()
    if encoding:
        notes = ("GeoPackage 文字总是 UTF-8, 忽略 --encoding / GeoPackage text is always UTF-8",)
    return GisFile(
        path=gpkg,
        frame=frame,
        driver="GPKG",
        layer=chosen,
        file_crs=frame.crs,
        encoding="utf-8",
        encoding_source=FROM_FORMAT,
        notes=notes,
    )


def _read_geojson(path: Path, *, encoding: str | None) -> GisFile:
    data = path.read_bytes()
    if encoding:
        enc, origin = codec_name(encoding, origin=path.name), FROM_OPTION
    elif decodes_strictly(iter([data]), "utf-8"):
        enc, origin = "utf-8", FROM_STRICT_UTF8
    else:
        enc, origin = "gb18030", FROM_FALLBACK
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as exc:
        msg = (
            f"{path.name}: 第 {exc.start} 字节起无法按 {enc} 解码 / "
            f"cannot decode byte {exc.start} as {enc}"
        )
        raise GisFileError(msg, field="encoding", value=enc) from exc
    text = text.lstrip("\ufeff")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path.name}: 第 {exc.lineno} 行不是有效的 JSON ({exc.msg}) / invalid JSON"
        raise GisFileError(msg, field="file", value=exc.lineno) from exc
    has_crs = isinstance(document, dict) and document.get("crs") is not None
    source: Path | io.BytesIO = path if enc == "utf-8" else io.BytesIO(text.encode("utf-8"))
    frame = _read_frame(source, shown=path, encoding=None, layer=None)
    notes: tuple[str, ...] = ()
    if not has_crs:
        notes = (
            "GeoJSON 未写 crs 成员 (RFC 7946 默认 WGS84, 但国内网络地图导出的常为 GCJ-02) / "
            "the GeoJSON has no crs member",
        )
    return GisFile(
        path=path,
        frame=frame,
        driver="GeoJSON",
        layer=None,
        file_crs=frame.crs if has_crs else None,
        encoding=enc,
        encoding_source=origin,
        notes=notes,
    )


def _read_zip(archive: Path, *, encoding: str | None, layer: str | None) -> GisFile:
    try:
        bundle = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        msg = f"{archive.name}: 不是有效的 zip 文件 / not a valid zip file"
        raise GisFileError(msg, field="file", value=archive.name) from exc
    with bundle, tempfile.TemporaryDirectory(prefix="rural-zip-") as folder:
        members = [m for m in bundle.infolist() if not m.is_dir()]
        shapefiles = [m for m in members if m.filename.lower().endswith(".shp")]
        others = [m for m in members if m.filename.lower().endswith((".gpkg", ".geojson"))]
        candidates = shapefiles or others
        if layer is not None:
            candidates = [m for m in candidates if PurePosixPath(m.filename).stem == layer]
        if len(candidates) != 1:
            names = ", ".join(m.filename for m in (shapefiles or others)) or "无 / none"
            msg = (
                f"{archive.name}: 压缩包内应有且只有一个图层 (找到: {names}); 用 --layer 指定 / "
                "the zip must hold exactly one Shapefile (or name one with --layer)"
            )
            raise GisFileError(msg, field="layer", value=names)
        chosen = PurePosixPath(candidates[0].filename)
        target = Path(folder)
        # Extract only the chosen layer's parts, by base name (no paths from the archive).
        for member in members:
            name = PurePosixPath(member.filename)
            if name.parent == chosen.parent and name.stem == chosen.stem:
                (target / name.name).write_bytes(bundle.read(member))
        inner = target / chosen.name
        shown = Path(f"{archive}!{chosen}")
        if chosen.suffix.lower() == ".shp":
            result = _read_shapefile(inner, encoding=encoding, shown=shown)
        elif chosen.suffix.lower() == ".gpkg":
            result = _read_geopackage(inner, encoding=encoding, layer=None)
        else:
            result = _read_geojson(inner, encoding=encoding)
        return GisFile(
            path=shown,
            frame=result.frame,
            driver=result.driver,
            layer=result.layer,
            file_crs=result.file_crs,
            encoding=result.encoding,
            encoding_source=result.encoding_source,
            notes=result.notes,
        )


def _list_layers(path: Path) -> list[tuple[str, str]]:
    try:
        return [(str(a), str(b)) for a, b in pyogrio.list_layers(path)]
    except (DataSourceError, DataLayerError) as exc:
        msg = f"{path.name}: 无法打开 / cannot open ({exc})"
        raise GisFileError(msg, field="file", value=path.name) from exc


def _read_frame(
    source: Path | io.BytesIO, *, shown: Path, encoding: str | None, layer: str | None
) -> gpd.GeoDataFrame:
    try:
        with warnings.catch_warnings():
            # GDAL's chatter about measured geometries etc. is not an error of the file.
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = pyogrio.read_dataframe(source, layer=layer, encoding=encoding)
    except UnicodeDecodeError as exc:
        msg = (
            f"{shown.name}: 文字无法按 {encoding} 解码 (位置 {exc.start}), 请用 --encoding 指定 / "
            f"text does not decode as {encoding}: pass --encoding"
        )
        raise GisFileError(msg, field="encoding", value=encoding) from exc
    except (DataSourceError, DataLayerError) as exc:
        msg = f"{shown.name}: 无法读取 / cannot read ({exc})"
        raise GisFileError(msg, field="file", value=shown.name) from exc
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        msg = f"{shown.name}: 没有几何图形 / the layer has no geometry"
        raise GisFileError(msg, field="geometry", value=None)
    return frame
