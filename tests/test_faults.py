"""Faults, through the command line (issue 15): a run whose weights turn non-finite, a run killed while
writing a checkpoint, two runs on one folder, a folder holding an earlier run, a read-only folder, a
full disk, a corrupt cached download. After each, the last good files are intact and loadable and no
temporary file is left behind (at the latest after the next start). The one-line messages of the
single-command cases are in ``tests/test_bad_input.py``.
"""
import errno
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from rnnscratch import optim
from rnnscratch.cli import main
from rnnscratch.train import epoch_rows, load_checkpoint

# One step per epoch: 24 examples -> 17 train, 2 validation, 5 test; all in one batch.
ROWS = "\n".join(["text,label"] + [f"{'good' if k % 2 else 'bad'} day {k},{'pos' if k % 2 else 'neg'}"
                                   for k in range(24)])


@pytest.fixture
def train_args(tmp_path):
    (tmp_path / "data.csv").write_text(ROWS)
    return ["train", "--data", str(tmp_path / "data.csv"), "--hidden", "4", "--embed", "4", "--batch-size", "64",
            "--val-split", "0.1", "--quiet"]


def strays(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp") or p.name.startswith(".tmp-"))


def assert_every_checkpoint_loads(folder):
    names = sorted(p.name for p in folder.glob("*.npz") if not p.name.startswith("."))
    for name in names:
        ckpt = load_checkpoint(folder / name)
        assert all(np.isfinite(v).all() for v in ckpt.model.state_dict().values())
    return names


def test_weights_made_non_finite_at_an_epoch_end_stop_the_run_and_keep_the_last_good_checkpoint(
        train_args, tmp_path, monkeypatch, capsys):
    real_step = optim.Adam.step

    def step(self):                              # the update of epoch 2's only step makes a weight NaN
        real_step(self)
        if self.steps == 2:
            self.params[0].data[...] = np.nan

    monkeypatch.setattr(optim.Adam, "step", step)
    out = tmp_path / "run"
    assert main([*train_args, "--epochs", "3", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("rnnscratch train: error: training stopped: the update at epoch 2, step 2 made parameter "
                          "'embedding.weight' non-finite") and "\n" not in err
    assert assert_every_checkpoint_loads(out) == ["best.npz", "last.npz"]
    assert load_checkpoint(out / "last.npz").meta["epoch"] == 1              # the last good epoch
    assert len(epoch_rows(json.loads((out / "history.json").read_text()))) == 1
    assert not (out / "metrics.json").exists() and strays(out) == []


def test_a_second_run_on_a_folder_in_use_is_refused_and_the_first_is_untouched(train_args, tmp_path, capsys):
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "rnnscratch", *train_args, "--epochs", "100000", "--out", str(out)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (out / ".lock").exists() or (out / ".lock").read_text() != f"{first.pid}\n":
            assert first.poll() is None and time.monotonic() < deadline, "the first run did not start"
            time.sleep(0.05)
        assert main([*train_args, "--epochs", "1", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"is in use by another training run (pid {first.pid})" in err and "Traceback" not in err
    finally:
        first.send_signal(signal.SIGTERM)         # stops at the next batch boundary, saving interrupted.npz
        _, first_err = first.communicate(timeout=60)
    assert first.returncode == 130, first_err
    assert "interrupted.npz" in assert_every_checkpoint_loads(out)
    assert strays(out) == [] and not (out / ".lock").exists()


def test_an_earlier_runs_results_are_replaced_only_with_overwrite_and_resume_continues_them(
        train_args, tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*train_args, "--epochs", "1", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main([*train_args, "--epochs", "1", "--out", str(out)]) == 2
    assert "already holds the results of a run" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # --overwrite: a run without validation writes no best.npz, so the old one must not survive next to it
    assert main([*train_args, "--epochs", "1", "--val-split", "0", "--out", str(out), "--overwrite"]) == 0
    assert "--overwrite: deleted the earlier run's" in capsys.readouterr().err
    assert assert_every_checkpoint_loads(out) == ["last.npz"]
    assert main([*train_args, "--epochs", "2", "--val-split", "0", "--resume", str(out / "last.npz")]) == 0
    assert len(epoch_rows(json.loads((out / "history.json").read_text()))) == 2
    umask = os.umask(0)
    os.umask(umask)
    modes = {name: (out / name).stat().st_mode & 0o777 for name in ("last.npz", "history.json", "metrics.json")}
    assert set(modes.values()) == {0o666 & ~umask}, modes      # checkpoints: the same permissions as the rest


def test_a_read_only_output_folder_is_refused_before_training(train_args, tmp_path, capsys):
    out = tmp_path / "read-only"
    out.mkdir()
    out.chmod(0o555)
    try:
        if os.access(out, os.W_OK):
            pytest.skip("this user can write into a read-only folder (root)")
        assert main([*train_args, "--out", str(out)]) == 2
        assert "cannot write there (Permission denied)" in capsys.readouterr().err
        assert os.listdir(out) == []
    finally:
        out.chmod(0o755)


def test_an_unwritable_output_folder_is_refused_before_training_even_as_root(train_args, tmp_path, monkeypatch,
                                                                              capsys):
    real_open = os.open

    def open_(path, flags, *args, **kwargs):     # what a read-only folder answers to a non-root user
        if str(path).startswith(str(tmp_path / "ro")) and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    (tmp_path / "ro").mkdir()
    monkeypatch.setattr(os, "open", open_)
    assert main([*train_args, "--out", str(tmp_path / "ro")]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "cannot write there (Permission denied)" in err
    assert os.listdir(tmp_path / "ro") == []


def test_a_full_disk_mid_run_is_one_line_and_status_1(train_args, tmp_path, monkeypatch, capsys):
    from rnnscratch.train import checkpoint

    def full(path, mode="w", **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(checkpoint, "atomic_open", full)
    assert main([*train_args, "--epochs", "1", "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"rnnscratch train: error: could not read or write {tmp_path / 'run' / 'last.npz'}: " \
                  "No space left on device"


def test_offline_with_a_corrupt_cached_file_keeps_the_file(tmp_path, monkeypatch, capsys):
    cached = tmp_path / "cache" / "tinyshakespeare" / "input.txt"
    cached.parent.mkdir(parents=True)
    cached.write_text("my own corpus, not tinyshakespeare\n")
    monkeypatch.setenv("RNNSCRATCH_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RNNSCRATCH_OFFLINE", "1")
    assert main(["train", "--task", "lm", "--data", "tinyshakespeare", "--out", str(tmp_path / "o")]) == 2
    assert "left untouched" in capsys.readouterr().err
    assert cached.read_text() == "my own corpus, not tinyshakespeare\n"
    assert sorted(p.name for p in cached.parent.iterdir()) == ["input.txt"]


# A child that writes half of its third checkpoint (epoch 2's last.npz) and waits there to be killed.
KILLED_WRITER = """
import io, sys, time
import numpy
from rnnscratch.cli import main
real, calls = numpy.savez, [0]

def savez(f, **arrays):
    calls[0] += 1
    if calls[0] == 3:
        buffer = io.BytesIO()
        real(buffer, **arrays)
        f.write(buffer.getvalue()[:len(buffer.getvalue()) // 2])
        f.flush()
        print("half-written", flush=True)
        time.sleep(600)
    return real(f, **arrays)

numpy.savez = savez
sys.exit(main(sys.argv[1:]))
"""


def test_sigkill_while_writing_a_checkpoint_leaves_loadable_ones_and_the_next_start_sweeps_the_rest(
        train_args, tmp_path):
    out = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, *train_args, "--epochs", "3", "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "half-written", child.stderr.read()
    finally:
        child.kill()
        child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert strays(out) and (out / ".lock").exists()        # a half-written temporary and the dead run's lock
    (out / ".tmp-k2j3h4.npz").write_bytes(b"a half checkpoint of an older version")
    assert assert_every_checkpoint_loads(out) == ["best.npz", "last.npz"]
    assert load_checkpoint(out / "last.npz").meta["epoch"] == 1
    assert main([*train_args, "--epochs", "3", "--out", str(out), "--resume", str(out / "last.npz")]) == 0
    assert strays(out) == [] and not (out / ".lock").exists()
    assert len(epoch_rows(json.loads((out / "history.json").read_text()))) == 3
    assert_every_checkpoint_loads(out)
