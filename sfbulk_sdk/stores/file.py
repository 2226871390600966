"""File session stores: :class:`FileStore` and :class:`AsyncFileStore`.

For processes on one machine without a server. Each key is one JSON file in a
directory that is created with mode 0700; files are written with mode 0600 by
a temporary file, ``fsync`` and :func:`os.replace`, so a reader sees the old
or the new session and never a torn one, and a crash mid-write leaves the
previous session in place. Expiry is checked on every read.

Changes to a key (set, renew, compare-and-delete, lease updates) are
serialised by a per-key ``filelock`` lock that is held for microseconds. The
refresh lock itself is a lease file (owner token plus expiry, in wall-clock
seconds) updated under that lock, so it expires after its TTL exactly like the
Redis and MongoDB locks, even when its holder hangs or is killed.

A failed login (:class:`~sfbulk_sdk.stores.LoginFailureStore`) is kept in a
``<stem>.failed`` file next to the session file, written the same way and
expiring by the store's clock; it holds no secret.

A refresh-token grant (:class:`~sfbulk_sdk.stores.GrantStore`) is a
``<stem>.grant`` file, written the same way (mode 0600, temporary file, fsync,
:func:`os.replace`) and **never expiring**: it is not removed on read nor
cleaned up as stale, since a grant outlives the session and losing it would
make workers fall back to an older refresh token, which under rotation revokes
the grant. It holds the current refresh token, a secret like the session id.

A file this version cannot read (torn by hand, a newer payload version, a
missing field) counts as absent, with a warning, until a login replaces it.

Requires the ``file`` extra: ``pip install 'sfbulk-sdk[file]'``.

Why this module is written by hand, not generated like the other stores:
file I/O has no async form to write once (``async def`` around a blocking
``open``, ``fsync`` or ``filelock`` wait would stall the event loop), so the
right async shape for it is a thread wrapper. :class:`FileStore` holds all of
the logic; :class:`AsyncFileStore` only runs each of its calls in a worker
thread (:func:`anyio.to_thread.run_sync`) and takes its lock through the same
token-owned polling lock as every other async store.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager, contextmanager
from pathlib import Path
from typing import TypedDict, TypeVar

from typing_extensions import Unpack

from ._common import missing_extra

with missing_extra(__name__, "filelock", "file"):
    from filelock import FileLock, Timeout

import anyio.to_thread

from ..core.grants import GrantRecord
from ..core.session_rules import LoginFailure
from ..errors import SessionStoreError
from ..models.session import Session
from ._async.locks import AsyncPollingLock
from ._common import (
    FAILURES,
    GRANTS,
    SESSIONS,
    Records,
    deadline_after,
    logger,
    raise_store_error,
)
from ._sync.locks import PollingLock
from .base import Clock, utc_now

__all__ = ["AsyncFileStore", "FileStore", "FileStoreOptions"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DIR_MODE = 0o700
_FILE_MODE = 0o600
_MUTEX_POLL = 0.001
#: Temp files older than this are leftovers of a crashed write.
_STALE_TEMP_SECONDS = 600.0

_Record = TypeVar("_Record", Session, LoginFailure, GrantRecord)


class FileStoreOptions(TypedDict, total=False):
    """The keyword arguments of :class:`FileStore` (and so of :class:`AsyncFileStore`)."""

    clock: Clock
    lock_poll: float
    mutex_timeout: float


def _stem(key: str) -> str:
    """A file-name-safe, collision-free name for ``key``."""
    readable = _UNSAFE.sub("_", key).strip("._-")[:64] or "session"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return f"{readable}-{digest}"


class FileStore:
    """Sessions as JSON files in ``directory`` (created 0700; files 0600).

    ``clock`` decides session expiry (the refresh lock's TTL runs in real
    time), ``lock_poll`` is how often a waiter retries the refresh lock,
    ``mutex_timeout`` bounds the wait for the short per-key file lock (a
    :class:`SessionStoreError` when exceeded).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        clock: Clock = utc_now,
        lock_poll: float = 0.05,
        mutex_timeout: float = 10.0,
    ) -> None:
        self._dir = Path(directory)
        self._clock = clock
        self._poll = lock_poll
        self._mutex_timeout = mutex_timeout
        self._closed = False
        self._prepare_directory()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self._dir)!r})"

    @property
    def directory(self) -> Path:
        """Where the session files are."""
        return self._dir

    # -- files ---------------------------------------------------------------

    def _prepare_directory(self) -> None:
        try:
            try:
                self._dir.mkdir(mode=_DIR_MODE, parents=True)
            except FileExistsError:
                if not self._dir.is_dir():
                    raise SessionStoreError(
                        f"file store: {str(self._dir)!r} exists and is not a directory"
                    ) from None
                mode = stat.S_IMODE(self._dir.stat().st_mode)
                if mode & 0o077:
                    logger.warning(
                        "file store directory %s is accessible to other users (mode %o); "
                        "session files are 0600 but their names are visible",
                        self._dir,
                        mode,
                    )
            else:
                os.chmod(self._dir, _DIR_MODE)
        except OSError as exc:
            raise_store_error(f"file store: cannot prepare {str(self._dir)!r}", exc)
        self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        """Delete temp files a crashed writer left behind (they may hold a session id).

        A write takes milliseconds, so a temp file older than
        :data:`_STALE_TEMP_SECONDS` belongs to no live writer.
        """
        cutoff = time.time() - _STALE_TEMP_SECONDS
        for leftover in self._dir.glob(".tmp-*.part"):
            try:
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                logger.warning("file store: cannot remove a stale temporary file: %s", exc)

    def _check_open(self) -> None:
        if self._closed:
            raise SessionStoreError("the file session store is closed")

    def _paths(self, key: str) -> tuple[Path, Path, Path]:
        stem = _stem(key)
        return (
            self._dir / f"{stem}.json",
            self._dir / f"{stem}.lease",
            self._dir / f"{stem}.lock",
        )

    def _failure_path(self, key: str) -> Path:
        return self._dir / f"{_stem(key)}.failed"

    def _grant_path(self, key: str) -> Path:
        return self._dir / f"{_stem(key)}.grant"

    @contextmanager
    def _mutex(self, path: Path) -> Iterator[None]:
        lock = FileLock(str(path), timeout=self._mutex_timeout, mode=_FILE_MODE)
        try:
            # Held for microseconds: retry often rather than filelock's 50 ms.
            lock.acquire(poll_interval=_MUTEX_POLL)
        except Timeout:
            raise SessionStoreError(
                f"file store: {path.name} stayed locked for {self._mutex_timeout:g}s"
            ) from None
        except OSError as exc:
            raise_store_error(f"file store: cannot lock {path.name}", exc)
        try:
            yield
        finally:
            lock.release()

    def _read(self, path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise_store_error(f"file store: cannot read {path.name}", exc)

    def _write(self, path: Path, text: str, *hidden: str) -> None:
        """Atomically replace ``path`` with ``text`` (temp file, fsync, rename)."""
        tmp_name = ""
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=self._dir)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                os.fchmod(handle.fileno(), _FILE_MODE)
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, path)
            tmp_name = ""
            self._sync_directory()
        except OSError as exc:
            raise_store_error(f"file store: cannot write {path.name}", exc, *hidden)
        finally:
            if tmp_name:
                try:
                    os.unlink(tmp_name)
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    logger.warning("file store: cannot remove temporary file: %s", exc)

    def _sync_directory(self) -> None:
        if os.name != "posix":  # pragma: no cover - directories cannot be fsynced on Windows
            return
        fd = os.open(self._dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _unlink(self, path: Path) -> None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise_store_error(f"file store: cannot remove {path.name}", exc)

    def _live(self, path: Path, records: Records[_Record], mutex: Path) -> _Record | None:
        """The live record in ``path``; an expired one is removed on the way."""
        self._check_open()
        raw = self._read(path)
        if raw is None:
            return None
        found, expired = records.read(raw, self._clock(), where=f"file store ({path.name})")
        if expired:
            with self._mutex(mutex):
                if self._read(path) == raw:
                    self._unlink(path)
        return found

    def _stored(self, path: Path) -> tuple[Session, float] | None:
        """The session in ``path`` and its deadline; ``None`` when absent or unreadable."""
        raw = self._read(path)
        return None if raw is None else SESSIONS.decode(raw, f"file store ({path.name})")

    # -- the store contract ---------------------------------------------------

    def get(self, key: str) -> Session | None:
        data, _, mutex = self._paths(key)
        return self._live(data, SESSIONS, mutex)

    def set(self, key: str, session: Session, ttl: float) -> None:
        self._check_open()
        deadline = deadline_after(self._clock(), ttl)
        data, _, mutex = self._paths(key)
        with self._mutex(mutex):
            self._write(
                data, SESSIONS.encode(session, deadline), session.session_id.get_secret_value()
            )

    def renew(self, key: str, session: Session, ttl: float) -> bool:
        self._check_open()
        now = self._clock()
        deadline = deadline_after(now, ttl)
        data, _, mutex = self._paths(key)
        with self._mutex(mutex):
            stored = self._stored(data)
            if stored is None or not SESSIONS.is_live(*stored, now):
                return False
            if not stored[0].same_credential(session):
                return False
            self._write(
                data, SESSIONS.encode(session, deadline), session.session_id.get_secret_value()
            )
            return True

    def compare_and_delete(self, key: str, session_id: str) -> bool:
        self._check_open()
        data, _, mutex = self._paths(key)
        with self._mutex(mutex):
            stored = self._stored(data)
            if stored is None or stored[0].session_id.get_secret_value() != session_id:
                return False
            self._unlink(data)
            return True

    # -- login failures (LoginFailureStore) -----------------------------------

    def get_failure(self, key: str) -> LoginFailure | None:
        return self._live(self._failure_path(key), FAILURES, self._paths(key)[2])

    def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
        self._check_open()
        deadline = deadline_after(self._clock(), ttl)
        with self._mutex(self._paths(key)[2]):
            self._write(self._failure_path(key), FAILURES.encode(failure, deadline))

    def clear_failure(self, key: str) -> None:
        self._check_open()
        path = self._failure_path(key)
        if not path.exists():  # the usual case: spare the mutex
            return
        with self._mutex(self._paths(key)[2]):
            self._unlink(path)

    # -- refresh-token grants (GrantStore) ---------------------------------------

    def get_grant(self, key: str) -> GrantRecord | None:
        # Never expired, so never removed by _live.
        return self._live(self._grant_path(key), GRANTS, self._paths(key)[2])

    def set_grant(self, key: str, grant: GrantRecord) -> None:
        self._check_open()
        with self._mutex(self._paths(key)[2]):
            self._write(
                self._grant_path(key),
                GRANTS.encode_lasting(grant),
                grant.refresh_token.get_secret_value(),
            )

    # -- the refresh lock -------------------------------------------------------

    def _try_lease(self, key: str, token: str, ttl: float) -> bool:
        self._check_open()
        _, lease, mutex = self._paths(key)
        with self._mutex(mutex):
            # Lock time, not session time: the wall clock every process shares,
            # read once the mutex is held.
            now = time.time()
            raw = self._read(lease)
            if raw is not None:
                try:
                    held = json.loads(raw)
                    if float(held["expires_at"]) > now:
                        return False
                except (ValueError, TypeError, KeyError):
                    logger.warning("file store: replacing an unreadable lease file %s", lease.name)
            self._write(lease, json.dumps({"token": token, "expires_at": now + ttl}))
            return True

    def _release_lease(self, key: str, token: str) -> bool:
        self._check_open()
        _, lease, mutex = self._paths(key)
        with self._mutex(mutex):
            raw = self._read(lease)
            if raw is None:
                return False
            try:
                owner = json.loads(raw).get("token")
            except (ValueError, AttributeError):
                return False
            if owner != token:
                return False
            self._unlink(lease)
            return True

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractContextManager[None]:
        return PollingLock(self, key, ttl=ttl, wait=wait, poll=self._poll)

    def close(self) -> None:
        self._closed = True


class AsyncFileStore:
    """The async face of :class:`FileStore`: each call runs the sync store's in a thread.

    Takes the arguments of :class:`FileStore` (``directory``, then ``clock``,
    ``lock_poll`` and ``mutex_timeout`` by keyword).
    """

    def __init__(
        self, directory: str | os.PathLike[str], **options: Unpack[FileStoreOptions]
    ) -> None:
        self._sync = FileStore(directory, **options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self._sync.directory)!r})"

    @property
    def directory(self) -> Path:
        """Where the session files are."""
        return self._sync.directory

    async def get(self, key: str) -> Session | None:
        return await anyio.to_thread.run_sync(self._sync.get, key)

    async def set(self, key: str, session: Session, ttl: float) -> None:
        await anyio.to_thread.run_sync(self._sync.set, key, session, ttl)

    async def renew(self, key: str, session: Session, ttl: float) -> bool:
        return await anyio.to_thread.run_sync(self._sync.renew, key, session, ttl)

    async def compare_and_delete(self, key: str, session_id: str) -> bool:
        return await anyio.to_thread.run_sync(self._sync.compare_and_delete, key, session_id)

    async def get_failure(self, key: str) -> LoginFailure | None:
        return await anyio.to_thread.run_sync(self._sync.get_failure, key)

    async def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
        await anyio.to_thread.run_sync(self._sync.set_failure, key, failure, ttl)

    async def clear_failure(self, key: str) -> None:
        await anyio.to_thread.run_sync(self._sync.clear_failure, key)

    async def get_grant(self, key: str) -> GrantRecord | None:
        return await anyio.to_thread.run_sync(self._sync.get_grant, key)

    async def set_grant(self, key: str, grant: GrantRecord) -> None:
        await anyio.to_thread.run_sync(self._sync.set_grant, key, grant)

    async def _try_lease(self, key: str, token: str, ttl: float) -> bool:
        return await anyio.to_thread.run_sync(self._sync._try_lease, key, token, ttl)

    async def _release_lease(self, key: str, token: str) -> bool:
        return await anyio.to_thread.run_sync(self._sync._release_lease, key, token)

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractAsyncContextManager[None]:
        return AsyncPollingLock(self, key, ttl=ttl, wait=wait, poll=self._sync._poll)

    async def aclose(self) -> None:
        self._sync.close()
