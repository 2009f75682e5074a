"""Atomic file writing: the one way the package writes a file that someone may read later.

A writer fills a temporary file in the target's own folder, flushes it to disk (``fsync``) and renames
it over the target, which is one atomic step on POSIX: a reader (or a crash, or a Ctrl-C) sees the old
file or the new one, never half of one. The temporary file is named ``.<name>.<pid>-<random>.tmp``, so
one left behind by a writer that was killed can be recognised: the next write of the same target
removes it when its process no longer exists (a live writer's file is never touched).

    with atomic_open("runs/x/history.json", "w") as f:      # text or binary ("wb")
        json.dump(history, f)
    atomic_write("runs/x/metrics.json", text)                # str or bytes in one call
"""
from __future__ import annotations

import contextlib
import glob
import os
import secrets


def _temp_prefix(path):
    folder, name = os.path.split(os.path.abspath(path))
    return folder, f".{name}."


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:          # it exists, it is just not ours
        return True
    return True


def remove_stale_temporaries(path):
    """Delete temporary files of ``path`` left by writers whose process has ended; return their paths."""
    folder, prefix = _temp_prefix(path)
    removed = []
    for tmp in glob.glob(os.path.join(glob.escape(folder), glob.escape(prefix) + "*.tmp")):
        pid_text = os.path.basename(tmp)[len(prefix):].split("-", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not _process_alive(int(pid_text)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
                removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_open(path, mode="w", encoding="utf-8"):
    """Open a temporary file to write ``path``; on a clean exit it replaces ``path`` atomically.

    ``mode`` is ``"w"`` (text, ``encoding``) or ``"wb"``. If the block raises, the temporary file is
    removed and ``path`` is left as it was. Missing parent folders are created.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode: expected 'w' or 'wb', got {mode!r}")
    folder, prefix = _temp_prefix(path)
    os.makedirs(folder, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = os.path.join(folder, f"{prefix}{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, mode, **({} if "b" in mode else {"encoding": encoding})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write(path, data):
    """Write ``data`` (``str`` or ``bytes``) to ``path`` atomically; returns ``path``."""
    with atomic_open(path, "wb" if isinstance(data, (bytes, bytearray)) else "w") as f:
        f.write(data)
    return path
