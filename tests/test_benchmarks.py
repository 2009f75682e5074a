"""The benchmark scripts run (tiny sizes), so that they cannot rot between the long measurements."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("attention", ["dot", "none"])
def test_seq2seq_compare_quick(attention, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("threadpoolctl")
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "seq2seq_compare.py"), "--quick",
                           "--attention", attention, "--threads", "1", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    [json_file] = tmp_path.glob(f"seq2seq-dates-{attention}-*.json")
    result = json.loads(json_file.read_text())
    assert set(result["libraries"]) == {"rnnscratch", "torch"}
    assert result["threads"] == result["torch_threads"] == 1
    assert result["complete"] and [row["epoch"] for row in result["epochs"]] == [1, 2]
    first = result["epochs"][0]
    # the same initial weights and batches: the two libraries' first epoch is the same computation
    assert first["rnnscratch_train_loss"] == pytest.approx(first["torch_train_loss"], rel=1e-3)
    assert first["rnnscratch_test_loss"] == pytest.approx(first["torch_test_loss"], rel=1e-3)
    for row in result["epochs"]:
        for side in ("rnnscratch", "torch"):
            assert 0.0 <= row[f"{side}_exact_match"] <= 1.0 and row[f"{side}_train_seconds"] > 0
    table = json_file.with_suffix(".md").read_text()
    assert "| epoch | rnnscratch exact match | torch exact match |" in table
    assert table.splitlines()[-1] in done.stdout
