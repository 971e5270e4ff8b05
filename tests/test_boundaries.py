"""Boundary import: matching by code and by name, CRS rules, GCJ-02, swapped axes, repair,
encodings, all-or-nothing writes (unless --skip-unmatched), re-imports that change nothing, the
change log, the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, box, mapping
from sqlalchemy import Engine, func, text
from sqlmodel import Session, select
from typer.testing import CliRunner

from gis.boundaries import BoundaryFeaturesError, import_boundaries, name_key
from gis.crs import gcj02_from_wgs84
from rural.enums import ChangeAction, UnitLevel
from rural.errors import CoordinateError, CrsError
from rural.models import ChangeLog, Unit
from tests import gis_corpus as corpus

GEOD = Geod(ellps="GRS80")


def add_units(engine: Engine, *, official_suffix: bool = False) -> None:
    """The county, its towns and villages, without boundaries (as a division import leaves them).
    ``official_suffix`` names villages the way the division list does (王家村委会)."""
    with Session(engine) as session:
        session.add(Unit(code=corpus.COUNTY, name=corpus.COUNTY_NAME, level=UnitLevel.COUNTY))
        session.flush()
        for town in corpus.towns():
            session.add(
                Unit(code=town.code, name=town.name, level=UnitLevel.TOWN, parent_code=town.parent)
            )
        session.flush()
        for village in corpus.villages():
            name = village.name[:-1] + "村委会" if official_suffix else village.name
            session.add(
                Unit(
                    code=village.code,
                    name=name,
                    level=UnitLevel.VILLAGE,
                    parent_code=village.parent,
                    urban_rural_code="220",
                )
            )
        session.commit()


def stored(engine: Engine) -> dict[str, Unit]:
    with Session(engine) as session:
        return {u.code: u for u in session.exec(select(Unit))}


def log_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(ChangeLog)).one())


def assert_same_square(geom: MultiPolygon | None, expected: shapely.Polygon, tol: float) -> None:
    assert geom is not None
    assert geom.geom_type == "MultiPolygon"
    assert geom.is_valid
    assert np.allclose(geom.bounds, expected.bounds, atol=tol)
    assert geom.symmetric_difference(expected).area < (tol * 10) ** 2 + 1e-16


@pytest.mark.parametrize(
    "build",
    [
        corpus.gbk_with_cpg,
        corpus.gbk_language_byte_only,
        corpus.gbk_no_hint,
        corpus.utf8_no_cpg,
        lambda folder: corpus.zipped(corpus.gbk_no_hint(folder), folder / "村界.zip"),
    ],
    ids=["gbk-cpg", "gbk-language-byte", "gbk-no-hint", "utf8-no-cpg", "zip"],
)
def test_villages_match_by_code_from_every_encoding(
    tmp_path: Path, engine: Engine, build: Callable[[Path], Path]
) -> None:
    add_units(engine)
    report = import_boundaries(engine, build(tmp_path), level="village", actor="测绘员")
    villages = corpus.villages()
    assert sorted(code for _, code in report.matched_by_code) == sorted(v.code for v in villages)
    assert report.matched_by_name == []
    assert report.unmatched == []
    assert report.written == len(villages)
    assert report.crs_used.startswith("EPSG:4490")
    units = stored(engine)
    for village in villages:
        unit = units[village.code]
        assert_same_square(unit.geom, village.geom, 1e-9)
        # bbox columns follow the geometry
        assert (unit.minx, unit.miny, unit.maxx, unit.maxy) == pytest.approx(
            village.geom.bounds, abs=1e-12
        )
    assert units[corpus.COUNTY].geom is None  # other levels untouched
    with Session(engine) as session:
        logs = list(session.exec(select(ChangeLog)))
    assert {log.object_id for log in logs} == {v.code for v in villages}
    assert {log.actor for log in logs} == {"测绘员"}
    assert {log.action for log in logs} == {ChangeAction.UPDATE}
    expected_km2 = 0.02 * 110.574 * 0.02 * 111.320 * np.cos(np.radians(28.41))
    first = next(log for log in logs if log.object_id == villages[0].code)
    assert first.new is not None
    assert first.new["area_km2"] == pytest.approx(expected_km2, rel=5e-3)


def test_towns_then_villages_by_name_within_the_spatial_parent(
    tmp_path: Path, engine: Engine
) -> None:
    """No code field: villages match by name inside the town they lie in (both towns have a
    王家村), once the towns have boundaries."""
    add_units(engine, official_suffix=True)  # the database says 王家村委会, the file 王家村
    towns = corpus.write_geojson(tmp_path / "乡镇.geojson", corpus.towns())
    town_report = import_boundaries(engine, towns, level="town", actor="a")
    assert len(town_report.matched_by_code) == 2

    path = corpus.write_geojson(
        tmp_path / "村.geojson",
        corpus.villages(),
        properties=lambda p: {"村名": p.name},
    )
    report = import_boundaries(engine, path, level="village", actor="a")
    assert report.fields["code"] is None
    assert report.fields["name"] == "村名"
    assert sorted(code for _, code in report.matched_by_name) == sorted(
        v.code for v in corpus.villages()
    )
    units = stored(engine)
    for village in corpus.villages():
        assert_same_square(units[village.code].geom, village.geom, 1e-9)


def test_name_match_by_parent_field_and_ambiguity(tmp_path: Path, engine: Engine) -> None:
    add_units(engine)
    with_town = corpus.write_geojson(
        tmp_path / "a.geojson",
        corpus.villages(),
        properties=lambda p: {"name": p.name, "乡镇": dict(corpus.TOWNS)[p.parent]},
    )
    report = import_boundaries(engine, with_town, level="village", actor="a", dry_run=True)
    assert len(report.matched_by_name) == len(corpus.villages())
    assert report.unmatched == []
    # A parent that does not exist is reported, not widened to the whole database; a dry run
    # refuses the file just as the real run would.
    wrong_town = corpus.write_geojson(
        tmp_path / "w.geojson",
        corpus.villages()[:1],
        properties=lambda p: {"name": p.name, "乡镇": "不存在乡"},
    )
    with pytest.raises(BoundaryFeaturesError) as caught:
        import_boundaries(engine, wrong_town, level="village", actor="a", dry_run=True)
    assert [(ref.number, field, why) for ref, field, why in caught.value.problems] == [
        (1, "乡镇", "没有名为 不存在乡 的上级单位 / no parent of that name")
    ]
    report = import_boundaries(
        engine, wrong_town, level="village", actor="a", dry_run=True, skip_unmatched=True
    )
    assert [why for _, why in report.unmatched] == [
        "没有名为 不存在乡 的上级单位 / no parent of that name"
    ]
    # Without parent field and without town boundaries, the two 王家村 are ambiguous: the
    # file is refused, or with --skip-unmatched the other six are written.
    bare = corpus.write_geojson(
        tmp_path / "b.geojson", corpus.villages(), properties=lambda p: {"name": p.name}
    )
    with pytest.raises(BoundaryFeaturesError, match="ambiguous"):
        import_boundaries(engine, bare, level="village", actor="a")
    assert log_count(engine) == 0
    report = import_boundaries(engine, bare, level="village", actor="a", skip_unmatched=True)
    ambiguous = [ref for ref, why in report.unmatched if "ambiguous" in why]
    assert [ref.name for ref in ambiguous] == ["王家村", "王家村"]
    assert len(report.matched_by_name) == len(corpus.villages()) - 2
    wang = [v.code for v in corpus.villages() if v.name == "王家村"]
    assert all(stored(engine)[code].geom is None for code in wang)


def test_unmatched_and_closed_units_refuse_the_file_unless_skipped(
    tmp_path: Path, engine: Engine
) -> None:
    add_units(engine)
    villages = corpus.villages()
    closed = villages[1]
    with Session(engine) as session:
        unit = session.get(Unit, closed.code)
        assert unit is not None
        unit.valid_to = date(2024, 6, 30)
        session.add(unit)
        session.commit()
    stranger = corpus.Place(
        "331128103201", "不存在村", "331128103000", box(119.9, 28.5, 119.91, 28.51)
    )
    path = corpus.write_shapefile(tmp_path / "v" / "村.shp", corpus.frame([*villages, stranger]))
    with pytest.raises(BoundaryFeaturesError) as caught:
        import_boundaries(engine, path, level="village", actor="a")
    # Feature 2 names a closed unit by its code; feature 9 (8 villages + 1) has a code and a
    # name that match nothing. Nothing at all is written.
    assert [(ref.number, ref.code, field) for ref, field, _ in caught.value.problems] == [
        (2, closed.code, "code"),
        (len(villages) + 1, stranger.code, "name"),
    ]
    message = str(caught.value)
    assert "村.shp" in message
    assert f"第 2 个要素 代码 {closed.code} 名称 {closed.name}, 字段 code" in message
    assert "第 9 个要素 代码 331128103201 名称 不存在村, 字段 name" in message
    assert "--skip-unmatched" in message
    assert all(u.geom is None for u in stored(engine).values())
    assert log_count(engine) == 0

    report = import_boundaries(engine, path, level="village", actor="a", skip_unmatched=True)
    reasons = {ref.number: why for ref, why in report.unmatched}
    assert set(reasons) == {2, len(villages) + 1}
    assert "closed" in reasons[2]
    assert "no unit of that name" in reasons[len(villages) + 1]
    assert report.written == len(villages) - 1
    assert stored(engine)[closed.code].geom is None
    text_report = "\n".join(report.lines())
    assert "不存在村" in text_report
    assert "未匹配 unmatched: 2" in text_report


def test_file_without_crs_is_refused_unless_declared(tmp_path: Path, engine: Engine) -> None:
    add_units(engine)
    path = corpus.no_crs(tmp_path)
    with pytest.raises(CrsError, match="no CRS"):
        import_boundaries(engine, path, level="village", actor="a")
    assert log_count(engine) == 0
    assert all(u.geom is None for u in stored(engine).values())
    report = import_boundaries(engine, path, level="village", actor="a", crs="EPSG:4490")
    assert report.written == len(corpus.villages())
    assert report.file_crs.startswith("无")
    assert report.crs_note is not None
    assert "no file CRS" in report.crs_note


def test_geojson_without_crs_member_is_refused_unless_declared(
    tmp_path: Path, engine: Engine
) -> None:
    add_units(engine)
    path = corpus.write_geojson(tmp_path / "a.geojson", corpus.villages(), crs_name=None)
    with pytest.raises(CrsError, match="--crs"):
        import_boundaries(engine, path, level="village", actor="a")
    report = import_boundaries(engine, path, level="village", actor="a", crs="EPSG:4326")
    assert report.written == len(corpus.villages())


def test_declared_gcj02_on_geojson_is_converted(tmp_path: Path, engine: Engine) -> None:
    """The file holds GCJ-02 coordinates (what a web-map tool exports) and says WGS84."""
    add_units(engine)
    villages = corpus.villages()
    offset = [corpus.shift(v.geom, gcj02_from_wgs84) for v in villages]
    path = corpus.write_geojson(
        tmp_path / "gcj.geojson", villages, geoms=offset, crs_name="urn:ogc:def:crs:OGC:1.3:CRS84"
    )
    report = import_boundaries(engine, path, level="village", actor="a", crs="gcj02")
    assert report.written == len(villages)
    assert report.crs_note is not None
    assert "gcj02" in report.crs_note
    assert "EPSG:4326" in report.crs_note
    units = stored(engine)
    for village, in_file in zip(villages, offset, strict=True):
        geom = units[village.code].geom
        assert_same_square(geom, village.geom, 1e-7)
        # The stored corner is a few hundred metres from the file's corner (east and north).
        assert geom is not None
        x0, y0 = geom.bounds[:2]
        fx, fy = in_file.bounds[:2]
        _, _, moved = GEOD.inv(x0, y0, fx, fy)
        assert 400 < moved < 700
        _, _, east = GEOD.inv(x0, y0, fx, y0)
        assert 400 < east < 500
    # Taken as what the file claims (WGS84), the same file lands ~570 m off.
    import_boundaries(engine, path, level="village", actor="a")
    wrong = stored(engine)[villages[0].code].geom
    assert wrong is not None
    assert not np.allclose(wrong.bounds, villages[0].geom.bounds, atol=1e-3)


def test_geopackage_with_and_without_crs(tmp_path: Path, engine: Engine) -> None:
    import warnings

    import pyogrio

    add_units(engine)
    good, bare = tmp_path / "good.gpkg", tmp_path / "bare.gpkg"
    pyogrio.write_dataframe(corpus.frame(corpus.villages()), good, layer="村")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "crs was not provided"
        pyogrio.write_dataframe(corpus.frame(corpus.villages(), crs=None), bare, layer="村")
    with pytest.raises(CrsError, match="no CRS"):
        import_boundaries(engine, bare, level="village", actor="a")
    report = import_boundaries(engine, good, level="village", actor="a")
    assert report.written == len(corpus.villages())
    assert report.encoding == "utf-8"
    for village in corpus.villages():
        assert_same_square(stored(engine)[village.code].geom, village.geom, 1e-9)


def test_gauss_kruger_file_is_accepted(tmp_path: Path, engine: Engine) -> None:
    add_units(engine)
    report = import_boundaries(
        engine, corpus.gauss_kruger_shapefile(tmp_path), level="village", actor="a"
    )
    assert report.written == len(corpus.villages())
    assert report.unchanged == []
    assert "4549" in report.file_crs
    units = stored(engine)
    for village in corpus.villages():
        assert_same_square(units[village.code].geom, village.geom, 1e-8)


def test_declared_crs_wins_over_a_wrong_prj(tmp_path: Path, engine: Engine) -> None:
    """Gauss-Kruger metres in a file whose .prj claims CGCS2000 degrees: the file's claim
    lands outside China (and says so); declaring EPSG:4549 imports it."""
    add_units(engine)
    projected = corpus.frame(corpus.villages()).to_crs("EPSG:4549")
    wrong = projected.set_crs("EPSG:4490", allow_override=True)
    path = corpus.write_shapefile(tmp_path / "w" / "村.shp", wrong)
    with pytest.raises(CoordinateError, match="projected metres"):
        import_boundaries(engine, path, level="village", actor="a")
    report = import_boundaries(engine, path, level="village", actor="a", crs="EPSG:4549")
    assert report.crs_note is not None
    assert "4549" in report.crs_note
    for village in corpus.villages():
        assert_same_square(stored(engine)[village.code].geom, village.geom, 1e-8)


@pytest.mark.parametrize("fmt", ["shapefile", "geojson"])
def test_swapped_axes_are_refused(tmp_path: Path, engine: Engine, fmt: str) -> None:
    add_units(engine)
    villages = corpus.villages()
    swapped = [corpus.swap_xy(v.geom) for v in villages]
    if fmt == "shapefile":
        path = corpus.write_shapefile(
            tmp_path / "s" / "村.shp", corpus.frame(villages, geoms=swapped)
        )
    else:
        path = corpus.write_geojson(tmp_path / "s.geojson", villages, geoms=swapped)
    with pytest.raises(CoordinateError, match="axes look swapped") as caught:
        import_boundaries(engine, path, level="village", actor="a")
    assert "第 1 个要素" in str(caught.value)
    assert villages[0].name in str(caught.value)
    assert log_count(engine) == 0


def test_outside_china_is_refused(tmp_path: Path, engine: Engine) -> None:
    add_units(engine)
    villages = corpus.villages()
    moved = [v.geom for v in villages]
    moved[3] = shapely.affinity.translate(moved[3], xoff=-119.0)  # near 0.8°E: Africa
    path = corpus.write_geojson(tmp_path / "o.geojson", villages, geoms=moved)
    with pytest.raises(CoordinateError, match="outside China") as caught:
        import_boundaries(engine, path, level="village", actor="a")
    assert "第 4 个要素" in str(caught.value)
    assert "axes look swapped" not in str(caught.value)
    assert all(u.geom is None for u in stored(engine).values())


def test_self_intersecting_polygon_is_repaired_and_reported(tmp_path: Path, engine: Engine) -> None:
    add_units(engine)
    villages = corpus.villages()
    shapes = [v.geom for v in villages]
    shapes[2] = corpus.bowtie(villages[2])
    path = corpus.write_shapefile(tmp_path / "b" / "村.shp", corpus.frame(villages, geoms=shapes))
    report = import_boundaries(engine, path, level="village", actor="a")
    assert [(ref.number, ref.name) for ref, _ in report.repaired] == [(3, villages[2].name)]
    assert "Self-intersection" in report.repaired[0][1]
    assert report.written == len(villages)
    geom = stored(engine)[villages[2].code].geom
    assert geom is not None
    assert geom.is_valid
    # A bow tie over a square of side s is two triangles meeting at the centre: area s²/2.
    assert geom.area == pytest.approx(corpus.CELL**2 / 2, rel=1e-9)
    assert len(geom.geoms) == 2


def test_features_of_one_unit_are_merged(tmp_path: Path, engine: Engine) -> None:
    add_units(engine)
    village = corpus.villages()[0]
    x0, y0, x1, y1 = village.geom.bounds
    mid = (x0 + x1) / 2
    halves = [box(x0, y0, mid, y1), box(mid, y0, x1, y1)]
    path = corpus.write_geojson(tmp_path / "m.geojson", [village, village], geoms=halves)
    report = import_boundaries(engine, path, level="village", actor="a")
    assert report.merged == [(village.code, 2)]
    assert_same_square(stored(engine)[village.code].geom, village.geom, 1e-9)


def write_features(path: Path, features: list[tuple[dict[str, Any], Any]]) -> Path:
    """A CGCS2000 FeatureCollection written by hand: (properties, GeoJSON geometry or None)."""
    document = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
        "features": [
            {"type": "Feature", "properties": props, "geometry": geometry}
            for props, geometry in features
        ],
    }
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def point_and_null_file(folder: Path) -> Path:
    """Three villages: a good square, a Point (inside the second village), a null geometry."""
    first, second, third = corpus.villages()[:3]
    return write_features(
        folder / "三村.geojson",
        [
            ({"code": first.code, "name": first.name}, mapping(first.geom)),
            (
                {"code": second.code, "name": second.name},
                {"type": "Point", "coordinates": [119.83, 28.41]},
            ),
            ({"code": third.code, "name": third.name}, None),
        ],
    )


def test_unusable_features_refuse_the_whole_file_unless_skipped(
    tmp_path: Path, engine: Engine
) -> None:
    add_units(engine)
    first, second, third = corpus.villages()[:3]
    path = point_and_null_file(tmp_path)
    with pytest.raises(BoundaryFeaturesError) as caught:
        import_boundaries(engine, path, level="village", actor="a")
    assert [(ref.number, ref.code, field) for ref, field, _ in caught.value.problems] == [
        (2, second.code, "geometry"),
        (3, third.code, "geometry"),
    ]
    message = str(caught.value)
    assert message.startswith("三村.geojson: 3 个要素中有 2 个不能导入")
    assert (
        f"第 2 个要素 代码 {second.code} 名称 {second.name}, 字段 geometry: "
        "不是面要素 (Point) / not a polygon"
    ) in message
    assert f"第 3 个要素 代码 {third.code} 名称 {third.name}, 字段 geometry: 无几何" in message
    assert all(u.geom is None for u in stored(engine).values())
    assert log_count(engine) == 0
    # Asked for explicitly: the good square is written, the other two are listed.
    report = import_boundaries(engine, path, level="village", actor="a", skip_unmatched=True)
    assert report.written == 1
    assert [ref.number for ref, _ in report.unmatched] == [2, 3]
    units = stored(engine)
    assert_same_square(units[first.code].geom, first.geom, 1e-9)
    assert units[second.code].geom is None
    assert units[third.code].geom is None
    assert log_count(engine) == 1


def _gcj02_geojson(folder: Path) -> Path:
    villages = corpus.villages()
    offset = [corpus.shift(v.geom, gcj02_from_wgs84) for v in villages]
    return corpus.write_geojson(folder / "gcj.geojson", villages, geoms=offset)


def _bowtie_shapefile(folder: Path) -> Path:
    villages = corpus.villages()
    shapes = [v.geom for v in villages]
    shapes[2] = corpus.bowtie(villages[2])
    return corpus.write_shapefile(folder / "b" / "村.shp", corpus.frame(villages, geoms=shapes))


@pytest.mark.parametrize(
    ("build", "crs"),
    [
        (corpus.gbk_with_cpg, None),
        (corpus.gauss_kruger_shapefile, None),  # reprojected on every import
        (_gcj02_geojson, "gcj02"),  # the offset undone (iteratively) on every import
        (_bowtie_shapefile, None),  # a self-intersecting polygon repaired on every import
    ],
    ids=["shapefile", "gauss-kruger", "gcj02", "repaired"],
)
def test_reimporting_the_same_file_changes_nothing(
    tmp_path: Path, engine: Engine, build: Callable[[Path], Path], crs: str | None
) -> None:
    add_units(engine)
    path = build(tmp_path)
    codes = sorted(v.code for v in corpus.villages())
    first = import_boundaries(engine, path, level="village", actor="a", crs=crs)
    assert (first.written, first.unchanged) == (8, [])
    before = stored(engine)
    # each village written once: version 1 → 2; the county and towns untouched
    assert {c: u.version for c, u in before.items() if c in codes} == dict.fromkeys(codes, 2)
    assert log_count(engine) == 8

    second = import_boundaries(engine, path, level="village", actor="a", crs=crs)
    assert second.written == 0
    assert sorted(second.unchanged) == codes
    assert log_count(engine) == 8
    after = stored(engine)
    assert {c: u.version for c, u in after.items()} == {c: u.version for c, u in before.items()}
    lines = second.lines()
    assert "  写入 written: 0" in lines
    assert "  边界未变 unchanged: 8" in lines


def test_only_changed_boundaries_are_written(tmp_path: Path, engine: Engine) -> None:
    add_units(engine)
    villages = corpus.villages()
    import_boundaries(
        engine, corpus.write_geojson(tmp_path / "a.geojson", villages), level="village", actor="a"
    )
    shapes: list[Any] = [v.geom for v in villages]
    # village 1: the same square, its ring starting at another corner and running clockwise
    x0, y0, x1, y1 = villages[0].geom.bounds
    shapes[0] = Polygon([(x1, y1), (x1, y0), (x0, y0), (x0, y1), (x1, y1)])
    # village 2: moved 1e-6° east (about 0.1 m): a real edit
    shapes[1] = shapely.affinity.translate(villages[1].geom, xoff=1e-6)
    # village 3: moved 1e-12° (floating-point noise, far below any file's precision)
    shapes[2] = shapely.affinity.translate(villages[2].geom, xoff=1e-12)
    path = corpus.write_geojson(tmp_path / "b.geojson", villages, geoms=shapes)
    report = import_boundaries(engine, path, level="village", actor="a")
    assert report.written == 1
    assert sorted(report.unchanged) == sorted(v.code for v in villages if v != villages[1])
    assert log_count(engine) == 8 + 1
    units = stored(engine)
    assert units[villages[1].code].version == 3
    assert {units[v.code].version for v in villages if v != villages[1]} == {2}
    moved = units[villages[1].code].geom
    assert moved is not None
    x0, y0, x1, y1 = villages[1].geom.bounds
    assert moved.bounds == pytest.approx((x0 + 1e-6, y0, x1 + 1e-6, y1), abs=1e-12)


def test_boundaries_on_postgis_and_sqlite(tmp_path: Path, any_engine: Engine) -> None:
    add_units(any_engine)
    path = corpus.gbk_language_byte_only(tmp_path)
    import_boundaries(any_engine, path, level="village", actor="a")
    units = stored(any_engine)
    for village in corpus.villages():
        assert_same_square(units[village.code].geom, village.geom, 1e-9)
    # What the database gives back compares equal to the file read again: nothing rewritten.
    again = import_boundaries(any_engine, path, level="village", actor="a")
    assert (again.written, len(again.unchanged)) == (0, len(corpus.villages()))
    assert log_count(any_engine) == len(corpus.villages())
    if any_engine.dialect.name == "postgresql":
        with any_engine.connect() as conn:
            srids = conn.execute(
                text("SELECT DISTINCT ST_SRID(geom) FROM unit WHERE geom IS NOT NULL")
            ).all()
        assert srids == [(4490,)]


def test_name_key() -> None:
    assert name_key("王家村委会") == "王家村"
    assert name_key(" 王家 村 ") == "王家村"
    assert name_key("城关社区居委会") == "城关社区"
    assert name_key("王家村村民委员会") == "王家村村"  # only one suffix is reduced
    assert name_key("村委会") == "村委会"


def test_cli(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from rural.cli import app
    from rural.db import make_engine
    from rural.migrate import upgrade

    monkeypatch.setenv("RURAL_DATABASE_URL", sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        upgrade(engine)
        add_units(engine)
        runner = CliRunner()
        no_crs = corpus.no_crs(tmp_path)
        result = runner.invoke(app, ["import", "boundaries", str(no_crs), "--level", "village"])
        assert result.exit_code == 2
        assert "--crs" in result.output
        result = runner.invoke(
            app,
            ["--as", "测绘员", "import", "boundaries", str(no_crs), "--level", "village",
             "--crs", "EPSG:4490"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert f"按代码匹配 matched by code: {len(corpus.villages())}" in result.output
        assert "encoding: gbk (.cpg)" in result.output
        with Session(engine) as session:
            actors = set(session.exec(select(ChangeLog.actor)))
        assert actors == {"测绘员"}
        again = runner.invoke(
            app, ["import", "boundaries", str(no_crs), "--level", "village", "--crs", "EPSG:4490"]
        )
        assert again.exit_code == 0, again.output
        assert "写入 written: 0" in again.output
        assert f"边界未变 unchanged: {len(corpus.villages())}" in again.output
        assert log_count(engine) == len(corpus.villages())

        bad = point_and_null_file(tmp_path)
        refused = runner.invoke(app, ["import", "boundaries", str(bad), "--level", "village"])
        assert refused.exit_code == 2
        assert "3 个要素中有 2 个不能导入" in refused.output
        assert "第 2 个要素" in refused.output
        assert "第 3 个要素" in refused.output
        assert "Traceback" not in refused.output
        assert log_count(engine) == len(corpus.villages())
        skipped = runner.invoke(
            app, ["import", "boundaries", str(bad), "--level", "village", "--skip-unmatched"]
        )
        assert skipped.exit_code == 0, skipped.output
        assert "未匹配 unmatched: 2" in skipped.output
        # the first square is the one already stored: nothing to write
        assert "写入 written: 0" in skipped.output
        helped = runner.invoke(app, ["import", "boundaries", "--help"])
        assert "--skip-unmatched" in helped.output
    finally:
        engine.dispose()
