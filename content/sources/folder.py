"""The content folder as a source: list, stat and read the article files that changed.

Blocking file I/O, meant to run in a thread. Reads are bounded (a file over the limit is refused
without being read), and a symbolic link is followed only when its target is inside the folder:
links that stay inside are how editors alias a file, while one pointing out of the folder
(`memo.txt -> ../private/notes`) would publish whatever it names.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from content.parsing import SUPPORTED_SUFFIXES
from content.parsing.text import MAX_ARTICLE_BYTES, too_large

OUTSIDE_LINK = "is a link to outside the content folder: not read"
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


@dataclass(frozen=True, slots=True)
class FolderItem:
    """One article file: its version, and its bytes or why they were not read."""

    path: Path  # as listed in the folder (what people are told)
    key: str  # the resolved path: one file reached by two names is one item
    mtime_ns: int
    size: int
    data: bytes | None = None  # None when unchanged since the version in `versions`
    error: str | None = None


def look(
    folder: Path,
    versions: Mapping[str, tuple[int, int]],
    *,
    max_bytes: int = MAX_ARTICLE_BYTES,
) -> list[FolderItem] | None:
    """The folder's article files, read when their (mtime, size) is not in `versions`.

    None when the folder does not exist.
    """
    try:
        root = folder.resolve(strict=True)
        names = sorted(path.name for path in folder.iterdir())
    except OSError:  # missing, not a folder, or not readable
        return None
    items: list[FolderItem] = []
    keys: set[str] = set()
    for name in names:
        if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        item = _look_at(folder / name, root, versions, max_bytes)
        if item is not None and item.key not in keys:
            keys.add(item.key)
            items.append(item)
    return items


def _look_at(
    path: Path, root: Path, versions: Mapping[str, tuple[int, int]], max_bytes: int
) -> FolderItem | None:
    """One listed name as an item; None for what is not an article file (or vanished)."""
    try:
        link = path.lstat()
        target = path.resolve(strict=True)
        if stat.S_ISLNK(link.st_mode) and not target.is_relative_to(root):
            key = str(root / path.name)
            item = FolderItem(path, key, link.st_mtime_ns, link.st_size)
            unchanged = versions.get(key) == (link.st_mtime_ns, link.st_size)
            return item if unchanged else FolderItem(path, key, *_version(link), error=OUTSIDE_LINK)
        info = target.stat()
    except OSError:  # vanished between listing and stat, or a dangling link
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    key = str(target)
    if versions.get(key) == (info.st_mtime_ns, info.st_size):
        return FolderItem(path, key, info.st_mtime_ns, info.st_size)
    return _read(path, target, key, info, max_bytes)


def _read(
    path: Path, target: Path, key: str, seen: os.stat_result, max_bytes: int
) -> FolderItem | None:
    """The file's bytes, at most `max_bytes` of them, with the version that was read."""
    try:
        # O_NOFOLLOW: a name swapped for a link after the check above is not followed.
        fd = os.open(target, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ELOOP):
            return None  # vanished or swapped since it was listed: the next scan sees it
        return FolderItem(path, key, *_version(seen), error=_cannot_read(exc))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > max_bytes:
            return FolderItem(path, key, *_version(info), error=too_large(max_bytes))
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            return FolderItem(path, key, *_version(info), error=_cannot_read(exc))
    if len(data) > max_bytes:  # grew after fstat
        return FolderItem(path, key, *_version(info), error=too_large(max_bytes))
    return FolderItem(path, key, *_version(info), data=data)


def _version(info: os.stat_result) -> tuple[int, int]:
    return info.st_mtime_ns, info.st_size


def _cannot_read(exc: OSError) -> str:
    return f"cannot read: {exc.strerror or exc}"
