"""Disk failures as one line a person can act on: full, read-only, no permission, unreadable.

Every write path that can meet a full disk or a read-only workspace (saving a file, the
save lock, the database) turns the OSError into a DiskError through `disk_error`, after
putting back what it had changed; the CLI prints it and exits non-zero, the app shows it.
"""

from __future__ import annotations

import errno

from promptyard.errors import PromptyardError

_FULL = {errno.ENOSPC, errno.EDQUOT}
_DENIED = {errno.EACCES, errno.EPERM}


class DiskError(PromptyardError):
    """A file could not be written or read: disk full, read-only, no permission. Nothing
    stored was changed."""


def disk_error(exc: OSError, doing: str, unchanged: bool = True) -> DiskError:
    """A DiskError saying what failed (`doing`, e.g. "saving prompts/a.prompty"), why, and
    what to do about it; `unchanged`: the caller put back what it had changed, and says so."""
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno in _FULL:
        advice = "the disk is full: free some space and try again"
    elif exc.errno == errno.EFBIG:
        advice = "the file size limit was reached (ulimit -f, or the file system's): raise it"
    elif exc.errno == errno.EROFS:
        advice = (
            "the workspace is on a read-only file system: remount it read-write,"
            " or work in a writable copy"
        )
    elif exc.errno in _DENIED:
        advice = "permission denied: make the workspace writable for you (chmod u+w), or own it"
    else:
        advice = exc.strerror or str(exc)
    tail = "; nothing stored was changed" if unchanged else ""
    return DiskError(f"{doing} failed{where}: {advice}{tail}")
