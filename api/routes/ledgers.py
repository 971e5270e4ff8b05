"""Ledger upload 台账导入: an Excel file (.xlsx) → the ledger importer, answered with its result
or with every row problem (sheet, row, column, value, reason). Nothing is written when any row
is wrong, and rows outside the caller's scope are refused (and security-logged)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from pydantic import BaseModel

from api.auth import api_principal
from api.deps import EngineDep
from api.errors import log_event
from api.scopes import PolicyDep, PrincipalDep
from rural.errors import ValidationError
from rural.models import SecurityEventKind
from rural.permissions import Action

router = APIRouter(tags=["台账"])
MAX_BYTES = 20 * 1024 * 1024
SUFFIXES = (".xlsx",)
KindPath = Annotated[str, Path(max_length=40, pattern=r"^[a-z_]+$", description="台账种类")]


class LedgerKindOut(BaseModel):
    name: str
    label: str
    domain: str


class LedgerResultOut(BaseModel):
    kind: str
    label: str
    file: str
    sheet: str
    rows: int
    created: int
    updated: int
    unchanged: int
    history_rows: int
    dry_run: bool
    warnings: list[str]


@router.get(
    "/ledgers",
    response_model=list[LedgerKindOut],
    summary="台账种类",
    dependencies=[Depends(api_principal)],
)
def ledger_kinds() -> list[LedgerKindOut]:
    from rural.ledgers import KINDS

    return [LedgerKindOut(name=k.name, label=k.label, domain=k.domain.value) for k in KINDS]


def _safe_name(filename: str | None) -> str:
    """The upload's own file name (it names the file in row problems), made harmless."""
    base = FilePath((filename or "").replace("\\", "/")).name
    stem, suffix = FilePath(base).stem, FilePath(base).suffix.lower()
    if suffix not in SUFFIXES:
        msg = f"file: 只接受 {'、'.join(SUFFIXES)} 文件 (got {suffix or 'no suffix'!r})"
        raise ValidationError(msg, field="file", value=base[:100])
    clean = re.sub(r"[^\w\u4e00-\u9fff.-]+", "_", stem)[:80] or "ledger"
    return clean + suffix


def _save(upload: UploadFile, folder: FilePath, name: str) -> FilePath:
    target = folder / name
    size = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            size += len(chunk)
            if size > MAX_BYTES:
                msg = f"file: 文件超过 {MAX_BYTES // (1024 * 1024)} MB"
                raise ValidationError(msg, field="file", value=size)
            out.write(chunk)
    return target


def _log_out_of_scope(
    engine: Any, request: Request, principal: Any, kind: Any, problems: list[Any]
) -> None:
    """Row problems that are scope refusals also go to the security log."""
    refused = [p for p in problems if getattr(p, "out_of_scope", False)]
    if refused:
        rows = ", ".join(f"row {p.row} {p.column}={p.value}" for p in refused[:5])
        log_event(
            engine,
            request,
            SecurityEventKind.REFUSED,
            username=principal.user.username,
            status=422,
            detail=f"ledger {kind.name}: {len(refused)} rows outside scope: {rows}",
        )


@router.post(
    "/ledgers/{kind}",
    response_model=LedgerResultOut,
    summary="上传台账 (Excel .xlsx): 全部正确才写入",
    responses={422: {"description": "台账有问题: 逐行列出 (problems)"}},
)
def upload_ledger(
    kind: KindPath,
    file: Annotated[UploadFile, File(description="填好的台账 (.xlsx)")],
    principal: PrincipalDep,
    policy: PolicyDep,
    engine: EngineDep,
    request: Request,
    dry_run: Annotated[bool, Form(description="只检查不写入")] = False,
) -> LedgerResultOut:
    from rural.ledgers import LedgerError, get_kind, import_ledger

    ledger_kind = get_kind(kind)
    # The role must be able to upload this kind at all (rows are checked unit by unit below).
    policy.check(
        principal.actor,
        Action.UPLOAD_LEDGER,
        unit_code=principal.user.unit_code,
        domain=ledger_kind.domain,
    )
    name = _safe_name(file.filename)
    with tempfile.TemporaryDirectory(prefix="rural-upload-") as folder:
        path = _save(file, FilePath(folder), name)
        try:
            result = import_ledger(
                engine, ledger_kind, path, actor=principal.actor, policy=policy, dry_run=dry_run
            )
        except LedgerError as exc:
            _log_out_of_scope(engine, request, principal, ledger_kind, exc.problems)
            raise
    return LedgerResultOut(
        kind=result.kind,
        label=result.label,
        file=result.file,
        sheet=result.sheet,
        rows=result.rows,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        history_rows=result.history_rows,
        dry_run=dry_run,
        warnings=result.warnings,
    )
