"""The rules every route reuses: who the caller is (re-read from the database on every request),
what they may do where (``require(action, domain)``), what personal data they may see, and the
ETag / If-Match versions that prevent lost updates.

Later modules (scoring, selection, rectification) build their routes from these same pieces.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from api.auth import Principal, api_principal, checked_page_principal, page_principal
from rural import codes
from rural.errors import StaleVersionError, VersionRequiredError
from rural.masking import mask_record
from rural.models import User
from rural.permissions import Action, Actor, Domain, Policy, default_policy

PrincipalDep = Annotated[Principal, Depends(api_principal)]
PagePrincipal = Annotated[Principal, Depends(page_principal)]
FormPrincipal = Annotated[Principal, Depends(checked_page_principal)]


async def current_actor(principal: PrincipalDep) -> Actor:
    return principal.actor


async def current_user(principal: PrincipalDep) -> User:
    return principal.user


CurrentActor = Annotated[Actor, Depends(current_actor)]
CurrentUser = Annotated[User, Depends(current_user)]


async def get_policy(request: Request) -> Policy:
    """The app's permission rule (``app.state.policy``), else the shipped default."""
    policy: Policy | None = getattr(request.app.state, "policy", None)
    return policy or default_policy()


PolicyDep = Annotated[Policy, Depends(get_policy)]


def sees_personal(policy: Policy, actor: Actor, unit_code: str) -> bool:
    """Personal data (names, ID and phone numbers, numbers in free text) is shown only with
    ``view_personal`` on the object's unit."""
    return policy.allows(actor, Action.VIEW_PERSONAL, unit_code=unit_code, domain=Domain.HOUSEHOLDS)


@dataclass(frozen=True)
class Guard:
    """One action on one data domain, for one caller: checks units against the domain rule."""

    actor: Actor
    action: Action
    domain: Domain
    policy: Policy
    principal: Principal

    def allows(self, unit_code: str) -> bool:
        return self.policy.allows(self.actor, self.action, unit_code=unit_code, domain=self.domain)

    def check(self, unit_code: str) -> None:
        """Raise PermissionDeniedError (403, security-logged) unless allowed on ``unit_code``."""
        self.policy.check(self.actor, self.action, unit_code=unit_code, domain=self.domain)

    def prefix(self, unit_code: str | None = None) -> str:
        """The code prefix to filter rows by: the asked unit (after checking it) or the caller's
        own scope."""
        if unit_code is not None:
            codes.validate(unit_code)
            self.check(unit_code)
            return codes.prefix_of(unit_code)
        return codes.prefix_of(self.actor.unit_code)

    def sees_personal(self, unit_code: str) -> bool:
        return sees_personal(self.policy, self.actor, unit_code)

    def masked(self, record: Mapping[str, Any], *, unit_code: str) -> dict[str, Any]:
        return mask_record(record, visible=self.sees_personal(unit_code))


def _guard_for(principal: Principal, policy: Policy, action: Action, domain: Domain) -> Guard:
    guard = Guard(principal.actor, action, domain, policy, principal)
    # The role must be able to take the action at all (checked on the caller's own unit).
    guard.check(principal.user.unit_code)
    return guard


def require(action: Action, domain: Domain) -> Callable[..., Awaitable[Guard]]:
    """A dependency for API routes: the caller's Guard for ``action`` on ``domain``."""

    async def dependency(principal: PrincipalDep, policy: PolicyDep) -> Guard:
        return _guard_for(principal, policy, action, domain)

    return dependency


def require_page(
    action: Action, domain: Domain, *, form: bool = False
) -> Callable[..., Awaitable[Guard]]:
    """The same for pages (session cookie; with ``form=True`` the CSRF token is checked)."""
    if form:

        async def form_dependency(principal: FormPrincipal, policy: PolicyDep) -> Guard:
            return _guard_for(principal, policy, action, domain)

        return form_dependency

    async def page_dependency(principal: PagePrincipal, policy: PolicyDep) -> Guard:
        return _guard_for(principal, policy, action, domain)

    return page_dependency


# ---------------------------------------------------------------- personal data


# ---------------------------------------------------------------- versions: ETag / If-Match

_TAG = re.compile(r'^\s*(?:W/)?"?(\d{1,12})"?\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def version_from_if_match(header: str | None, *, current: int | None = None) -> int:
    """The version an update was made against, from its If-Match header.

    Missing or ``*`` → VersionRequiredError (428): an update must say which version it changes.
    Unreadable → StaleVersionError (412). Several tags: the one equal to ``current`` if any.
    """
    if header is None or not header.strip() or header.strip() == "*":
        msg = (
            "更新须带 If-Match 头(先 GET 取得 ETag) "
            "(If-Match with the ETag of the version you read is required)"
        )
        raise VersionRequiredError(msg)
    versions = []
    for part in header.split(","):
        found = _TAG.match(part)
        if found:
            versions.append(int(found.group(1)))
    if not versions:
        msg = f"If-Match {header[:40]!r} is not an ETag of this object"
        raise StaleVersionError(msg, current_version=current)
    if current is not None and current in versions:
        return current
    return versions[0]


def version_from_form(value: str | None) -> int:
    """The version a page form was rendered with (same rule as If-Match)."""
    if value is None or not value.strip():
        msg = "表单缺少版本号,请刷新页面 (the form carries no version)"
        raise VersionRequiredError(msg)
    if not value.strip().isdigit() or len(value.strip()) > 12:
        msg = f"表单版本号无效 (version {value[:20]!r})"
        raise StaleVersionError(msg, current_version=None)
    return int(value)
