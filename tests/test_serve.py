"""``rural serve`` behind a reverse proxy: whose X-Forwarded-For the server believes.

Login limits and the security log count clients by address; behind the intranet's proxy every
request comes from the proxy, so the proxy must be named (``--forwarded-allow-ips``) and nobody
else may claim an address by sending the header.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, select

from rural.models import SecurityEvent, SecurityEventKind
from tests.apiworld import World, running_server

pytestmark = pytest.mark.slow

CLIENT = "203.0.113.7"  # the address a proxy reports for the real client (TEST-NET-3)


def _failed_login_address(world: World, folder: Path, proxies: str) -> str:
    with running_server(
        world.settings.database_url, folder, serve_args=["--forwarded-allow-ips", proxies]
    ) as server:
        response = httpx.post(
            server.base_url + "/auth/token",
            data={"username": "cadre_a", "password": "not the password"},
            headers={"X-Forwarded-For": CLIENT},
            timeout=30,
        )
        assert response.status_code == 401
    with Session(world.engine) as session:
        event = session.exec(
            select(SecurityEvent)
            .where(SecurityEvent.kind == SecurityEventKind.LOGIN_FAILED)
            .order_by(col(SecurityEvent.id).desc())
        ).first()
    assert event is not None
    return str(event.ip)


def test_the_named_proxy_is_believed_and_no_one_else(world: World, tmp_path: Path) -> None:
    world.engine.dispose()  # the server owns the database while it runs
    assert _failed_login_address(world, tmp_path, "127.0.0.1") == CLIENT
    # The request comes from 127.0.0.1, which is not the named proxy: its header is ignored.
    assert _failed_login_address(world, tmp_path, "10.1.2.3") == "127.0.0.1"


def test_the_development_secret_serves_loopback_only(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond 127.0.0.1 the server needs a real RURAL_SECRET_KEY: it refuses before starting."""
    from typer.testing import CliRunner

    from rural.cli import app

    monkeypatch.setenv("RURAL_DATABASE_URL", world.settings.database_url)
    monkeypatch.delenv("RURAL_SECRET_KEY", raising=False)
    refused = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "9"])  # noqa: S104
    assert refused.exit_code == 2
    assert "RURAL_SECRET_KEY" in refused.output


def test_a_refused_setting_is_named_and_its_value_never_printed(tmp_path: Path) -> None:
    """A secret key too short for production: the real command says which setting and why, in
    one line, with no traceback and nothing of the key it refused."""
    key = "Abc123SecretValueThirtyOneChars"  # 31 characters: one too few
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RURAL_")},
        "RURAL_DATABASE_URL": f"sqlite:///{tmp_path / 'rural.db'}",
        "RURAL_ENVIRONMENT": "production",
        "RURAL_SECRET_KEY": key,
    }
    rural = str(Path(sys.executable).parent / "rural")
    result = subprocess.run(
        [rural, "serve", "--port", "9"], env=environment, capture_output=True, text=True, timeout=60
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "RURAL_SECRET_KEY" in output
    assert "32" in output
    assert "Traceback" not in output
    assert "ThirtyOne" not in output
    assert "Chars" not in output
    bad_number = {**environment, "RURAL_SECRET_KEY": key + "!", "RURAL_LOGIN_MAX_FAILURES": "abc"}
    result = subprocess.run(
        [rural, "stats"], env=bad_number, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "RURAL_LOGIN_MAX_FAILURES" in result.stderr
    assert "abc" not in result.stderr
