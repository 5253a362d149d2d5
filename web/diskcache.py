"""Rendered files on disk under the data folder, bounded in bytes and in files (least recently used go)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import threading
from collections import OrderedDict
from pathlib import Path

log = logging.getLogger(__name__)

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,80}")


class DiskCache:
    """Files kept as `<root>/<key>/<name>`; the index lives in memory, so a lookup touches no disk.

    Writes go to a temporary file first and are renamed into place, so a reader never sees half a file.
    Methods that touch the disk are blocking: call them from a thread. A lock guards the index, since
    writes run in threads while the event loop looks files up.
    """

    def __init__(self, root: Path, max_bytes: int, max_files: int) -> None:
        self.root = root
        self._max_bytes = max_bytes
        self._max_files = max_files
        self._sizes: OrderedDict[Path, int] = OrderedDict()  # least recently used first
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        """Bytes currently kept."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._sizes)

    def load(self) -> None:
        """Index what an earlier run left (oldest modified first) and trim it to the bounds."""
        self.root.mkdir(parents=True, exist_ok=True)
        found = [
            (p.stat().st_mtime, p) for p in self.root.glob("*/*") if p.is_file() and ".tmp" not in p.name
        ]
        for _, path in sorted(found):
            self._remember(path, path.stat().st_size)
        self._trim()
        log.info("web cache %s: %d files, %.1f MB", self.root, len(self._sizes), self._bytes / 1e6)

    def _path(self, key: str, name: str) -> Path:
        if not _NAME.fullmatch(key) or not _NAME.fullmatch(name) or key.startswith("."):
            raise ValueError(f"unsafe cache name {key!r}/{name!r}")
        return self.root / key / name

    def find(self, key: str, name: str) -> Path | None:
        """The cached file, marked recently used, or None (no disk access)."""
        path = self._path(key, name)
        with self._lock:
            if path not in self._sizes:
                return None
            self._sizes.move_to_end(path)
        return path

    def write(self, key: str, name: str, data: bytes) -> Path:
        """Keep `data` as key/name (replacing any earlier file) and drop old files beyond the bounds."""
        path = self._path(key, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)
        with self._lock:
            self._forget(path)
            self._remember(path, len(data))
            evicted = self._trim(keep=path)
        _delete(evicted)
        return path

    def drop(self, key: str) -> None:
        """Remove every file of a key (a removed piece leaves nothing behind)."""
        folder = self._path(key, "x").parent
        with self._lock:
            for path in [p for p in self._sizes if p.parent == folder]:
                self._forget(path)
        shutil.rmtree(folder, ignore_errors=True)

    def _remember(self, path: Path, size: int) -> None:
        self._sizes[path] = size
        self._bytes += size

    def _forget(self, path: Path) -> None:
        self._bytes -= self._sizes.pop(path, 0)

    def _trim(self, keep: Path | None = None) -> list[Path]:
        """Drop least recently used entries beyond the bounds (under the lock); the files to delete."""
        evicted: list[Path] = []
        while self._sizes and (self._bytes > self._max_bytes or len(self._sizes) > self._max_files):
            oldest = next(iter(self._sizes))
            if oldest == keep:
                if len(self._sizes) == 1:
                    break  # one file larger than the whole cache: keep it until the next write
                self._sizes.move_to_end(oldest)
                continue
            self._forget(oldest)
            evicted.append(oldest)
        return evicted


def _delete(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the folder goes only once the key has no files left
            path.parent.rmdir()
