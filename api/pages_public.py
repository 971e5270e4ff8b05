"""The public village board 公示栏: no login, rate-limited per address (counters in the database),
and no personal data — only counts, rates and facility names with their status."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, func, select

from api.deps import EngineDep, SettingsDep
from api.errors import client_ip
from api.pages_auth import render
from api.routes.indicators import indicator_rows
from api.routes.registries import KINDS_BY_TYPE
from rural import clock, security_log
from rural.enums import ProblemStatus, UnitLevel
from rural.errors import NotFoundError, RuralError
from rural.models import Household, Problem, Unit

router = APIRouter(include_in_schema=False)
BOARD_KINDS = ("collection_point", "sewage_facility", "public_toilet")
# Only aggregate figures reach the board: these are names of rates, never of people.
PUBLIC_INDICATOR_LIMIT = 8


def _figures(engine: Any, code: str, period: str) -> tuple[list[dict[str, str]], str]:
    try:
        rows = indicator_rows(engine, unit_code=code, period=period, level=None)
    except RuralError as exc:
        return [], f"暂无法计算指标: {exc}"
    return [{"name": r.name, "text": r.text} for r in rows[:PUBLIC_INDICATOR_LIMIT]], ""


@router.get("/board/{village_code}", response_class=HTMLResponse)
def board(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    village_code: Annotated[str, Path(pattern=r"^[0-9]{12}$")],
) -> HTMLResponse:

    window = security_log.Window(
        settings.public_requests_per_minute, timedelta(seconds=settings.public_window_seconds)
    )
    security_log.limit_public(engine, ip=client_ip(request), window=window, path=request.url.path)
    period = str(clock.today().year)
    with Session(engine) as session:
        village = session.get(Unit, village_code)
        if village is None or village.level != UnitLevel.VILLAGE:
            msg = f"村 {village_code} 不存在"
            raise NotFoundError(msg)
        town = session.get(Unit, village.parent_code) if village.parent_code else None
        households = session.exec(
            select(func.count())
            .select_from(Household)
            .where(
                Household.village_code == village_code,
                col(Household.resident).is_(True),
                col(Household.valid_to).is_(None),
            )
        ).one()
        open_problems = session.exec(
            select(func.count())
            .select_from(Problem)
            .where(Problem.village_code == village_code, Problem.status != ProblemStatus.CLOSED)
        ).one()
        groups = []
        for object_type in BOARD_KINDS:
            kind = KINDS_BY_TYPE[object_type]
            status_field = kind.status_field or "status"
            rows = session.exec(
                select(kind.model)
                .where(col(getattr(kind.model, kind.unit_field)) == village_code)
                .order_by(col(getattr(kind.model, "id")))  # noqa: B009
                .limit(200)
            ).all()
            items = []
            for row in rows:
                status = getattr(row, status_field)
                name = str(getattr(row, "name", ""))
                items.append({"name": name, "status": status.value, "label": status.label})
            groups.append({"label": kind.label, "rows": items})
    figures, note = _figures(engine, village_code, period)
    return render(
        request,
        "site/board.html",
        None,
        {
            "village": village,
            "town": town,
            "period": period,
            "households": int(households),
            "open_problems": int(open_problems),
            "figures": figures,
            "figures_note": note,
            "groups": groups,
        },
    )
