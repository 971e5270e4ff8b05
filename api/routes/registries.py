"""The registries (facilities, public toilets, households, problems), one generic set of routes per
kind: list and filter by unit and status, detail with an ETag, create, edit and change status
with If-Match. Request and response schemas are built from the table models, so the OpenAPI
document describes each kind exactly.

(No ``from __future__ import annotations`` here: the route functions are made in a loop and
FastAPI reads their annotations, which name schemas built at run time.)
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any

import annotated_types
from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, create_model
from shapely.geometry import Point
from sqlalchemy import func, update
from sqlmodel import Session, SQLModel, col, select

from api.deps import EngineDep
from api.scopes import Guard, require, set_etag, version_from_if_match
from rural import audit, clock, codes
from rural.db import write_session
from rural.enums import ChangeAction, Escalation, ProblemStatus
from rural.errors import NotFoundError, StaleVersionError, ValidationError
from rural.geometry import bbox
from rural.lifecycle import STATEFUL_KINDS, change_status, default_lifecycles
from rural.models import (
    CollectionPoint,
    Household,
    Problem,
    PublicToilet,
    SewageFacility,
    StatusChange,
    TransferStation,
    TreatmentFacility,
    Unit,
)
from rural.permissions import Action, Domain

INT32 = 2_147_483_647
MAX_TEXT = 2000
# Columns no client sets: keys, versions, derived bounding boxes, geometries (given as lon/lat).
SERVER_FIELDS = ("id", "version", "minx", "miny", "maxx", "maxy", "geom", "service_area")
LON_RANGE = (73.0, 136.0)  # China, CGCS2000 degrees
LAT_RANGE = (3.0, 54.0)

IdPath = Annotated[int, Path(ge=1, le=INT32, description="对象编号")]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="GET 返回的 ETag (必填: 缺少 → 428, 过期 → 412)",
        max_length=200,
    ),
]
UnitQuery = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{12}([0-9]{3})?$",
        description="只列出该单位及其下级的对象 (12 位区划代码)",
    ),
]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]


@dataclass(frozen=True)
class RegistryKind:
    """One registry: its URL segment, table, unit column, data domain and create action."""

    slug: str
    object_type: str
    model: type[SQLModel]
    unit_field: str
    domain: Domain
    label: str
    create_action: Action = Action.EDIT_REGISTRY
    point: bool = True
    create_exclude: tuple[str, ...] = ()
    fixed_on_create: Callable[[], dict[str, Any]] | None = None
    unit_fields: tuple[str, ...] = field(default=())  # other unit references to check

    @property
    def status_field(self) -> str | None:
        stateful = STATEFUL_KINDS.get(self.object_type)
        return stateful.status_field if stateful else None

    @property
    def status_action(self) -> Action:
        return Action.MANAGE_PROBLEMS if self.object_type == "problem" else Action.CHANGE_STATUS

    @property
    def status_enum(self) -> type[Enum] | None:
        stateful = STATEFUL_KINDS.get(self.object_type)
        if stateful is None:
            return None
        return default_lifecycles()[stateful.lifecycle].enum


def _problem_defaults() -> dict[str, Any]:
    return {"status": ProblemStatus.REGISTERED, "escalation": Escalation.NONE}


REGISTRY_KINDS: tuple[RegistryKind, ...] = (
    RegistryKind(
        "collection-points", "collection_point", CollectionPoint, "village_code",
        Domain.GARBAGE, "垃圾收集点",
    ),
    RegistryKind(
        "transfer-stations", "transfer_station", TransferStation, "town_code",
        Domain.GARBAGE, "垃圾转运站",
    ),
    RegistryKind(
        "treatment-facilities", "treatment_facility", TreatmentFacility, "unit_code",
        Domain.GARBAGE, "垃圾处理设施",
    ),
    RegistryKind(
        "sewage-facilities", "sewage_facility", SewageFacility, "village_code",
        Domain.SEWAGE, "污水处理设施",
    ),
    RegistryKind(
        "public-toilets", "public_toilet", PublicToilet, "village_code",
        Domain.SANITATION, "农村公厕",
    ),
    RegistryKind(
        "households", "household", Household, "village_code", Domain.HOUSEHOLDS, "农户",
        create_exclude=("valid_to",), unit_fields=("natural_village_code",),
    ),
    RegistryKind(
        "problems", "problem", Problem, "village_code", Domain.PROBLEMS, "问题",
        create_action=Action.REPORT_PROBLEM,
        create_exclude=("status", "escalation", "reviewer", "result", "closed_on"),
        fixed_on_create=_problem_defaults,
    ),
)  # fmt: skip
KINDS_BY_SLUG = {k.slug: k for k in REGISTRY_KINDS}
KINDS_BY_TYPE = {k.object_type: k for k in REGISTRY_KINDS}


# ---------------------------------------------------------------- schemas from the models


def no_nul(value: str) -> str:
    """Text may not contain NUL characters (PostgreSQL cannot store them)."""
    if "\x00" in value:
        msg = "text must not contain NUL (\\x00) characters"
        raise ValueError(msg)
    return value


def _strict_annotation(annotation: Any, metadata: list[Any]) -> Any:
    """The model field's type with its constraints, bounded so that no input can overflow a
    column: text gets a length limit, integers the 32-bit range, datetimes a time zone."""
    constraints: list[Any] = [
        m for m in metadata if type(m).__module__.startswith("annotated_types")
    ]
    base = annotation
    optional = False
    args = getattr(annotation, "__args__", ())
    if type(None) in args and len(args) == 2:
        base = next(a for a in args if a is not type(None))
        optional = True
    kinds = {type(c) for c in constraints}
    if base is str:
        if annotated_types.MaxLen not in kinds:
            constraints.append(annotated_types.MaxLen(MAX_TEXT))
        constraints.append(AfterValidator(no_nul))
    if base is int:
        if annotated_types.Ge not in kinds:
            constraints.append(annotated_types.Ge(-INT32))
        constraints.append(annotated_types.Le(INT32))
    if base is float and annotated_types.Le not in kinds:
        constraints.append(annotated_types.Le(1e12))
    if base is datetime:
        base = AwareDatetime
    if base == dict[str, int]:
        key = Annotated[str, annotated_types.MaxLen(30)]
        base = dict[key, Annotated[int, Field(ge=0, le=INT32)]]
    if base == list[str]:
        base = Annotated[list[Annotated[str, annotated_types.MaxLen(30)]], Field(max_length=20)]
    typed = Annotated[base, *constraints] if constraints else base
    return typed | None if optional else typed


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _model_fields(kind: RegistryKind) -> dict[str, Any]:
    return {
        name: info for name, info in kind.model.model_fields.items() if name not in SERVER_FIELDS
    }


def _lon_lat_fields() -> dict[str, Any]:
    """The point of an object as given by clients: CGCS2000 degrees, within China."""
    return {
        "lon": (float | None, Field(None, ge=LON_RANGE[0], le=LON_RANGE[1])),
        "lat": (float | None, Field(None, ge=LAT_RANGE[0], le=LAT_RANGE[1])),
    }


def _create_schema(kind: RegistryKind) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, info in _model_fields(kind).items():
        if name in kind.create_exclude:
            continue
        typed = _strict_annotation(info.annotation, list(info.metadata))
        if info.is_required():
            fields[name] = (typed, Field(description=info.description))
        elif info.default_factory is not None:
            fields[name] = (typed, Field(default_factory=info.default_factory))
        else:
            fields[name] = (typed, Field(default=info.default, description=info.description))
    if kind.point:
        fields.update(_lon_lat_fields())
    name = kind.model.__name__
    return create_model(f"{name}Create", __base__=_Input, **fields)


def _update_schema(kind: RegistryKind) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, info in _model_fields(kind).items():
        if name in kind.create_exclude or name in (kind.unit_field, kind.status_field):
            continue
        typed = _strict_annotation(info.annotation, list(info.metadata))
        fields[name] = (typed | None, Field(None))
    if kind.point:
        fields.update(_lon_lat_fields())
    name = kind.model.__name__
    return create_model(f"{name}Update", __base__=_Input, **fields)


def _public_schema(kind: RegistryKind) -> type[BaseModel]:
    fields: dict[str, Any] = {"id": (int, ...), "version": (int, ...)}
    for name, info in _model_fields(kind).items():
        fields[name] = (info.annotation, ...)
    if kind.point:
        fields["lon"] = (float | None, None)
        fields["lat"] = (float | None, None)
    return create_model(f"{kind.model.__name__}Public", **fields)


def _page_schema(kind: RegistryKind, public: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        f"{kind.model.__name__}Page",
        items=(list[public], ...),  # type: ignore[valid-type]
        total=(int, ...),
        limit=(int, ...),
        offset=(int, ...),
    )


def _status_schema(kind: RegistryKind) -> type[BaseModel] | None:
    enum = kind.status_enum
    if enum is None:
        return None
    return create_model(
        f"{kind.model.__name__}StatusChange",
        __base__=_Input,
        to_status=(enum, Field(description="新状态")),
        note=(
            Annotated[str, AfterValidator(no_nul)] | None,
            Field(None, max_length=500, description="说明"),
        ),
        effective_on=(date | None, Field(None, description="生效日期(默认今天,不能晚于今天)")),
    )


@dataclass(frozen=True)
class Schemas:
    create: type[BaseModel]
    update: type[BaseModel]
    public: type[BaseModel]
    page: type[BaseModel]
    status: type[BaseModel] | None


def schemas_for(kind: RegistryKind) -> Schemas:
    public = _public_schema(kind)
    return Schemas(
        create=_create_schema(kind),
        update=_update_schema(kind),
        public=public,
        page=_page_schema(kind, public),
        status=_status_schema(kind),
    )


# ---------------------------------------------------------------- shared helpers


def public_record(kind: RegistryKind, obj: SQLModel) -> dict[str, Any]:
    """A row as the API shows it (before masking): columns, version, lon/lat of its point."""
    record = {name: getattr(obj, name) for name in _model_fields(kind)}
    record["id"] = getattr(obj, "id")  # noqa: B009
    record["version"] = getattr(obj, "version")  # noqa: B009
    if kind.point:
        geom = getattr(obj, "geom", None)
        point = geom.representative_point() if geom is not None and not geom.is_empty else None
        record["lon"] = round(point.x, 7) if point is not None else None
        record["lat"] = round(point.y, 7) if point is not None else None
    return record


def shown(kind: RegistryKind, guard: Guard, obj: SQLModel) -> dict[str, Any]:
    return guard.masked(public_record(kind, obj), unit_code=str(getattr(obj, kind.unit_field)))


def get_object(session: Session, kind: RegistryKind, object_id: int) -> SQLModel:
    obj = session.get(kind.model, object_id)
    if obj is None:
        msg = f"{kind.label} {object_id} 不存在 ({kind.object_type} {object_id} not found)"
        raise NotFoundError(msg)
    return obj


def check_unit_field(session: Session, field_name: str, value: str) -> None:
    """A unit reference in a body: a valid code of a unit that exists (else 422 naming it)."""
    try:
        codes.validate(value)
    except ValidationError as exc:
        msg = f"{field_name}: {exc}"
        raise ValidationError(msg, field=field_name, value=value) from None
    if session.get(Unit, value) is None:
        msg = f"{field_name}: 单位 {value} 不存在 (unit {value!r} not found)"
        raise ValidationError(msg, field=field_name, value=value)


def _check_other_units(
    session: Session, kind: RegistryKind, values: dict[str, Any], unit_code: str
) -> None:
    """The kind's other unit references in ``values``: existing units within ``unit_code``."""
    for other in kind.unit_fields:
        if values.get(other) is not None:
            check_unit_field(session, other, str(values[other]))
            if not codes.is_within(str(values[other]), unit_code):
                msg = f"{other}: {values[other]} 不在 {unit_code} 之下"
                raise ValidationError(msg, field=other, value=values[other])


