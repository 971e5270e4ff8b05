"""``rural map KIND [--unit CODE] -o FILE``: standalone HTML files from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from maps.assets import external_references
from rural import clock, migrate
from rural.cli import app
from rural.db import make_engine
from rural.settings import get_settings
from tests import mapworld as w

YEAR = f"{clock.today().year}年"  # the maps' default period: this year


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'rural.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    w.build_map_world(engine)
    engine.dispose()
    return url


@pytest.fixture
def run(database: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("RURAL_DATABASE_URL", database)
    monkeypatch.setenv("RURAL_BASE_URL", "http://rural.county.gov.cn:8000")
    get_settings.cache_clear()
    return CliRunner()


# The command line shares build_map with the served maps (every kind is built in
# test_maps_kinds.py); here three kinds: the county default, the chain, a village.
@pytest.mark.parametrize("kind", ["overview", "chain", "village"])
def test_saves_a_standalone_file(run: CliRunner, tmp_path: Path, kind: str) -> None:
    out = tmp_path / f"{kind}.html"
    args = ["map", kind, "-o", str(out)]
    if kind == "village":
        args += ["--unit", w.A1]
    result = run.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "已保存" in result.output
    html = out.read_text(encoding="utf-8")
    assert "<script src=" not in html
    assert 'rel="stylesheet"' not in html
    assert "charset=UTF-8" in html[:1024]
    assert '<span class="rural-demo-badge">示例数据</span>' in html
    assert w.HOSTILE not in html
    # The only other host a saved map names is the app's, in its links (never loaded).
    assert "http://rural.county.gov.cn:8000/official?unit=" in html.replace("\\/", "/")
    # Outside the inlined libraries nothing refers to another host (the browser test opens
    # the file and sees no request at all).
    body = html.split("<body>", 1)[1]
    assert external_references(body) == []


def test_the_default_unit_is_the_county(run: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "overview.html"
    result = run.invoke(app, ["map", "overview", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (
        f"<title>清溪县 农村人居环境总览 · 无害化卫生厕所普及率 · {YEAR}</title>"
        in out.read_text("utf-8")
    )
    town = tmp_path / "town.html"
    result = run.invoke(app, ["map", "overview", "--unit", w.TOWN_B, "-o", str(town)])
    assert result.exit_code == 0, result.output
    assert "<title>乙乡 农村人居环境总览" in town.read_text("utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["map", "heatmap"], "没有这种地图"),
        (["map", "village"], "村详图需要村级单位"),
        (["map", "overview", "--unit", "33112810"], "division code must be 12 digits"),
        (["map", "overview", "--indicator", "nope"], "not a village indicator"),
    ],
)
def test_errors_are_named_and_exit_2(
    run: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "x.html"
    result = run.invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 2
    assert message in result.output.replace("\n", "")
    assert not out.exists()


def test_an_empty_database_has_no_county_to_draw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RURAL_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["map", "overview", "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 2
    assert "数据库中没有县级单位" in result.output.replace("\n", "")


def test_a_bad_base_url_is_an_error_not_a_traceback(
    run: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message quotes the form http(s)://host[:port][/path]: printed as text, not read as
    rich markup (which crashed on '[/path]')."""
    monkeypatch.setenv("RURAL_BASE_URL", "rural.local")
    get_settings.cache_clear()
    out = tmp_path / "x.html"
    try:
        result = run.invoke(app, ["map", "sewage", "-o", str(out)])
    finally:
        get_settings.cache_clear()  # the next test reads its own environment
    assert result.exit_code == 2, result.output
    assert "[:port][/path]" in result.output.replace("\n", "")
    assert not out.exists()


def test_a_map_says_which_period_it_shows(run: CliRunner, tmp_path: Path) -> None:
    """Two saved overviews of the same county, 2025 and the third quarter of 2026, are told
    apart by their titles."""
    for period, label in (("2025", "2025年"), ("2026Q3", "2026年第3季度")):
        out = tmp_path / f"{period}.html"
        result = run.invoke(app, ["map", "overview", "--period", period, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert f"农村人居环境总览 · 无害化卫生厕所普及率 · {label}</title>" in out.read_text(
            "utf-8"
        )
