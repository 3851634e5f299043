"""A PostgreSQL cluster and a redis-server of the campaign's own, which it may stop and restart at will.

The shared servers other people's tests use are never touched. Each server is described by environment
variables, so the child pytest that injects the faults restarts the very servers its parent started.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's binaries; a clear failure when there are none."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL server binaries are needed (apt-get install postgresql): no initdb found.")
    return Path(found[-1]).parent


class PrivatePostgres:
    """A throwaway cluster (initdb into a temporary folder, trust auth, no fsync) on a free port.

    As root, the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
    """

    def __init__(self, folder: Path, port: int, bindir: Path) -> None:
        self.folder, self.port, self.bindir = folder, port, bindir
        self.user = "postgres" if os.geteuid() == 0 else None

    @classmethod
    def create(cls) -> PrivatePostgres:
        bindir = postgres_bin()
        folder = Path(tempfile.mkdtemp(prefix="skillproof-faults-pg-"))
        server = cls(folder, free_port(), bindir)
        if server.user:
            shutil.chown(folder, server.user)
        server._pg("initdb", "-D", str(server.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        return server

    @classmethod
    def from_env(cls) -> PrivatePostgres:
        return cls(
            Path(os.environ["FAULTS_PG_DIR"]), int(os.environ["FAULTS_PG_PORT"]), Path(os.environ["FAULTS_PG_BIN"])
        )

    def env(self) -> dict[str, str]:
        return {"FAULTS_PG_DIR": str(self.folder), "FAULTS_PG_PORT": str(self.port), "FAULTS_PG_BIN": str(self.bindir)}

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast` disconnects every client at once (their next query fails); `immediate` is a crash."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def _pg(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [str(self.bindir / program), *args], user=self.user, cwd=self.folder, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


class PrivateRedis:
    """A redis-server without persistence: a restart loses every queued message, as a crash would."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is needed (apt-get install redis-server)")
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not _listening(self.port):
            assert self.process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, like a crash: nothing is saved, every connection drops."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
