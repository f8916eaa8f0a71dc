"""The durable store of a sweep: one SQLite file (the standard library's ``sqlite3``), why in docs/landscape.md.

- WAL journal: readers never block the writer, and a process killed mid-write leaves the last committed
  transaction intact (the write-ahead log is replayed or discarded on the next open).
- One transaction per finished model (``put``): a ``kill -9`` loses at most the models still running.
- ``meta.schema_version`` is ``records.SCHEMA_VERSION``; a store of another version is refused, not migrated.
- Several sweeps may write one store at once: each write takes the lock with ``BEGIN IMMEDIATE`` and waits up
  to ``BUSY_TIMEOUT_S`` for another writer's (short) transaction to end.

Nothing is written to a file before it has been checked to be a store of this schema: a corrupt file, a
foreign database or another version is left exactly as it was.
"""
from __future__ import annotations

import os
import time
import sqlite3
from dataclasses import astuple, replace
from typing import Iterable, Optional

from ..errors import CnnprofileError
from .records import INTEGER_FIELDS, KEY, ROW_FIELDS, SCHEMA_VERSION, SweepRow

BUSY_TIMEOUT_S = 60.0


class StoreError(CnnprofileError):
    pass


def _column(name: str) -> str:
    kind = "INTEGER" if name in INTEGER_FIELDS else ("REAL" if name == "seconds" else "TEXT")
    return f"{name} {kind}" + (" NOT NULL" if name in KEY or name == "status" else "")


_CREATE = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS rows ({', '.join(map(_column, ROW_FIELDS))}, PRIMARY KEY ({', '.join(KEY)}))",
)


class Store:
    """An open store. ``Store(path)`` opens (or creates) it for a sweep; ``Store(path, readonly=True)`` only
    reads and never creates."""

    def __init__(self, path: str, *, readonly: bool = False):
        self.path = path
        exists = os.path.exists(path)
        if readonly and not exists:
            raise StoreError(f"no store at {path!r}: run 'cnnprofile sweep ... --store {path}' first")
        if not readonly:
            _check_writable(path, exists)
        self.db = None
        existing = exists and os.path.getsize(path) > 0
        if existing:
            _validate(path)
        try:
            uri = f"file:{os.path.abspath(path)}?mode={'ro' if readonly else 'rwc'}"
            self.db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            if existing:
                _check(self.db, path)
            if not readonly:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable at each checkpoint, never corrupt
                self._create()
        except sqlite3.DatabaseError as e:
            self._close_quietly()
            raise StoreError(f"{path!r} is not a readable cnnprofile store: {e}") from None
        except StoreError:
            self._close_quietly()
            raise

    def _close_quietly(self):
        if self.db is not None:
            self.db.close()

    def _create(self):
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _CREATE:
                self.db.execute(statement)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        _check(self.db, self.path)  # another sweep may have created it first, under another version

    def put(self, rows: Iterable[SweepRow]):
        """Write the rows of one finished model in one transaction (a row of the same key is replaced)."""
        rows = list(rows)
        marks = ", ".join("?" * len(ROW_FIELDS))
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(f"INSERT OR REPLACE INTO rows ({', '.join(ROW_FIELDS)}) VALUES ({marks})",
                                [astuple(r) for r in rows])
            self.db.execute("COMMIT")
        except sqlite3.Error as e:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise StoreError(f"writing to {self.path!r} failed: {e}") from None

    def rows(self, status: Optional[str] = None) -> list:
        """Every row (of ``status`` if given) as a ``SweepRow``, in key order."""
        query = f"SELECT {', '.join(ROW_FIELDS)} FROM rows"
        args: tuple = ()
        if status is not None:
            query, args = query + " WHERE status = ?", (status,)
        try:
            found = self.db.execute(query + f" ORDER BY {', '.join(KEY)}", args).fetchall()
        except sqlite3.OperationalError as e:
            if "no such table: rows" in str(e):  # being created by a sweep: nothing finished yet
                return []
            raise StoreError(f"reading {self.path!r} failed: {e}") from None
        except sqlite3.DatabaseError as e:
            raise StoreError(f"reading {self.path!r} failed: {e}") from None
        return [_row(r) for r in found]

    def keys(self, status: Optional[str] = None) -> set:
        return {r.key for r in self.rows(status)}

    def close(self):
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _row(values: tuple) -> SweepRow:
    row = SweepRow(*values)
    return replace(row, reparam=bool(row.reparam))  # SQLite keeps a boolean as 0 or 1


def _check(db, path: str):
    """Refuse a foreign or other-version store."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:  # a store another sweep has just created and not yet given its tables (or an empty file)
        return
    if "meta" not in tables or "rows" not in tables:
        raise StoreError(f"{path!r} is an SQLite file but not a cnnprofile store (no meta and rows tables)")
    found = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if found is None or found[0] != str(SCHEMA_VERSION):
        raise StoreError(f"{path!r} is a store of schema version {found[0] if found else 'unknown'}; "
                         f"this cnnprofile reads and writes version {SCHEMA_VERSION}")
    columns = [r[1] for r in db.execute("PRAGMA table_info(rows)")]
    if tuple(columns) != ROW_FIELDS:
        raise StoreError(f"{path!r}: its rows table does not have the columns of schema version {SCHEMA_VERSION}")


def _validate(path: str):
    """Check an existing file without creating anything beside it: an immutable connection takes no lock and
    opens no -wal or -shm file. It does not see a write-ahead log not yet checkpointed, so where one exists (a
    sweep is writing, or was killed) a failed check is left to the ordinary connection that reads the log.

    An immutable read of a file that another sweep is creating at that very moment (switching it to WAL, writing
    its first pages) can see a torn page and say "malformed": a damaged file says so every time, a file being
    written only until the write is done, so a failed read is tried again a few times before it counts."""
    for attempt in range(_VALIDATE_TRIES):
        try:
            db = sqlite3.connect(f"file:{os.path.abspath(path)}?immutable=1", uri=True)
            try:
                _check(db, path)
            finally:
                db.close()
            return
        except (sqlite3.DatabaseError, StoreError) as e:
            wal = path + "-wal"
            if os.path.exists(wal) and os.path.getsize(wal) > 0:
                return
            if attempt + 1 < _VALIDATE_TRIES:
                time.sleep(0.05 * (attempt + 1))
                continue
            if isinstance(e, StoreError):
                raise
            raise StoreError(f"{path!r} is not a readable cnnprofile store: {e}") from None


_VALIDATE_TRIES = 5  # about half a second in all


def _check_writable(path: str, exists: bool):
    folder = os.path.dirname(os.path.abspath(path))
    if exists and not os.access(path, os.W_OK):
        raise StoreError(f"cannot write to the store {path!r}: permission denied")
    if not os.path.isdir(folder):
        raise StoreError(f"cannot create the store {path!r}: no folder {folder!r}")
    if not os.access(folder, os.W_OK):  # WAL keeps its -wal and -shm files beside the store
        raise StoreError(f"cannot write the store {path!r}: its folder {folder!r} is not writable")


def read_rows(path: str) -> list:
    """Every row of the store at ``path`` (opened read-only)."""
    with Store(path, readonly=True) as store:
        return store.rows()
