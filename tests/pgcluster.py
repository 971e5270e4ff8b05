"""A throwaway PostgreSQL + PostGIS cluster for the suite and the benchmarks.

Runs initdb and pg_ctl as the ``postgres`` user (they refuse root) in a folder that user owns,
listening on 127.0.0.1 and a free port. ``available()`` says why it cannot run, if it cannot.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PG_BIN_CANDIDATES = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"))
POSTGIS_CONTROL_GLOB = "/usr/share/postgresql/*/extension/postgis.control"


def _pg_bin() -> Path | None:
    for candidate in PG_BIN_CANDIDATES:
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def unavailable_reason() -> str | None:
    """None when a cluster can be started here, else a one-line reason."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        return "PostgreSQL binaries (initdb) not found"
    version = bin_dir.parent.name
    if not Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists():
        return f"PostGIS for PostgreSQL {version} not installed (make system-deps)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and no 'postgres' user to run initdb"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    root: Path
    port: int
    bin_dir: Path
    run_as: str | None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://rural@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://rural@127.0.0.1:{self.port}/{database}"

    def _cmd(self, *args: str) -> list[str]:
        if self.run_as:
            return ["runuser", "-u", self.run_as, "--", *args]
        return list(args)

    def run(self, *args: str) -> None:
        subprocess.run(self._cmd(*args), check=True, capture_output=True, text=True)

    def create_database(self, name: str) -> str:
        self.run(
            str(self.bin_dir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "rural",
            name,
        )
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        self.run(
            str(self.bin_dir / "dropdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "rural",
            "--if-exists",
            "--force",
            name,
        )

    def stop(self) -> None:
        subprocess.run(
            self._cmd(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.root / "data"),
                "-m",
                "immediate",
                "stop",
            ),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> Cluster:
    """initdb + pg_ctl start on a free loopback port; the caller must ``stop()`` it."""
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    bin_dir = _pg_bin()
    assert bin_dir is not None
    run_as = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="rural-pg-"))
    if run_as:
        info = pwd.getpwnam(run_as)
        os.chown(root, info.pw_uid, info.pw_gid)
    cluster = Cluster(root=root, port=_free_port(), bin_dir=bin_dir, run_as=run_as)
    data = root / "data"
    cluster.run(
        str(bin_dir / "initdb"),
        "-D",
        str(data),
        "-U",
        "rural",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    )
    options = f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {root} -c fsync=off"
    cluster.run(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(root / "log"),
        "-w",
        "-t",
        "60",
        "start",
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", cluster.port)) == 0:
                return cluster
        time.sleep(0.2)
    cluster.stop()
    msg = "PostgreSQL did not start listening within 30 s"
    raise RuntimeError(msg)
