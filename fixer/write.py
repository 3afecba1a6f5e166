"""Writing fixes: atomically, in place, only inside the root, only when the bytes changed."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


class OutsideRoot(ValueError):
    pass


def write_atomic(root: Path, rel: str, data: bytes) -> bool:
    """Replace `root/rel` with `data`; False when the file already holds exactly that.

    The bytes are written to a temporary file beside the target and renamed over it, so an interrupted
    run leaves either the old file or the new one, never a truncated one. Mode bits are kept.
    """
    root = root.resolve()
    target = (root / rel).resolve()
    if root not in target.parents or os.path.islink(root / rel):
        raise OutsideRoot(f"refusing to write {rel}: it resolves outside {root}")
    if target.read_bytes() == data:
        return False
    mode = stat.S_IMODE(target.stat().st_mode)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".fixer-tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True
