"""Round trip on the demo county: export, restore into an empty database, export again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyogrio
from sqlalchemy import Engine

from gis.export import export_gpkg
from gis.restore import restore_gpkg
from rural.demo import DemoParams, load_demo
from tests.test_export import assert_same_layers, dump, read_layers, table_counts


def test_demo_county_round_trip(tmp_path: Path, make_db: Callable[[str], Engine]) -> None:
    source = make_db(f"sqlite:///{tmp_path / 'demo.db'}")
    load_demo(source, DemoParams(villages=30, households=3000, seed=11), actor="test")
    counts = table_counts(source)
    assert counts["household"] == 3000
    first = export_gpkg(source, tmp_path / "one.gpkg", include_personal=True)
    assert pyogrio.read_info(first.path, layer="农户")["features"] == 3000

    target = make_db(f"sqlite:///{tmp_path / 'restored.db'}")
    restore_gpkg(target, first.path)
    assert table_counts(target) == counts
    assert dump(target) == dump(source)

    second = export_gpkg(target, tmp_path / "two.gpkg", include_personal=True)
    assert first.layers == second.layers
    assert_same_layers(read_layers(first.path), read_layers(second.path))
