"""OGC API - Features (Part 1: Core) at ``/ogc``, so QGIS and GDAL open the layers directly.

Landing page (linking the OpenAPI document as ``service-desc``), conformance, collections for
towns, villages, households and each facility kind, items with ``bbox``, ``limit``, ``offset``
and ``next`` links, and single features. Coordinates are CGCS2000 longitude/latitude served as
CRS84 (CGCS2000 and WGS84 differ by centimetres). Every request is authenticated (a personal
access token as bearer or as the HTTP Basic password suits GIS clients); features are limited
to the caller's scope, and personal fields are masked unless the caller may see them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import shapely
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from shapely.geometry import mapping
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from api.auth import api_principal
from api.deps import EngineDep
from api.routes.registries import KINDS_BY_TYPE, RegistryKind, public_record
from api.routes.units import UnitScope
from api.scopes import PolicyDep, PrincipalDep, sees_personal
from rural import clock, codes
from rural.enums import UnitLevel
from rural.errors import NotFoundError, ValidationError
from rural.masking import mask_record
from rural.models import Unit
from rural.permissions import Action, Actor, Domain, Policy

router = APIRouter(prefix="/ogc", tags=["OGC API Features"])

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GEOJSON = "application/geo+json"
JSON = "application/json"
# The API definition FastAPI serves is OpenAPI 3.1, so the oas30 class is not claimed.
OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.1"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
# Query parameters the items endpoint knows; any other is refused (400).
ITEMS_PARAMETERS = frozenset({"bbox", "bbox-crs", "crs", "limit", "offset", "f", "datetime"})
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
CollectionPath = Annotated[str, Path(max_length=40, pattern=r"^[a-z_]+$")]
FeaturePath = Annotated[str, Path(max_length=40)]


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    model: type[SQLModel]
    unit_field: str
    domain: Domain | None  # None: units (seen by whoever may see anything in them)
    properties: Callable[[Any], dict[str, Any]]
    level: UnitLevel | None = None
    id_field: str = "id"

    def unit_of(self, row: Any) -> str:
        return str(getattr(row, self.unit_field))


def _unit_props(unit: Any) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "level": unit.level.value,
        "parent_code": unit.parent_code,
        "urban_rural_code": unit.urban_rural_code,
        "valid_from": unit.valid_from,
        "valid_to": unit.valid_to,
    }


def _registry_props(kind: RegistryKind) -> Callable[[Any], dict[str, Any]]:
    def props(row: Any) -> dict[str, Any]:
        record = public_record(kind, row)
        record.pop("lon", None)
        record.pop("lat", None)
        return record

    return props


def _registry(object_type: str, collection_id: str, title: str) -> Collection:
    kind = KINDS_BY_TYPE[object_type]
    return Collection(
        id=collection_id,
        title=title,
        description=f"{title} ({kind.object_type})",
        model=kind.model,
        unit_field=kind.unit_field,
        domain=kind.domain,
        properties=_registry_props(kind),
    )


COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        Collection(
            "towns", "乡镇", "乡镇界 (towns)", Unit, "code", None, _unit_props,
            level=UnitLevel.TOWN, id_field="code",
        ),
        Collection(
            "villages", "村", "村界 (village-level units)", Unit, "code", None, _unit_props,
            level=UnitLevel.VILLAGE, id_field="code",
        ),
        _registry("household", "households", "农户"),
        _registry("collection_point", "collection_points", "垃圾收集点"),
        _registry("transfer_station", "transfer_stations", "垃圾转运站"),
        _registry("treatment_facility", "treatment_facilities", "垃圾处理设施"),
        _registry("sewage_facility", "sewage_facilities", "污水处理设施"),
        _registry("public_toilet", "public_toilets", "农村公厕"),
    )
}  # fmt: skip


class Access:
    """What the caller may see of each collection."""

    def __init__(self, actor: Actor, policy: Policy) -> None:
        self.actor = actor
        self.policy = policy
        self.units = UnitScope(actor, policy)

    def allows(self, collection: Collection, unit_code: str) -> bool:
        if collection.domain is None:
            return self.units.allows(unit_code)
        return self.policy.allows(
            self.actor, Action.VIEW, unit_code=unit_code, domain=collection.domain
        )

    def visible(self, collection: Collection) -> bool:
        return self.allows(collection, self.actor.unit_code)

    def sees_personal(self, unit_code: str) -> bool:
        return sees_personal(self.policy, self.actor, unit_code)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _collection(access: Access, collection_id: str) -> Collection:
    collection = COLLECTIONS.get(collection_id)
    if collection is None or not access.visible(collection):
        msg = f"没有这个图层: {collection_id!r} (collection not found)"
        raise NotFoundError(msg)
    return collection


def _json(body: dict[str, Any], media_type: str = JSON) -> JSONResponse:
    return JSONResponse(jsonable_encoder(body), media_type=media_type)


def _extent(session: Session, collection: Collection, prefix: str) -> list[float] | None:
    model = collection.model
    where = _where(collection, prefix)
    row = session.exec(
        select(
            func.min(col(model.minx)),  # type: ignore[attr-defined]
            func.min(col(model.miny)),  # type: ignore[attr-defined]
            func.max(col(model.maxx)),  # type: ignore[attr-defined]
            func.max(col(model.maxy)),  # type: ignore[attr-defined]
        ).where(*where)
    ).one()
    if row[0] is None:
        return None
    return [float(v) for v in row]


def _where(collection: Collection, prefix: str) -> list[Any]:
    model = collection.model
    where: list[Any] = [col(getattr(model, collection.unit_field)).startswith(prefix)]
    if collection.level is not None:
        where.append(col(getattr(model, "level")) == collection.level)  # noqa: B009
        where.append(col(getattr(model, "valid_to")).is_(None))  # noqa: B009
    return where


def _collection_doc(
    request: Request, collection: Collection, extent: list[float] | None
) -> dict[str, Any]:
    base = _base(request)
    doc: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "links": [
            {"href": f"{base}/collections/{collection.id}", "rel": "self", "type": JSON},
            {
                "href": f"{base}/collections/{collection.id}/items",
                "rel": "items",
                "type": GEOJSON,
                "title": collection.title,
            },
        ],
    }
    if extent is not None:
        doc["extent"] = {"spatial": {"bbox": [extent], "crs": CRS84}}
    return doc


def _feature(collection: Collection, row: Any, access: Access) -> dict[str, Any]:
    geom = getattr(row, "geom", None)
    unit_code = collection.unit_of(row)
    properties = mask_record(collection.properties(row), visible=access.sees_personal(unit_code))
    return {
        "type": "Feature",
        "id": getattr(row, collection.id_field),
        "geometry": mapping(geom) if geom is not None and not geom.is_empty else None,
        "properties": properties,
    }


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``minx,miny,maxx,maxy`` (or the 6-number 3D form) in CRS84; errors name ``bbox``."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        msg = f"bbox 须为 minx,miny,maxx,maxy 四个经纬度数值 (bbox={text[:80]!r})"
        raise ValidationError(msg, field="bbox", value=text[:80])
    if not (all(abs(n) <= 180 for n in numbers[0::2]) and all(abs(n) <= 90 for n in numbers[1::2])):
        msg = f"bbox: 经度须在 ±180、纬度须在 ±90 之内 (bbox={text[:80]!r})"
        raise ValidationError(msg, field="bbox", value=text[:80])
    minx, miny, maxx, maxy = numbers
    if minx > maxx or miny > maxy:
        msg = f"bbox: min greater than max ({text[:80]!r})"
        raise ValidationError(msg, field="bbox", value=text[:80])
    return minx, miny, maxx, maxy


def _check_parameters(request: Request) -> None:
    """OGC API Features: a query parameter the endpoint does not know is a 400, not ignored (a
    client's filter would otherwise be dropped without a word)."""
    unknown = sorted(set(request.query_params) - ITEMS_PARAMETERS)
    if unknown:
        known = ", ".join(sorted(ITEMS_PARAMETERS))
        msg = f"不支持的查询参数: {', '.join(unknown)[:120]} (known: {known})"
        raise ValidationError(msg, field=unknown[0][:40], value=None)
    f = request.query_params.get("f")
    if f is not None and f not in ("json", "geojson"):
        msg = f"f: 只提供 json (GeoJSON) (got {f[:20]!r})"
        raise ValidationError(msg, field="f", value=f[:20])


def _meets(geom: Any, box: tuple[float, float, float, float]) -> bool:
    return geom is not None and bool(shapely.intersects(geom, shapely.box(*box)))


def _check_crs(name: str, value: str | None) -> None:
    if value is not None and value not in (CRS84, "CRS84", "OGC:CRS84"):
        msg = f"{name}: 只支持 {CRS84} (got {value[:80]!r})"
        raise ValidationError(msg, field=name, value=value[:80])


# ---------------------------------------------------------------- routes


@router.get(
    "",
    summary="OGC API 首页 (landing page)",
    response_class=JSONResponse,
    dependencies=[Depends(api_principal)],
)
def landing(request: Request) -> JSONResponse:
    base = _base(request)
    root = str(request.base_url).rstrip("/")
    return _json(
        {
            "title": "农村人居环境 OGC API Features",
            "description": "乡镇、村、农户与各类设施图层 (CGCS2000 经纬度, 按 CRS84 提供)",
            "links": [
                {"href": base, "rel": "self", "type": JSON, "title": "this document"},
                {
                    "href": f"{root}{request.app.openapi_url or '/openapi.json'}",
                    "rel": "service-desc",
                    "type": OPENAPI_TYPE,
                    "title": "the API definition",
                },
                {"href": f"{base}/conformance", "rel": "conformance", "type": JSON},
                {"href": f"{base}/collections", "rel": "data", "type": JSON},
            ],
        }
    )


@router.get(
    "/conformance",
    summary="符合的标准 (conformance)",
    response_class=JSONResponse,
    dependencies=[Depends(api_principal)],
)
def conformance() -> JSONResponse:
    return _json({"conformsTo": CONFORMANCE})


@router.get("/collections", summary="图层列表", response_class=JSONResponse)
def collections(
    request: Request, principal: PrincipalDep, policy: PolicyDep, engine: EngineDep
) -> JSONResponse:
    access = Access(principal.actor, policy)
    prefix = codes.prefix_of(principal.actor.unit_code)
    docs = []
    with Session(engine) as session:
        for collection in COLLECTIONS.values():
            if access.visible(collection):
                extent = _extent(session, collection, prefix)
                docs.append(_collection_doc(request, collection, extent))
    base = _base(request)
    return _json(
        {
            "links": [{"href": f"{base}/collections", "rel": "self", "type": JSON}],
            "collections": docs,
        }
    )


@router.get("/collections/{collection_id}", summary="图层说明", response_class=JSONResponse)
def collection(
    collection_id: CollectionPath,
    request: Request,
    principal: PrincipalDep,
    policy: PolicyDep,
    engine: EngineDep,
) -> JSONResponse:
    access = Access(principal.actor, policy)
    found = _collection(access, collection_id)
    with Session(engine) as session:
        extent = _extent(session, found, codes.prefix_of(principal.actor.unit_code))
    return _json(_collection_doc(request, found, extent))


@router.get(
    "/collections/{collection_id}/items",
    summary="要素 (bbox, limit, offset; 下一页见 next 链接)",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def items(
    collection_id: CollectionPath,
    request: Request,
    principal: PrincipalDep,
    policy: PolicyDep,
    engine: EngineDep,
    bbox: Annotated[
        str | None, Query(max_length=200, description="minx,miny,maxx,maxy (CRS84)")
    ] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", max_length=200)] = None,
    crs: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[
        int, Query(ge=1, le=2**31 - 1, description=f"每页要素数 (at most {MAX_LIMIT} are served)")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    _f: Annotated[str | None, Query(alias="f", max_length=20, description="json")] = None,
    _datetime: Annotated[
        str | None,
        Query(alias="datetime", max_length=100, description="无时间属性的要素: 不影响结果"),
    ] = None,
) -> JSONResponse:
    _check_parameters(request)
    _check_crs("bbox-crs", bbox_crs)
    _check_crs("crs", crs)
    limit = min(limit, MAX_LIMIT)  # a larger request is served in pages of the maximum
    access = Access(principal.actor, policy)
    found = _collection(access, collection_id)
    box = parse_bbox(bbox)
    model = found.model
    id_column = col(getattr(model, found.id_field))
    where = _where(found, codes.prefix_of(principal.actor.unit_code))
    if box is not None:
        minx, miny, maxx, maxy = box
        where += [
            col(model.maxx) >= minx,  # type: ignore[attr-defined]
            col(model.minx) <= maxx,  # type: ignore[attr-defined]
            col(model.maxy) >= miny,  # type: ignore[attr-defined]
            col(model.miny) <= maxy,  # type: ignore[attr-defined]
        ]
    with Session(engine) as session:
        if box is not None and found.level is not None:
            # areas: the bounding boxes only narrow it down; keep those whose shape meets the box
            candidates = session.exec(
                select(id_column, model.geom).where(*where).order_by(id_column)  # type: ignore[attr-defined]
            ).all()
            ids = [key for key, geom in candidates if _meets(geom, box)]
            matched = len(ids)
            page = ids[offset : offset + limit]
            rows = session.exec(select(model).where(id_column.in_(page)).order_by(id_column)).all()
        else:
            matched = int(session.exec(select(func.count()).select_from(model).where(*where)).one())
            rows = session.exec(
                select(model).where(*where).order_by(id_column).limit(limit).offset(offset)
            ).all()
        features = [_feature(found, row, access) for row in rows]
    base = f"{_base(request)}/collections/{found.id}/items"
    query: dict[str, Any] = {"limit": limit}
    if bbox is not None:
        query["bbox"] = bbox
    links = [
        {"href": f"{base}?{urlencode({**query, 'offset': offset})}", "rel": "self", "type": GEOJSON}
    ]
    if offset + len(features) < matched:
        links.append(
            {
                "href": f"{base}?{urlencode({**query, 'offset': offset + len(features)})}",
                "rel": "next",
                "type": GEOJSON,
            }
        )
    if offset > 0:
        links.append(
            {
                "href": f"{base}?{urlencode({**query, 'offset': max(0, offset - limit)})}",
                "rel": "prev",
                "type": GEOJSON,
            }
        )
    response = _json(
        {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": matched,
            "numberReturned": len(features),
            "timeStamp": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "links": links,
        },
        GEOJSON,
    )
    response.headers["Content-Crs"] = f"<{CRS84}>"
    return response


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="单个要素",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def item(
    collection_id: CollectionPath,
    feature_id: FeaturePath,
    request: Request,
    principal: PrincipalDep,
    policy: PolicyDep,
    engine: EngineDep,
) -> JSONResponse:
    access = Access(principal.actor, policy)
    found = _collection(access, collection_id)
    key: Any = feature_id
    if found.id_field == "id":
        if not feature_id.isdigit() or not 0 < int(feature_id) < 2**31:
            msg = f"要素 {feature_id!r} 不存在 (feature not found)"
            raise NotFoundError(msg)
        key = int(feature_id)
    with Session(engine) as session:
        row = session.get(found.model, key)
        level_ok = found.level is None or (
            getattr(row, "level", None) == found.level and getattr(row, "valid_to", None) is None
        )
        if row is None or not level_ok:
            msg = f"要素 {feature_id!r} 不存在 (feature not found)"
            raise NotFoundError(msg)
        unit_code = found.unit_of(row)
        if not access.allows(found, unit_code):
            # Same refusal as everywhere else (403, security-logged).
            if found.domain is None:
                access.units.check(unit_code)
            else:
                policy.check(principal.actor, Action.VIEW, unit_code=unit_code, domain=found.domain)
        feature = _feature(found, row, access)
    base = f"{_base(request)}/collections/{found.id}"
    feature["links"] = [
        {"href": f"{base}/items/{feature_id}", "rel": "self", "type": GEOJSON},
        {"href": base, "rel": "collection", "type": JSON},
    ]
    response = _json(feature, GEOJSON)
    response.headers["Content-Crs"] = f"<{CRS84}>"
    return response
