"""Downloads into a cache, verified by SHA-256, written atomically (:func:`rnnscratch.files.atomic_open`).

Cache folder: ``$RNNSCRATCH_DATA_DIR``, else ``$XDG_CACHE_HOME/rnnscratch``, else ``~/.cache/rnnscratch``.
``RNNSCRATCH_OFFLINE=1`` never touches the network. A cached file whose checksum does not match (a
truncated or corrupted download, or a file of the user's own in a folder ``RNNSCRATCH_DATA_DIR`` points at)
is never used and never deleted: offline it is left where it is and the error says so; online a fresh
copy is downloaded and verified first, and only then is the old file renamed aside
(``<name>.mismatch-<time>``, printed) and replaced.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..files import atomic_open


class DownloadError(RuntimeError):
    """A file could not be obtained; the message says from where and how to get it by hand."""


def cache_dir() -> Path:
    if os.environ.get("RNNSCRATCH_DATA_DIR"):
        return Path(os.environ["RNNSCRATCH_DATA_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rnnscratch"


def offline() -> bool:
    return os.environ.get("RNNSCRATCH_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def sha256sum(path, chunk=1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(url, relative_path, sha256, quiet=False, timeout=30) -> Path:
    """The verified local copy of ``url`` at ``cache_dir() / relative_path``, downloading if needed."""
    target = cache_dir() / relative_path
    manual = f"download {url} yourself and save it as {target} (or pass a local path to the loader)"
    mismatch = target.exists() and sha256sum(target) != sha256
    if target.exists() and not mismatch:
        return target
    if offline():
        if mismatch:
            raise DownloadError(f"{target} does not match the expected sha256 {sha256} (corrupt, truncated or "
                                f"another file); it was left untouched, and RNNSCRATCH_OFFLINE=1 forbids "
                                f"downloading a fresh copy; {manual}")
        raise DownloadError(f"{target} is not in the cache and RNNSCRATCH_OFFLINE=1 forbids downloading; {manual}")
    if mismatch and not quiet:
        print(f"{target}: checksum mismatch (corrupt, truncated or another file); downloading a fresh copy",
              file=sys.stderr)
    try:
        with atomic_open(target, "wb") as out:          # a raise inside discards the temporary file
            actual = _copy_from_url(url, out, quiet, timeout)
            if actual != sha256:
                raise DownloadError(f"{url}: checksum mismatch after download (expected sha256 {sha256}, got "
                                    f"{actual}); the download was discarded. Try again, or {manual}")
            if mismatch:                                # verified: now, and only now, set the old file aside
                stamp, n = time.strftime("%Y%m%d-%H%M%S"), 0
                aside = target.with_name(f"{target.name}.mismatch-{stamp}")
                while aside.exists():                   # never over an earlier one
                    n += 1
                    aside = target.with_name(f"{target.name}.mismatch-{stamp}-{n}")
                os.replace(target, aside)
                print(f"{target}: the mismatching file was kept as {aside}", file=sys.stderr)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise DownloadError(f"could not download {url} ({exc}); {manual}") from exc
    return target


def _copy_from_url(url, out, quiet, timeout):
    """Copy ``url``'s body into the binary file ``out``; return its SHA-256 (hex)."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        done, shown = 0, -1
        while True:
            block = response.read(1 << 16)
            if not block:
                break
            out.write(block)
            digest.update(block)
            done += len(block)
            if not quiet and total:
                percent = 100 * done // total
                if percent != shown:
                    shown = percent
                    print(f"\rdownloading {url.rsplit('/', 1)[-1]}: {percent:3d}% of {total / 1e6:.1f} MB",
                          end="", file=sys.stderr, flush=True)
        if not quiet and total:
            print(file=sys.stderr)
        if total and done != total:
            raise DownloadError(f"{url}: the connection closed after {done} of {total} bytes")
    return digest.hexdigest()
