"""One running pipeline per data directory.

Two pipelines on one directory would both consume the stream and both re-run each other's
"interrupted" executions on start; an advisory lock held for the pipeline's lifetime turns that
into a clear error instead. The kernel drops the lock when the process dies, so a crash never
leaves the directory locked.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from autotagger.errors import UserError

LOCK_FILE = "pipeline.lock"


class DataDirLock:
    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise UserError(f"{self.path.parent} is in use by another running autotagger (pid {holder}); "
                            "stop it, or use its HTTP API, or pass another --data-dir") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
