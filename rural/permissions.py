"""Who may do what to which unit: the one domain rule every entry point enforces.

A user acts on their own unit and everything beneath it (by division-code prefix), with the
actions their role allows; department staff only on the data domains their line (条线) owns.
``view_ranking`` (town and village league tables) reaches up to the user's county. The rule is
data (``rules/permissions.toml``) resolved against the user as stored on every call.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import NoReturn

from rural import codes
from rural.enums import Line, Role, UnitLevel
from rural.errors import PermissionDeniedError, RulesError


class Action(StrEnum):
    VIEW = "view"
    VIEW_PERSONAL = "view_personal"
    VIEW_RANKING = "view_ranking"
    EDIT_REGISTRY = "edit_registry"
    CHANGE_STATUS = "change_status"
    RECORD_FIELD_DATA = "record_field_data"
    UPLOAD_LEDGER = "upload_ledger"
    MANAGE_PROBLEMS = "manage_problems"
    RECTIFY_PROBLEM = "rectify_problem"
    REPORT_PROBLEM = "report_problem"
    SCORE = "score"
    MANAGE_SELECTION = "manage_selection"
    MANAGE_USERS = "manage_users"
    MANAGE_UNITS = "manage_units"
    MANAGE_INDICATOR_SYSTEM = "manage_indicator_system"
    EXPORT = "export"


class Domain(StrEnum):
    """The part of the data an action touches; lines of work own domains."""

    UNITS = "units"
    HOUSEHOLDS = "households"
    SANITATION = "sanitation"
    GARBAGE = "garbage"
    SEWAGE = "sewage"
    COURTYARD = "courtyard"
    PROBLEMS = "problems"
    CIVILIZATION = "civilization"
    USERS = "users"


@dataclass(frozen=True)
class Actor:
    """The caller as stored now (role, unit and line are re-read on every request)."""

    username: str
    role: Role
    unit_code: str
    line: Line | None = None
    active: bool = True
    system: bool = False

    @classmethod
    def operator(cls, username: str) -> Actor:
        """The person at the server's command line: trusted, unlimited, still named in the log."""
        return cls(username=username, role=Role.COUNTY_ADMIN, unit_code="", system=True)


@dataclass(frozen=True)
class Policy:
    role_actions: dict[Role, frozenset[Action]]
    line_domains: dict[Line, frozenset[Domain]]
    line_limited_roles: frozenset[Role]

    def allows(self, actor: Actor, action: Action, *, unit_code: str, domain: Domain) -> bool:
        return self.refusal(actor, action, unit_code=unit_code, domain=domain) is None

    def refusal(
        self, actor: Actor, action: Action, *, unit_code: str, domain: Domain
    ) -> str | None:
        """None when allowed, else the reason for the refusal (for the security log)."""
        if actor.system:
            return None
        if not actor.active:
            return f"账号已停用 (user {actor.username} is deactivated)"
        if action not in self.role_actions.get(actor.role, frozenset()):
            return (
                f"{actor.role.label}无权进行此操作 (role {actor.role.value} may not {action.value})"
            )
        if actor.role in self.line_limited_roles:
            owned = self.line_domains.get(actor.line, frozenset()) if actor.line else frozenset()
            if domain not in owned:
                line = actor.line.value if actor.line else "none"
                label = actor.line.label if actor.line else "未指定条线"
                return f"{label}条线不管理这类数据 (line {line} does not own {domain.value})"
        scope = _scope_code(actor, action)
        if not codes.is_within(unit_code, scope):
            return (
                f"单位 {unit_code} 不在管辖范围内"
                f" (unit {unit_code} is outside {actor.username}'s scope {scope})"
            )
        return None

    def check(self, actor: Actor, action: Action, *, unit_code: str, domain: Domain) -> None:
        reason = self.refusal(actor, action, unit_code=unit_code, domain=domain)
        if reason is not None:
            raise PermissionDeniedError(reason)


def _scope_code(actor: Actor, action: Action) -> str:
    """The unit whose subtree the action may reach: rankings reach up to the user's county."""
    if action == Action.VIEW_RANKING:
        level = codes.level_of(actor.unit_code)
        deeper = (UnitLevel.TOWN, UnitLevel.VILLAGE, UnitLevel.NATURAL_VILLAGE)
        if level in deeper:
            return actor.unit_code[:6] + "0" * 6
    return actor.unit_code


def parse_policy(data: dict[str, object], *, source: str) -> Policy:
    """Validate a permissions document; errors name the file and the entry."""

    def fail(entry: str, problem: str) -> NoReturn:
        msg = f"{source}: {entry}: {problem}"
        raise RulesError(msg)

    roles_raw = data.get("roles")
    if not isinstance(roles_raw, dict):
        fail("[roles]", "missing table")
    role_actions: dict[Role, frozenset[Action]] = {}
    for key, actions in roles_raw.items():
        try:
            role = Role(key)
        except ValueError:
            fail(f"roles.{key}", "unknown role")
        if not isinstance(actions, list):
            fail(f"roles.{key}", "must be a list of actions")
        try:
            role_actions[role] = frozenset(Action(a) for a in actions)
        except ValueError as exc:
            fail(f"roles.{key}", f"unknown action ({exc})")
    lines_raw = data.get("lines", {})
    if not isinstance(lines_raw, dict):
        fail("[lines]", "must be a table")
    line_domains: dict[Line, frozenset[Domain]] = {}
    for key, domains in lines_raw.items():
        try:
            line = Line(key)
            line_domains[line] = frozenset(Domain(d) for d in domains)
        except ValueError as exc:
            fail(f"lines.{key}", f"unknown line or domain ({exc})")
    limited_raw = data.get("line_limited", {})
    limited = limited_raw.get("roles", []) if isinstance(limited_raw, dict) else []
    try:
        line_limited = frozenset(Role(r) for r in limited)
    except ValueError as exc:
        fail("line_limited.roles", f"unknown role ({exc})")
    return Policy(role_actions, line_domains, line_limited)


def load_policy(path: Path | None = None) -> Policy:
    """The policy from ``path``, or the shipped default."""
    if path is None:
        return default_policy()
    with path.open("rb") as fh:
        return parse_policy(tomllib.load(fh), source=str(path))


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    text = resources.files("rural.rules").joinpath("permissions.toml").read_text("utf-8")
    return parse_policy(tomllib.loads(text), source="rural/rules/permissions.toml")
