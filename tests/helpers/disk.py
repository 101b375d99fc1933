"""A state directory that cannot be written: full (ENOSPC) or read-only (EROFS).

Tests here run as root, for whom file modes mean nothing, so the refusal is made where
Python asks the kernel: every attempt to create, open for writing, rename or make a
directory under ``root`` fails with the given errno, as on a full or read-only
filesystem. Reads work as usual.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
from pathlib import Path
from typing import Any

import pytest

__all__ = ["refuse_writes_under"]

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def refuse_writes_under(monkeypatch: pytest.MonkeyPatch, root: Path, code: int) -> None:
    """Make every write under ``root`` fail with ``OSError(code)`` (``errno.ENOSPC``...)."""
    root = root.resolve()

    def under(path: Any) -> bool:
        if isinstance(path, int):
            return False
        try:
            return Path(os.fsdecode(path)).resolve().is_relative_to(root)
        except (TypeError, ValueError):
            return False

    def refuse(path: Any) -> OSError:
        return OSError(code, os.strerror(code), os.fsdecode(path))

    real_os_open, real_open = os.open, builtins.open
    real_mkdir, real_replace, real_rename = os.mkdir, os.replace, os.rename

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & _WRITE_FLAGS and under(path):
            raise refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(c in mode for c in "wax+") and under(file):
            raise refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        if under(path) and not os.path.isdir(path):
            raise refuse(path)
        real_mkdir(path, *args, **kwargs)

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if under(dst):
            raise refuse(dst)
        real_replace(src, dst, *args, **kwargs)

    def rename(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if under(dst):
            raise refuse(dst)
        real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "rename", rename)


FULL = errno.ENOSPC
READ_ONLY = errno.EROFS