def _check_linked_object(
    session: Session, kind: RegistryKind, guard: Guard, values: dict[str, Any], obj: Any = None
) -> None:
    """A problem may name the facility it is about (object_kind, object_id): that object must
    exist and lie where the caller may see it."""
    if kind.model is not Problem or not ({"object_kind", "object_id"} & values.keys()):
        return
    object_kind = values.get("object_kind", getattr(obj, "object_kind", None))
    object_id = values.get("object_id", getattr(obj, "object_id", None))
    if object_kind is None and object_id is None:
        return
    linked = KINDS_BY_TYPE.get(str(object_kind))
    if linked is None or linked.model in (Problem, Household):
        choices = ", ".join(
            k for k, v in KINDS_BY_TYPE.items() if v.model not in (Problem, Household)
        )
        msg = f"object_kind: {object_kind!r} 不是可关联的设施类型 (one of {choices})"
        raise ValidationError(msg, field="object_kind", value=object_kind)
    target = session.get(linked.model, object_id) if object_id is not None else None
    if target is None:
        msg = f"object_id: {linked.label} {object_id} 不存在"
        raise ValidationError(msg, field="object_id", value=object_id)
    unit_code = str(getattr(target, linked.unit_field))
    guard.policy.check(guard.actor, Action.VIEW, unit_code=unit_code, domain=linked.domain)


