"""Atomic file writing: the one way the package writes a file that someone may read later.

A writer fills a temporary file in the target's own folder, flushes it to disk (``fsync``) and renames
it over the target, which is one atomic step on POSIX: a reader (or a crash, or a Ctrl-C) sees the old
file or the new one, never half of one. The temporary file is named ``.<name>.<pid>-<random>.tmp``, so
one left behind by a writer that was killed can be recognised: the next write of the same target
removes it when its process no longer exists (a live writer's file is never touched).

::

    with atomic_open("runs/x/history.json", "w") as f:      # text or binary ("wb")
        json.dump(history, f)
    atomic_write("runs/x/metrics.json", text)                # str or bytes in one call

A folder that one process at a time may write into (a training run's output folder) is held with
:func:`folder_lock`; :func:`remove_stale_temporaries_in` sweeps the temporary files that killed writers
left in it.
"""
from __future__ import annotations

import contextlib
import glob
import os
import secrets

try:
    import fcntl
except ImportError:              # pragma: no cover - Windows: folders are not locked
    fcntl = None

# Checkpoints' temporary files before this module existed (tempfile.mkstemp(prefix=".tmp-", suffix=".npz")):
# they name no process, so only the holder of the folder's lock may remove them.
LEGACY_TEMPORARIES = ".tmp-*.npz"


class FolderInUse(RuntimeError):
    """Another live process holds the folder's lock (see :func:`folder_lock`); ``holder``: ``"pid N"``."""

    def __init__(self, folder, holder):
        super().__init__(f"{folder} is in use by another process ({holder})")
        self.holder = holder


def _temp_prefix(path):
    folder, name = os.path.split(os.path.abspath(path))
    return folder, f".{name}."


def _process_alive(pid):
    """Whether process ``pid`` exists. On Windows ``os.kill`` would terminate it, so there every process
    counts as alive: temporary files are then never removed, which is safe."""
    if os.name == "nt":
        return True
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
    return _remove_stale(folder, glob.escape(prefix) + "*.tmp")


def remove_stale_temporaries_in(folder, legacy=False):
    """Delete the temporary files of every target in ``folder`` whose writer has ended; return their paths.

    ``legacy``: also the checkpoints' old ``.tmp-*.npz`` temporaries (:data:`LEGACY_TEMPORARIES`), which
    name no writer: only for a caller that holds the folder's :func:`folder_lock`.
    """
    folder = os.path.abspath(folder)
    removed = _remove_stale(folder, ".?*.*.tmp")
    if legacy:
        removed += _remove(glob.glob(os.path.join(glob.escape(folder), LEGACY_TEMPORARIES)))
    return removed


def _remove_stale(folder, pattern):
    stale = []
    for tmp in glob.glob(os.path.join(glob.escape(folder), pattern)):
        pid_text = os.path.basename(tmp)[:-len(".tmp")].rpartition(".")[2].split("-", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not _process_alive(int(pid_text)):
            stale.append(tmp)
    return _remove(stale)


def _remove(paths):
    removed = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            removed.append(path)
    return removed


@contextlib.contextmanager
def folder_lock(folder, name=".lock"):
    """Hold ``folder``'s lock for the block: the file ``folder/name``, holding this process's id.

    Raises :class:`FolderInUse` (naming the holder's pid) when another live process holds it. The operating
    system releases the lock when its holder ends, however it ends, so a lock file left by a killed
    process is simply taken over. Creating the file is also the check that ``folder`` is writable
    (``PermissionError`` otherwise). Uses ``fcntl.flock``; where there is none (Windows), nothing is locked.
    """
    path = os.path.join(folder, name)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        if fcntl is None:                                       # pragma: no cover
            break
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise FolderInUse(folder, f"pid {holder}") from None
        try:            # the last holder may have removed the file between our open and our lock
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)                                     # while still holding it
        os.close(fd)


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
