"""Files on disk: atomic writes (a temporary sibling, then a rename, so readers never see half a file) and
checksums."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yield a temporary path next to ``path``; on success it replaces ``path``, on error it is removed.

    ``suffix`` keeps the extension for writers that infer the format from it (numpy, matplotlib). The file
    gets the permissions a plain ``open`` would give it (mkstemp's are private).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix or path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path, write) -> Path:
    """Call ``write(file)`` on a binary file that atomically becomes ``path``."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)
    return Path(path)


def write_text(path, text: str) -> None:
    """Atomically write a text file."""
    atomic_write(path, lambda f: f.write(text.encode()))


def check_writable(path) -> Path:
    """Refuse an output path that cannot be written, before any work is done and without creating anything: a
    probe file is made and removed in the nearest existing folder (the missing ones are created on writing)."""
    path = Path(path).absolute()
    if path.is_dir():
        raise ValueError(f"output {str(path)!r} is a folder; give a file name")
    folder = next(p for p in path.parents if p.exists())
    try:
        if not folder.is_dir():
            raise NotADirectoryError(f"{folder} is a file")
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ValueError(f"cannot write the output {str(path)!r}: {err}; choose a writable folder") from None
    return path


def file_digest(path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB blocks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
