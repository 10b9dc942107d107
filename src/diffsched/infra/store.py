"""Atomic artefacts, never half-written: ``.npz`` arrays plus one JSON metadata record, and JSON files.

A file is written to a temporary name in its own directory and moved into place with ``os.replace``
(atomic on POSIX within one file system), so a reader sees either the old file, the new one, or none.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from diffsched.infra.atomic import atomic_write


def save(path, meta: dict, **arrays) -> Path:
    """Write ``arrays`` and ``meta`` (JSON-serialisable) to ``path`` (.npz) atomically."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"artefact path must end in .npz, got {str(path)!r}")
    if "meta" in arrays:
        raise ValueError("'meta' is reserved for the metadata record; rename that array")
    record = np.array(json.dumps(meta, sort_keys=True))
    return atomic_write(path, lambda f: np.savez(f, meta=record, **arrays))


def save_json(path, record: dict) -> Path:
    """Write ``record`` as indented JSON to ``path`` atomically."""
    text = json.dumps(record, indent=1) + "\n"
    return atomic_write(path, lambda f: f.write(text.encode()))


def load(path, keys=None) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays (all, or only ``keys``) and the metadata record of an artefact written by :func:`save`."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"artefact {str(path)!r} does not exist; run the step that writes it first")
    with np.load(path, allow_pickle=False) as f:
        if "meta" not in f.files:
            raise ValueError(f"{str(path)!r} has no metadata record; it was not written by diffsched.infra.store.save")
        missing = set(keys or ()) - set(f.files)
        if missing:
            raise ValueError(f"{str(path)!r} has no array {sorted(missing)}")
        arrays = {k: f[k] for k in (keys if keys is not None else f.files) if k != "meta"}
        meta = json.loads(str(f["meta"]))
    return arrays, meta