def _point(data: dict[str, Any]) -> Point | None:
    lon, lat = data.pop("lon", None), data.pop("lat", None)
    if (lon is None) != (lat is None):
        name = "lat" if lat is None else "lon"
        msg = f"{name}: 经度和纬度须同时填写 (lon and lat go together)"
        raise ValidationError(msg, field=name, value=None)
    if lon is None or lat is None:
        return None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        msg = "lon/lat must be finite numbers"
        raise ValidationError(msg, field="lon", value=lon)
    return Point(lon, lat)


def _check_effective_on(value: date | None) -> None:
    if value is not None and value > clock.today():
        msg = f"effective_on: 生效日期不能晚于今天 ({value.isoformat()})"
        raise ValidationError(msg, field="effective_on", value=value.isoformat())


def _refuse_nulls(kind: RegistryKind, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        info = kind.model.model_fields.get(name)
        if value is None and info is not None and info.is_required():
            msg = f"{name}: 不能清空必填项 (field {name} cannot be null)"
            raise ValidationError(msg, field=name, value=None)


# ---------------------------------------------------------------- services used by API and pages


def create_object(
    session: Session, kind: RegistryKind, guard: Guard, data: dict[str, Any]
) -> SQLModel:
    unit_code = str(data[kind.unit_field])
    check_unit_field(session, kind.unit_field, unit_code)
    guard.check(unit_code)
    _check_other_units(session, kind, data, unit_code)
    _check_linked_object(session, kind, guard, data)
    geom = _point(data)
    if kind.fixed_on_create is not None:
        data.update(kind.fixed_on_create())
    obj = kind.model(**data, geom=geom) if kind.point else kind.model(**data)
    session.add(obj)
    session.flush()
    object_id = int(getattr(obj, "id"))  # noqa: B009
    status_field = kind.status_field
    if status_field is not None:
        status = getattr(obj, status_field)
        session.add(
            StatusChange(
                object_type=kind.object_type,
                object_id=object_id,
                from_status=None,
                to_status=str(getattr(status, "value", status)),
                effective_on=clock.today(),
                actor=guard.actor.username,
                note="新增",
            )
        )
    audit.record(
        session,
        actor=guard.actor.username,
        action=ChangeAction.CREATE,
        object_type=kind.object_type,
        object_id=object_id,
        new=audit.snapshot(obj, [*_model_fields(kind), "geom"] if kind.point else None),
    )
    session.flush()
    return obj


def update_object(
    session: Session,
    kind: RegistryKind,
    guard: Guard,
    object_id: int,
    changes: dict[str, Any],
    if_match: str | None,
) -> SQLModel:
    """Edit registry fields (not the status: it has its own route and history)."""
    obj = get_object(session, kind, object_id)
    guard.check(str(getattr(obj, kind.unit_field)))
    current = int(getattr(obj, "version"))  # noqa: B009
    expected = version_from_if_match(if_match, current=current)
    if expected != current:
        msg = f"{kind.label} {object_id} 已被他人修改 (version {expected} is stale)"
        raise StaleVersionError(msg, current_version=current)
    _refuse_nulls(kind, changes)
    _check_other_units(session, kind, changes, str(getattr(obj, kind.unit_field)))
    _check_linked_object(session, kind, guard, changes, obj)
    fields = [*_model_fields(kind), "geom"] if kind.point else list(_model_fields(kind))
    old = audit.snapshot(obj, fields)
    values = dict(changes)
    if kind.point and ("lon" in values or "lat" in values):
        geom = _point(values)
        values["geom"] = geom
        values.update(zip(("minx", "miny", "maxx", "maxy"), bbox(geom), strict=True))
    values.pop("lon", None)
    values.pop("lat", None)
    table = kind.model.__table__  # type: ignore[attr-defined]
    result = session.execute(
        update(table)
        .where(table.c.id == object_id, table.c.version == current)
        .values({**values, "version": current + 1})
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        msg = f"{kind.label} {object_id} 已被他人修改 (changed concurrently)"
        raise StaleVersionError(msg, current_version=None)
    session.expire(obj)
    before, after = audit.diff(old, audit.snapshot(obj, fields))
    audit.record(
        session,
        actor=guard.actor.username,
        action=ChangeAction.UPDATE,
        object_type=kind.object_type,
        object_id=object_id,
        old={**before, "version": current},
        new={**after, "version": current + 1},
    )
    session.flush()
    return obj


def change_object_status(
    session: Session,
    kind: RegistryKind,
    guard: Guard,
    object_id: int,
    *,
    to_status: str,
    note: str | None,
    effective_on: date | None,
    expected_version: int | None,
    if_match: str | None = None,
) -> SQLModel:
    """Scope first (403), then the version (428/412), then the lifecycle's own checks."""
    obj = get_object(session, kind, object_id)
    guard.check(str(getattr(obj, kind.unit_field)))
    current = int(getattr(obj, "version"))  # noqa: B009
    if expected_version is None:
        expected_version = version_from_if_match(if_match, current=current)
    _check_effective_on(effective_on)
    change_status(
        session,
        actor=guard.actor,
        object_type=kind.object_type,
        object_id=object_id,
        to_status=to_status,
        note=note,
        effective_on=effective_on,
        expected_version=expected_version,
        policy=guard.policy,
    )
    session.refresh(obj)
    return obj


def list_objects(
    session: Session,
    kind: RegistryKind,
    *,
    prefix: str,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[SQLModel], int]:
    unit_column = getattr(kind.model, kind.unit_field)
    where = [col(unit_column).startswith(prefix)]
    if status is not None and kind.status_field is not None:
        where.append(getattr(kind.model, kind.status_field) == status)
    total = session.exec(select(func.count()).select_from(kind.model).where(*where)).one()
    rows = session.exec(
        select(kind.model)
        .where(*where)
        .order_by(col(getattr(kind.model, "id")))  # noqa: B009
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total)


# ---------------------------------------------------------------- routes


def _add_routes(router: APIRouter, kind: RegistryKind, schemas: Schemas) -> None:
    view = Annotated[Guard, Depends(require(Action.VIEW, kind.domain))]
    edit = Annotated[Guard, Depends(require(kind.create_action, kind.domain))]
    amend = Annotated[Guard, Depends(require(Action.EDIT_REGISTRY, kind.domain))]
    base = f"/{kind.slug}"
    tag = kind.label
    status_enum = kind.status_enum
    status_query: Any = (
        Annotated[status_enum | None, Query(description="按状态筛选")]
        if status_enum is not None
        else Annotated[str | None, Query(include_in_schema=False, max_length=40)]
    )

    def list_route(
        guard: view,
        engine: EngineDep,
        unit: UnitQuery = None,
        status: status_query = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        prefix = guard.prefix(unit)
        with Session(engine) as session:
            rows, total = list_objects(
                session,
                kind,
                prefix=prefix,
                status=getattr(status, "value", status),
                limit=limit,
                offset=offset,
            )
            items = [shown(kind, guard, row) for row in rows]
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    def detail_route(
        object_id: IdPath,
        guard: view,
        engine: EngineDep,
        response: Response,
    ) -> Any:
        with Session(engine) as session:
            obj = get_object(session, kind, object_id)
            guard.check(str(getattr(obj, kind.unit_field)))
            set_etag(response, int(getattr(obj, "version")))  # noqa: B009
            return shown(kind, guard, obj)

    def create_route(
        body: schemas.create,  # type: ignore[name-defined]
        guard: edit,
        engine: EngineDep,
        response: Response,
    ) -> Any:
        with write_session(engine) as session:
            obj = create_object(session, kind, guard, body.model_dump())
            record = shown(kind, guard, obj)
        set_etag(response, int(record["version"]))
        response.headers["Location"] = f"/api{base}/{record['id']}"
        return record

    def update_route(
        object_id: IdPath,
        body: schemas.update,  # type: ignore[name-defined]
        guard: amend,
        engine: EngineDep,
        response: Response,
        if_match: IfMatch = None,
    ) -> Any:
        with write_session(engine) as session:
            obj = update_object(
                session, kind, guard, object_id, body.model_dump(exclude_unset=True), if_match
            )
            record = shown(kind, guard, obj)
        set_etag(response, int(record["version"]))
        return record

    common = {"tags": [tag]}
    errors: dict[int | str, dict[str, Any]] = {
        401: {"description": "未登录"},
        403: {"description": "无权操作该单位"},
        404: {"description": "不存在"},
    }
    router.add_api_route(
        base,
        list_route,
        methods=["GET"],
        response_model=schemas.page,
        name=f"list_{kind.object_type}",
        summary=f"{kind.label}列表",
        responses={401: errors[401], 403: errors[403]},
        **common,  # type: ignore[arg-type]
    )
    router.add_api_route(
        base + "/{object_id}",
        detail_route,
        methods=["GET"],
        response_model=schemas.public,
        name=f"get_{kind.object_type}",
        summary=f"{kind.label}详情 (ETag = 版本号)",
        responses=errors,
        **common,  # type: ignore[arg-type]
    )
    router.add_api_route(
        base,
        create_route,
        methods=["POST"],
        status_code=201,
        response_model=schemas.public,
        name=f"create_{kind.object_type}",
        summary=f"新增{kind.label}",
        responses={**errors, 409: {"description": "重复"}, 422: {"description": "输入有误"}},
        **common,  # type: ignore[arg-type]
    )
    router.add_api_route(
        base + "/{object_id}",
        update_route,
        methods=["PATCH"],
        response_model=schemas.public,
        name=f"update_{kind.object_type}",
        summary=f"修改{kind.label} (须带 If-Match)",
        responses={
            **errors,
            412: {"description": "版本已过期 (返回当前版本)"},
            428: {"description": "缺少 If-Match"},
        },
        **common,  # type: ignore[arg-type]
    )
    if schemas.status is not None:
        status_guard = Annotated[Guard, Depends(require(kind.status_action, kind.domain))]

        def status_route(
            object_id: IdPath,
            body: schemas.status,  # type: ignore[name-defined]
            guard: status_guard,
            engine: EngineDep,
            response: Response,
            if_match: IfMatch = None,
        ) -> Any:
            with write_session(engine) as session:
                obj = change_object_status(
                    session,
                    kind,
                    guard,
                    object_id,
                    to_status=body.to_status.value,
                    note=body.note,
                    effective_on=body.effective_on,
                    expected_version=None,
                    if_match=if_match,
                )
                record = shown(kind, guard, obj)
            set_etag(response, int(record["version"]))
            return record

        router.add_api_route(
            base + "/{object_id}/status",
            status_route,
            methods=["POST"],
            response_model=schemas.public,
            name=f"change_status_{kind.object_type}",
            summary=f"变更{kind.label}状态 (须带 If-Match)",
            responses={
                **errors,
                409: {"description": "不允许的状态变更"},
                412: {"description": "版本已过期 (返回当前版本)"},
                428: {"description": "缺少 If-Match"},
            },
            **common,  # type: ignore[arg-type]
        )


def build_router() -> APIRouter:
    router = APIRouter()
    for kind in REGISTRY_KINDS:
        _add_routes(router, kind, schemas_for(kind))
    return router
