"""OGC API Features at /ogc: in process, and read by GDAL (pyogrio's OAPIF driver) from a real
server with a personal access token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pyogrio
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, Polygon
from sqlmodel import Session

from api.app import create_app
from rural.models import Unit
from tests.apiworld import (
    HOUSEHOLDER,
    ID_NUMBER,
    VILLAGE_A1,
    VILLAGE_A2,
    World,
    running_server,
)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings)) as test_client:
        yield test_client


def test_landing_links_the_openapi_document(world: World, client: TestClient) -> None:
    headers = world.bearer("official_a")
    landing = client.get("/ogc", headers=headers)
    assert landing.status_code == 200
    links = {link["rel"]: link for link in landing.json()["links"]}
    assert set(links) >= {"self", "service-desc", "conformance", "data"}
    assert links["service-desc"]["href"].endswith("/openapi.json")
    assert links["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    assert not links["data"]["href"].endswith("/")
    assert client.get("/openapi.json").json()["paths"]["/ogc/collections/{collection_id}/items"]
    conformance = client.get("/ogc/conformance", headers=headers).json()["conformsTo"]
    # OGC API - Features - Part 1: Core (OGC 17-069r4), requirement classes 7.2 Core and 7.12
    # GeoJSON. Not oas30: the API definition FastAPI serves is OpenAPI 3.1, not 3.0.
    assert conformance == [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    ]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30" not in conformance


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        (
            "official_a",
            {
                "towns",
                "villages",
                "households",
                "collection_points",
                "transfer_stations",
                "treatment_facilities",
                "sewage_facilities",
                "public_toilets",
            },
        ),
        ("eco_a", {"towns", "villages", "sewage_facilities"}),
    ],
)
def test_collections_follow_the_callers_line(
    world: World, client: TestClient, username: str, expected: set[str]
) -> None:
    listed = client.get("/ogc/collections", headers=world.bearer(username)).json()
    assert {c["id"] for c in listed["collections"]} == expected
    if username == "eco_a":
        refused = client.get("/ogc/collections/households/items", headers=world.bearer(username))
        assert refused.status_code == 404


def test_items_paging_bbox_and_scope(
    world: World, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = world.bearer("admin_a")
    url = "/ogc/collections/villages/items"
    first = client.get(url, params={"limit": 1}, headers=headers)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/geo+json")
    assert first.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    page = first.json()
    assert page["numberMatched"] == 2
    assert page["numberReturned"] == 1
    next_link = next(link["href"] for link in page["links"] if link["rel"] == "next")
    second = client.get(next_link.removeprefix("http://testserver"), headers=headers).json()
    assert [f["id"] for f in page["features"] + second["features"]] == [
        "331128101201",
        "331128101202",
    ]
    assert not any(link["rel"] == "next" for link in second["links"])
    # County B's villages never appear: not in the admin's scope.
    everything = client.get(url, params={"limit": 1000}, headers=headers).json()
    assert all(f["id"].startswith("331128") for f in everything["features"])
    # bbox picks the second village only (it starts at 119.2 E).
    boxed = client.get(url, params={"bbox": "119.15,27.9,119.5,28.5"}, headers=headers).json()
    assert [f["id"] for f in boxed["features"]] == ["331128101202"]
    for params, field in [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox-crs": "EPSG:3857", "bbox": "1,2,3,4"}, "bbox-crs"),
        ({"limit": 0}, "limit"),
        ({"limit": -1}, "limit"),
        ({"bbox": "119.0,300,119.1,301"}, "bbox"),  # no such latitude
        ({"householder": "王"}, "householder"),  # an unknown parameter is not ignored
        ({"f": "html"}, "f"),
    ]:
        bad = client.get(url, params=params, headers=headers)
        assert bad.status_code == 400, params  # OGC API Features: 400, not 422
        assert bad.json()["field"] == field
    # a limit above the maximum is served in pages of the maximum, not refused: with the
    # maximum configured down to 1, a request for 5 gets 1 and a next link within the maximum
    with monkeypatch.context() as patch:
        patch.setattr("api.ogc.MAX_LIMIT", 1)
        capped = client.get(url, params={"limit": 5}, headers=headers)
        assert capped.status_code == 200
        body = capped.json()
        assert (body["numberMatched"], body["numberReturned"]) == (2, 1)
        assert [f["id"] for f in body["features"]] == ["331128101201"]
        capped_next = next(link["href"] for link in body["links"] if link["rel"] == "next")
        query = parse_qs(urlsplit(capped_next).query)
        assert int(query["limit"][0]) <= 1
        assert query["offset"] == ["1"]
        rest = client.get(capped_next.removeprefix("http://testserver"), headers=headers).json()
        assert [f["id"] for f in rest["features"]] == ["331128101202"]
        assert not any(link["rel"] == "next" for link in rest["links"])
    other = world.outside.ids["collection_point"]
    item = client.get(f"/ogc/collections/collection_points/items/{other}", headers=headers)
    assert item.status_code == 403


def test_households_are_masked_unless_the_role_may_see_them(
    world: World, client: TestClient
) -> None:
    household = world.inside.ids["household"]
    url = f"/ogc/collections/households/items/{household}"
    shown = client.get(url, headers=world.bearer("cadre_a")).json()["properties"]
    assert shown["householder"] == HOUSEHOLDER
    masked = client.get(url, headers=world.bearer("reviewer_a"))
    assert masked.json()["properties"]["householder"] == "王**"
    assert HOUSEHOLDER not in masked.text
    assert ID_NUMBER not in masked.text


def test_gdal_reads_a_collection_with_a_personal_access_token(world: World, tmp_path: Path) -> None:
    bearer = world.bearer("reviewer_a")
    world.engine.dispose()
    with running_server(world.settings.database_url, tmp_path) as server:
        created = httpx.post(
            server.base_url + "/api/me/tokens", json={"name": "GDAL"}, headers=bearer
        )
        token = created.json()["token"]
        source = f"OAPIF:{server.base_url}/ogc"
        pyogrio.set_gdal_config_options(
            {"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"reviewer_a:{token}"}
        )
        try:
            layers = {str(name) for name, _ in pyogrio.list_layers(source)}
            households = pyogrio.read_dataframe(source, layer="households")
            points = pyogrio.read_dataframe(source, layer="collection_points")
        finally:
            pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_USERPWD": None})
        # Without credentials GDAL cannot open the service.
        with pytest.raises(pyogrio.errors.DataSourceError):
            pyogrio.list_layers(source)
    assert {"villages", "households", "collection_points"} <= layers
    assert list(households["householder"]) == ["王**"]
    assert ID_NUMBER not in households.to_string()
    assert list(points["name"]) == ["村口收集点"]
    assert points.crs is not None
    assert points.geometry.iloc[0].x == pytest.approx(119.01)
    print(f"\nGDAL OAPIF read: {len(layers)} layers; collection_points {len(points)} feature(s)")


def test_bbox_keeps_areas_whose_shape_meets_it(world: World, client: TestClient) -> None:
    """李家村 becomes the lower-left triangle of its square: a box in the square's upper-right
    corner meets its bounding box but not the village, so it is not returned (nor counted);
    a box over the triangle is. A revoked village is not served by id either."""
    with Session(world.engine) as session:
        village = session.get(Unit, VILLAGE_A2)
        assert village is not None
        village.geom = MultiPolygon([Polygon([(119.2, 28.0), (119.3, 28.0), (119.2, 28.1)])])
        session.add(village)
        session.commit()
    headers = world.bearer("admin_a")
    url = "/ogc/collections/villages/items"
    corner = client.get(url, params={"bbox": "119.28,28.08,119.29,28.09"}, headers=headers)
    assert (corner.json()["numberMatched"], corner.json()["features"]) == (0, [])
    inside = client.get(url, params={"bbox": "119.21,28.01,119.22,28.02"}, headers=headers)
    assert [f["id"] for f in inside.json()["features"]] == [VILLAGE_A2]
    with Session(world.engine) as session:
        village = session.get(Unit, VILLAGE_A2)
        assert village is not None
        village.valid_to = date(2026, 6, 30)
        session.add(village)
        session.commit()
    assert client.get(f"{url}/{VILLAGE_A2}", headers=headers).status_code == 404
    assert client.get(f"{url}/{VILLAGE_A1}", headers=headers).status_code == 200
