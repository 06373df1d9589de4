"""Atomic file writes: a failed run never leaves a half-written file behind.

Files and directories this tool writes are private by default (files 0600, directories 0700):
snapshots hold full license keys and the inventory, reports and history hold the same
facts. ``[output] file_mode = "umask"`` widens them to what ``open()``/``mkdir`` would give
under the process umask (e.g. 0644/0755 with umask 022), for a site that shares reports
through the file system.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

FileMode = Literal["private", "umask"]

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700

_policy: FileMode = "private"


def set_file_mode(policy: FileMode) -> None:
    """Choose the permissions of everything written from now on (``[output] file_mode``)."""
    global _policy
    if policy not in ("private", "umask"):
        raise ValueError(f"file mode must be 'private' or 'umask', not {policy!r}")
    _policy = policy


def file_mode() -> FileMode:
    return _policy


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def default_file_mode() -> int:
    return PRIVATE_FILE if _policy == "private" else 0o666 & ~_umask()


def default_dir_mode() -> int:
    return PRIVATE_DIR if _policy == "private" else 0o777 & ~_umask()


def missing_dirs(path: str | os.PathLike[str]) -> list[Path]:
    """The directories ``make_dirs(path)`` would create, deepest first."""
    missing: list[Path] = []
    p = Path(path)
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    return missing


def make_dirs(path: str | os.PathLike[str]) -> Path:
    """``mkdir -p`` where every directory created gets the policy's mode (existing ones are left)."""
    target = Path(path)
    mode = default_dir_mode()
    for d in reversed(missing_dirs(target)):
        try:
            d.mkdir()
        except FileExistsError:
            continue
        os.chmod(d, mode)  # mkdir's mode is cut by the umask; the policy's is exact
    return target


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, mode: int | None = None) -> Path:
    """Write to a temp file in the same directory, fsync, then rename over the target.

    The file gets ``mode`` (default: the policy's, see ``set_file_mode``)."""
    return atomic_write_chunks(path, (data,), mode)


def atomic_write_chunks(path: str | os.PathLike[str], chunks: Iterable[bytes], mode: int | None = None) -> Path:
    """``atomic_write_bytes`` of the concatenated ``chunks``, written as they come (never all in
    memory at once); an error while producing them leaves no file behind."""
    target = Path(path)
    make_dirs(target.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:  # name the user's file in the message, not the temp file's random name
        raise _naming(exc, target) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, default_file_mode() if mode is None else mode)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.filename == tmp:
            raise _naming(exc, target) from None
        raise
    return target


def _naming(exc: OSError, target: Path) -> OSError:
    """``exc`` about ``target``: the same class and errno (PermissionError stays one)."""
    return type(exc)(exc.errno, exc.strerror or str(exc), str(target))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def create_private_file(path: str | os.PathLike[str]) -> None:
    """Create an empty file with the policy's mode if it does not exist (e.g. a SQLite database,
    whose journal files SQLite then gives the same permissions)."""
    target = Path(path)
    make_dirs(target.parent)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, default_file_mode())
    except FileExistsError:
        return
    os.close(fd)
    os.chmod(target, default_file_mode())
