"""The benchmark suite: the quick run produces its table and files; FLOP counts; the floor worker."""
import json

import pytest

from rnnscratch import bench
from rnnscratch.cli import main


def test_quick_suite_writes_table_json_and_csv(tmp_path, capsys):
    assert main(["bench", "--quick", "--libraries", "numpy", "--cells", "lstm,gru", "--out", str(tmp_path),
                 "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert "median ms" in out and "x GEMM" in out and "lstm" in out and "gru" in out
    (result,) = tmp_path.glob("quick-*.json")
    rows = json.loads(result.read_text())["rows"]
    assert {(r["cell"], r["library"]) for r in rows} == {("lstm", "numpy"), ("gru", "numpy")}
    assert all(r["median_ms"] > 0 and r["gemm_floor_ms"] > 0 for r in rows)
    assert len(list(tmp_path.glob("quick-*.csv"))) == 1


def test_layer_flops_formula():
    # LSTM forward 2*T*B*(I+H)*4H, backward twice that
    assert bench.layer_flops("lstm", 200, 64, 100, 256) == 3 * 2 * 200 * 64 * 356 * 4 * 256
    assert bench.layer_flops("gru", 1, 1, 1, 1) == 3 * 2 * 2 * 3


def test_unknown_library_or_cell_is_refused(tmp_path, capsys):
    assert main(["bench", "--quick", "--libraries", "jax", "--out", str(tmp_path)]) == 2
    assert "--libraries: unknown 'jax'" in capsys.readouterr().err
    assert main(["bench", "--quick", "--cells", "tcn", "--out", str(tmp_path)]) == 2


@pytest.mark.parametrize("library", ["numpy", "numpy-gemm"])
def test_worker_returns_one_time_per_repeat(library):
    times = bench.run_worker(library, "rnn", 3, 2, 2, 3, repeats=2, warmup=0)
    assert len(times) == 2 and all(t > 0 for t in times)
