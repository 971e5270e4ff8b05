"""Reading GIS files: the encoding rule over a corpus the suite builds; zip, GeoJSON, GeoPackage."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import pyogrio
import pytest

from gis.io import (
    FROM_CPG,
    FROM_FALLBACK,
    FROM_LANGUAGE_BYTE,
    FROM_OPTION,
    FROM_STRICT_UTF8,
    dbf_text_fields,
    read_gis_file,
)
from rural.errors import GisFileError
from tests import gis_corpus as corpus

EXPECTED_NAMES = [p.name for p in corpus.villages()]
EXPECTED_CODES = [p.code for p in corpus.villages()]


@pytest.mark.parametrize(
    ("build", "encoding", "source"),
    [
        (corpus.gbk_with_cpg, "gbk", FROM_CPG),
        (corpus.gbk_language_byte_only, "gbk", f"{FROM_LANGUAGE_BYTE} 0x4D"),
        (corpus.gbk_no_hint, "gb18030", FROM_FALLBACK),
        (corpus.utf8_no_cpg, "utf-8", FROM_STRICT_UTF8),
    ],
    ids=["gbk-cpg", "gbk-language-byte", "gbk-no-hint", "utf8-no-cpg"],
)
def test_shapefile_encoding_rule(
    tmp_path: Path, build: Callable[[Path], Path], encoding: str, source: str
) -> None:
    path = build(tmp_path)
    read = read_gis_file(path)
    assert read.encoding == encoding
    assert read.encoding_source == source
    assert list(read.frame["name"]) == EXPECTED_NAMES  # 王家村, 黄泥垄村 ... exactly
    assert list(read.frame["code"]) == EXPECTED_CODES


def test_the_corpus_really_lacks_the_hints(tmp_path: Path) -> None:
    """The no-hint files are what they claim: no .cpg, language byte 0, and GDAL left to
    itself reads them as mojibake (the reason for the rule)."""
    path = corpus.gbk_no_hint(tmp_path)
    assert not path.with_suffix(".cpg").exists()
    assert path.with_suffix(".dbf").read_bytes()[29] == 0
    ldid = corpus.gbk_language_byte_only(tmp_path)
    assert ldid.with_suffix(".dbf").read_bytes()[29] == 0x4D
    assert not ldid.with_suffix(".cpg").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = pyogrio.read_dataframe(path)
    assert list(raw["name"]) != EXPECTED_NAMES
    assert "赤" not in "".join(raw["name"])


def test_utf8_without_cpg_is_read_not_refused(tmp_path: Path) -> None:
    read = read_gis_file(corpus.utf8_no_cpg(tmp_path))
    assert read.encoding == "utf-8"
    assert "黄泥垄村" in list(read.frame["name"])


def test_dbf_text_fields_returns_the_raw_strings(tmp_path: Path) -> None:
    path = corpus.gbk_no_hint(tmp_path)
    chunks = list(dbf_text_fields(path.with_suffix(".dbf")))
    assert chunks[:2] == [b"code", b"name"]  # field names first
    assert "赤石村".encode("gbk") in chunks
    assert EXPECTED_CODES[0].encode() in chunks


def test_encoding_option_overrides_everything(tmp_path: Path) -> None:
    path = corpus.gbk_with_cpg(tmp_path)
    path.with_suffix(".cpg").write_text("UTF-8")  # a lying .cpg
    with pytest.raises(GisFileError, match="utf-8"):
        read_gis_file(path)
    read = read_gis_file(path, encoding="GBK")
    assert read.encoding_source == FROM_OPTION
    assert list(read.frame["name"]) == EXPECTED_NAMES


@pytest.mark.parametrize("cpg_text", ["936", "CP936", "ANSI 936", "gb2312", "GBK"])
def test_cpg_spellings(tmp_path: Path, cpg_text: str) -> None:
    path = corpus.gbk_with_cpg(tmp_path)
    path.with_suffix(".cpg").write_text(cpg_text)
    read = read_gis_file(path)
    assert read.encoding in ("gbk", "gb2312")
    assert list(read.frame["name"]) == EXPECTED_NAMES


def test_unknown_encoding_is_refused(tmp_path: Path) -> None:
    path = corpus.gbk_with_cpg(tmp_path)
    with pytest.raises(GisFileError, match="unknown text encoding"):
        read_gis_file(path, encoding="klingon")


def test_zipped_shapefile(tmp_path: Path) -> None:
    archive = corpus.zipped(corpus.gbk_language_byte_only(tmp_path), tmp_path / "村界.zip")
    read = read_gis_file(archive)
    assert read.driver == "ESRI Shapefile"
    assert read.encoding_source == f"{FROM_LANGUAGE_BYTE} 0x4D"
    assert list(read.frame["name"]) == EXPECTED_NAMES
    assert read.file_crs is not None
    assert read.file_crs.to_epsg() == 4490
    assert "村界.zip!" in str(read.path)


def test_zip_with_two_layers_needs_a_name(tmp_path: Path) -> None:
    import zipfile

    first = corpus.gbk_with_cpg(tmp_path)
    second = corpus.utf8_no_cpg(tmp_path)
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for part in first.parent.iterdir():
            bundle.write(part, f"a/{part.name}")
        for part in second.parent.iterdir():
            bundle.write(part, f"b/{part.name}")
    with pytest.raises(GisFileError, match="exactly one"):
        read_gis_file(archive)


def test_geojson_with_and_without_crs(tmp_path: Path) -> None:
    with_crs = read_gis_file(corpus.write_geojson(tmp_path / "a.geojson", corpus.villages()))
    assert with_crs.file_crs is not None
    assert with_crs.file_crs.to_epsg() == 4490
    assert list(with_crs.frame["name"]) == EXPECTED_NAMES
    without = read_gis_file(
        corpus.write_geojson(tmp_path / "b.geojson", corpus.villages(), crs_name=None)
    )
    assert without.file_crs is None  # RFC 7946's implicit WGS84 is not taken on trust
    assert any("crs" in note for note in without.notes)


def test_gbk_geojson_falls_back_to_gb18030(tmp_path: Path) -> None:
    path = corpus.write_geojson(tmp_path / "gbk.geojson", corpus.villages(), encoding="gbk")
    read = read_gis_file(path)
    assert read.encoding == "gb18030"
    assert list(read.frame["name"]) == EXPECTED_NAMES


def test_geopackage_layers(tmp_path: Path) -> None:
    path = tmp_path / "county.gpkg"
    pyogrio.write_dataframe(corpus.frame(corpus.villages()), path, layer="村")
    pyogrio.write_dataframe(corpus.frame(corpus.towns()), path, layer="乡镇", append=False)
    with pytest.raises(GisFileError, match="--layer"):
        read_gis_file(path)
    read = read_gis_file(path, layer="村")
    assert read.encoding == "utf-8"
    assert list(read.frame["name"]) == EXPECTED_NAMES
    towns = read_gis_file(path, layer="乡镇")
    assert list(towns.frame["name"]) == ["赤石乡", "石门乡"]
    with pytest.raises(GisFileError, match="no such layer"):
        read_gis_file(path, layer="县")


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("a.kml", b"<kml/>", "unsupported file type"),
        ("a.zip", b"not a zip", "not a valid zip"),
        ("a.geojson", b"{", "invalid JSON"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, name: str, content: bytes, match: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(GisFileError, match=match):
        read_gis_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GisFileError, match="not found"):
        read_gis_file(tmp_path / "nope.shp")
