"""Writing the tool's output files: all or nothing, and refused before any work when it cannot be done."""
from __future__ import annotations

import os
import tempfile

from .errors import InputError


def check_writable(path: str) -> None:
    """Fail before any work if ``path``'s directory cannot be created or written."""
    parent = os.path.dirname(os.path.abspath(path)) or "."
    probe = parent
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if os.path.isdir(path):
        raise InputError(f"cannot write {path!r}: it is a directory")
    if not os.path.isdir(probe) or not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {path!r}: {probe!r} is not a writable directory")
    if os.path.exists(path) and not os.access(path, os.W_OK) and not os.access(parent, os.W_OK):
        raise InputError(f"cannot write {path!r}: permission denied")


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``: all or nothing.

    A write that fails part way (disk full, interrupted) leaves ``path`` as it was and no temporary file.
    """
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InputError(f"cannot write {path!r}: it is a directory")
    try:
        os.makedirs(parent, exist_ok=True)
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
