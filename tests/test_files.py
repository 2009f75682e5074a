"""rnnscratch.files: atomic writes, what a failure leaves, and stale temporary files of killed writers."""
import os
import subprocess
import sys

import pytest

from rnnscratch.files import (FolderInUse, atomic_open, atomic_write, folder_lock, remove_stale_temporaries,
                              remove_stale_temporaries_in)


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_text_and_bytes_are_written_and_no_temporary_is_left(tmp_path):
    assert atomic_write(tmp_path / "a.txt", "héllo\n") == tmp_path / "a.txt"
    atomic_write(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert leftovers(tmp_path) == []


def test_the_target_changes_only_when_the_block_ends(tmp_path):
    target = tmp_path / "sub" / "m.json"                     # missing folders are created
    atomic_write(target, "old")
    with atomic_open(target, "w") as f:
        f.write("new")
        f.flush()
        assert target.read_text() == "old"                   # a reader meanwhile sees the old file whole
        assert len(leftovers(target.parent)) == 1
    assert target.read_text() == "new" and leftovers(target.parent) == []


def test_a_failing_block_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "m.json"
    atomic_write(target, "old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_open(target, "wb") as f:
            f.write(b"half of the new")
            raise RuntimeError("boom")
    assert target.read_text() == "old" and leftovers(tmp_path) == []


def test_a_dead_writers_temporary_is_removed_on_the_next_write(tmp_path):
    stale = tmp_path / f".m.json.{dead_pid()}-0badc0de.tmp"
    stale.write_text("left by a killed writer")
    other = tmp_path / f".other.json.{dead_pid()}-0badc0de.tmp"     # another target's: not ours to remove
    other.write_text("x")
    atomic_write(tmp_path / "m.json", "new")
    assert not stale.exists() and other.exists()
    assert (tmp_path / "m.json").read_text() == "new"


def test_a_live_writers_temporary_is_kept(tmp_path):
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".m.json.{writer.pid}-0badc0de.tmp"
        live.write_text("being written")
        atomic_write(tmp_path / "m.json", "new")
        assert live.exists() and remove_stale_temporaries(tmp_path / "m.json") == []
    finally:
        writer.kill()
        writer.wait()
    assert remove_stale_temporaries(tmp_path / "m.json") == [str(live)]


def test_only_write_modes_are_accepted(tmp_path):
    with pytest.raises(ValueError, match="mode: expected 'w' or 'wb'"):
        with atomic_open(tmp_path / "x", "a"):
            pass
    assert os.listdir(tmp_path) == []


def test_a_folder_sweep_removes_every_dead_writers_temporary_and_with_the_lock_the_legacy_ones(tmp_path):
    dead = dead_pid()
    stale = [tmp_path / f".last.npz.{dead}-0badc0de.tmp", tmp_path / f".history.json.{dead}-1234abcd.tmp"]
    legacy = tmp_path / ".tmp-k2j3h4.npz"                  # the checkpoints' temporaries before rnnscratch.files
    mine = tmp_path / f".best.npz.{os.getpid()}-0badc0de.tmp"
    for p in (*stale, legacy, mine):
        p.write_bytes(b"half")
    assert sorted(remove_stale_temporaries_in(tmp_path)) == sorted(map(str, stale))
    assert legacy.exists() and mine.exists()
    assert remove_stale_temporaries_in(tmp_path, legacy=True) == [str(legacy)]
    assert mine.exists()


def test_a_folder_lock_is_exclusive_names_its_holder_and_takes_over_a_dead_ones(tmp_path):
    (tmp_path / ".lock").write_text(f"{dead_pid()}\n")     # left by a killed run: taken over
    with folder_lock(tmp_path) as path:
        assert open(path).read() == f"{os.getpid()}\n"
        with pytest.raises(FolderInUse, match=f"in use by another process \\(pid {os.getpid()}\\)"):
            with folder_lock(tmp_path):
                pass
    assert os.listdir(tmp_path) == []
    with folder_lock(tmp_path):                             # released: free again
        pass
