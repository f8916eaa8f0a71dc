"""Writing the tool's output files: all or nothing, and refused before any work when it cannot be done.

One rule for every command that writes a file (report, chart, bench): the file's directory must exist. A
missing one is refused, not created, so a mistyped path never leaves a stray directory tree behind.
"""
from __future__ import annotations

import os
import tempfile

from .errors import InputError


def check_writable(path: str) -> None:
    """Fail before any work if ``path`` is a directory, or its directory is missing or cannot be written."""
    parent = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.isdir(path):
        raise InputError(f"cannot write {path!r}: it is a directory")
    check_directory(path)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {path!r}: {parent!r} is not a writable directory")
    if os.path.exists(path) and not os.access(path, os.W_OK) and not os.access(parent, os.W_OK):
        raise InputError(f"cannot write {path!r}: permission denied")


def check_directory(path: str) -> None:
    """The one rule on directories: ``path``'s directory must already exist (it is never created)."""
    parent = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(parent):
        what = "is not a directory" if os.path.exists(parent) else "does not exist"
        raise InputError(f"cannot write {path!r}: directory {parent!r} {what} (create it first)")


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``: all or nothing.

    A write that fails part way (disk full, interrupted) leaves ``path`` as it was and no temporary file.
    """
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InputError(f"cannot write {path!r}: it is a directory")
    check_directory(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    except OSError as e:
        raise InputError(f"cannot write {path!r}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the rename must not publish a file whose bytes are not on disk yet
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as e:
        os.unlink(tmp)
        raise InputError(f"cannot write {path!r}: {e.strerror or e}") from None
    except BaseException:  # e.g. KeyboardInterrupt mid-write: still no half-written file left behind
        os.unlink(tmp)
        raise
