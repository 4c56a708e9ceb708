"""Reading files a student handed in, from the trusted grader process, without trusting them.

Every byte of a hand-in is hostile: a file may be a symlink to the hidden labels, a FIFO that blocks
forever, a 1 TiB sparse file, or a folder of a million entries. These helpers never follow a symlink
(not in the last component, and not in the folders below ``root`` when one is given), refuse what is
not a regular file, and stop at a size or entry limit instead of reading on.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CHUNK = 1 << 20


class UnsafeFile(OSError):
    """The file cannot be read safely: a symlink, not a regular file, too large, or missing."""


def open_regular(path: Path | str, *, root: Path | str | None = None) -> int:
    """A read-only fd of the regular file ``path``; no symlink followed anywhere below ``root``.

    Without ``root`` only the last component is checked (the caller trusts the folders above it).
    Raises UnsafeFile.
    """
    path = Path(path)
    if root is None:
        dir_fd, parts = None, [path.name]
        parent = path.parent
    else:
        rel = PurePosixPath(os.path.relpath(path, root))
        if rel.is_absolute() or ".." in rel.parts or not rel.parts or rel.parts == (".",):
            raise UnsafeFile(f"{path} is not inside {root}")
        parent, parts = Path(root), list(rel.parts)
    try:
        dir_fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise UnsafeFile(f"{path}: cannot open its folder ({exc.strerror})") from exc
    try:
        for part in parts[:-1]:
            try:
                nfd = os.open(part, _DIR_FLAGS, dir_fd=dir_fd)
            except OSError as exc:
                raise UnsafeFile(f"{path}: {part} is not a plain folder (a symlink?)") from exc
            os.close(dir_fd)
            dir_fd = nfd
        try:
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError as exc:
            raise UnsafeFile(f"{path.name}: missing") from exc
        except OSError as exc:  # ELOOP: the last component is a symlink
            raise UnsafeFile(f"{path.name}: not a regular file (a symlink?)") from exc
    finally:
        os.close(dir_fd)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise UnsafeFile(f"{path.name}: not a regular file")
    return fd


def _chunks(fd: int, max_bytes: int, name: str) -> Iterator[bytes]:
    """The file's bytes, in chunks; raises UnsafeFile past max_bytes (whatever st_size claimed)."""
    if os.fstat(fd).st_size > max_bytes:
        raise UnsafeFile(f"{name}: too large ({os.fstat(fd).st_size:,} bytes, at most {max_bytes:,})")
    total = 0
    while True:
        chunk = os.read(fd, _CHUNK)
        if not chunk:
            return
        total += len(chunk)
        if total > max_bytes:
            raise UnsafeFile(f"{name}: too large (more than {max_bytes:,} bytes)")
        yield chunk


def read_limited(path: Path | str, max_bytes: int, *, root: Path | str | None = None) -> bytes:
    """The bytes of a regular file, at most max_bytes (else UnsafeFile)."""
    fd = open_regular(path, root=root)
    try:
        return b"".join(_chunks(fd, max_bytes, Path(path).name))
    finally:
        os.close(fd)


def copy_limited(src: Path | str, dest: Path, max_bytes: int, *, root: Path | str | None = None) -> Path:
    """Copy a regular file to dest (written atomically), at most max_bytes (else UnsafeFile)."""
    fd = open_regular(src, root=root)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    try:
        with open(tmp, "wb") as out:
            for chunk in _chunks(fd, max_bytes, Path(src).name):
                out.write(chunk)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    return dest


def hash_limited(path: Path | str, max_bytes: int, digest: hashlib._Hash | None = None) -> str:
    """sha256 of a regular file (at most max_bytes); a file that cannot be read safely hashes as
    its reason, so a fingerprint still changes when the file does."""
    digest = digest or hashlib.sha256()
    try:
        fd = open_regular(path)
    except UnsafeFile as exc:
        digest.update(f"<unsafe: {exc}>".encode("utf-8", "backslashreplace"))
        return digest.hexdigest()
    try:
        for chunk in _chunks(fd, max_bytes, Path(path).name):
            digest.update(chunk)
    except UnsafeFile:
        st = os.fstat(fd)
        digest.update(f"<too large: {st.st_size} {st.st_mtime_ns}>".encode())
    finally:
        os.close(fd)
    return digest.hexdigest()


class TooManyEntries(OSError):
    """A folder holds more entries than the walk allows."""


def walk(root: Path | str, *, max_entries: int = 10_000) -> Iterator[tuple[PurePosixPath, os.stat_result]]:
    """(path relative to root, lstat) of every entry below root, folders before their contents.

    Symlinks are listed (their lstat says so) but never followed; raises TooManyEntries past
    max_entries, so a hand-in of a million files costs a bounded amount of work.
    """
    stack = [PurePosixPath()]
    seen = 0
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(Path(root) / rel) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > max_entries:
                raise TooManyEntries(f"more than {max_entries:,} files and folders")
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            child = rel / entry.name
            yield child, st
            if stat.S_ISDIR(st.st_mode):
                stack.append(child)


def remove_tree(path: Path | str) -> None:
    """Remove a folder a notebook wrote into, however deep: shutil.rmtree recurses in Python and raises
    RecursionError on a few thousand nested folders (not an OSError, so ignore_errors does not help);
    then coreutils' rm, which does not recurse on the stack, finishes the job."""
    import shutil
    import subprocess

    try:
        shutil.rmtree(path, ignore_errors=True)
    except RecursionError:
        pass
    if os.path.lexists(path):
        subprocess.run(["rm", "-rf", "--one-file-system", "--", str(path)], cwd="/", check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
