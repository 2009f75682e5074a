"""The benchmark suite: the quick run produces its table and files; FLOP counts; the floor worker."""
import json

import numpy as np
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
    assert {(r["cell"], r["library"], r["dtype"]) for r in rows} == {
        (cell, "numpy", dtype) for cell in ("lstm", "gru") for dtype in ("float32", "float64")}
    assert all(r["median_ms"] > 0 and r["gemm_floor_ms"] > 0 for r in rows)
    assert all(r["peak_mib"] >= r["kept_mib"] > 0 for r in rows)
    assert len(list(tmp_path.glob("quick-*.csv"))) == 1


def test_layer_flops_formula():
    # LSTM forward 2*T*B*(I+H)*4H, backward twice that
    assert bench.layer_flops("lstm", 200, 64, 100, 256) == 3 * 2 * 200 * 64 * 356 * 4 * 256
    assert bench.layer_flops("gru", 1, 1, 1, 1) == 3 * 2 * 2 * 3


def test_unknown_library_or_cell_is_refused(tmp_path, capsys):
    assert main(["bench", "--quick", "--libraries", "jax", "--out", str(tmp_path)]) == 2
    assert "--libraries: unknown 'jax'" in capsys.readouterr().err
    assert main(["bench", "--quick", "--cells", "tcn", "--out", str(tmp_path)]) == 2
    assert main(["bench", "--quick", "--dtypes", "float16", "--out", str(tmp_path)]) == 2
    assert "--dtypes: unknown 'float16'" in capsys.readouterr().err


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_step_memory_counts_what_the_lstm_keeps(dtype):
    T, B, I, H = 7, 3, 4, 5
    memory = bench.step_memory("lstm", T, B, I, H, dtype)
    itemsize = np.dtype(dtype).itemsize
    # h and c for steps 0..T, tanh(c_t) for 1..T, four gates for 1..T; the input and the weights excluded
    expected = ((T + 1) * B * H * 2 + T * B * H + T * 4 * B * H) * itemsize
    assert memory["kept_bytes"] == expected
    assert memory["peak_bytes"] > expected        # the backward's buffers and gradients come on top


def test_kept_bytes_of_a_checkpointed_layer_is_its_segment_starts():
    from rnnscratch import nn
    T, B, I, H, S = 12, 2, 3, 4, 4
    layer = nn.GRU(I, H, rng=0, dtype="float64")
    layer.checkpoint_every = S
    layer(np.zeros((T, B, I)), np.ones((1, B, H)))
    assert bench.kept_bytes(layer._cache) == (T // S) * B * H * 8     # one (B, H) state per segment start
    layer.checkpoint_every = None
    layer(np.zeros((T, B, I)))
    assert bench.kept_bytes(layer._cache) > (T + 1) * B * H * 8      # every state at least


@pytest.mark.parametrize("library", ["numpy", "numpy-gemm"])
def test_worker_returns_one_time_per_repeat(library):
    times = bench.run_worker(library, "rnn", 3, 2, 2, 3, repeats=2, warmup=0)
    assert len(times) == 2 and all(t > 0 for t in times)


def test_blas_info_reports_the_openblas_environment(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "SkylakeX")
    info = bench.blas_info()
    assert info["environment"]["OPENBLAS_CORETYPE"] == "SkylakeX"
    pytest.importorskip("threadpoolctl")
    assert info["internal_api"] in ("openblas", "mkl", "blis", "flexiblas")
    assert info["num_threads"] >= 1


def test_avx512_hint_only_for_avx2_openblas_kernels_on_an_avx512_cpu():
    forced = {"internal_api": "openblas", "architecture": "Haswell", "environment": {"OPENBLAS_CORETYPE": "Haswell"}}
    assert "(OPENBLAS_CORETYPE=Haswell is set)" in bench.avx512_hint(forced, {"avx2", "avx512f"})
    unknown_cpu = {"internal_api": "openblas", "architecture": "Zen", "environment": {}}
    assert "did not recognise the CPU" in bench.avx512_hint(unknown_cpu, {"avx512f"})
    assert bench.avx512_hint(forced, {"avx2"}) is None                              # no AVX-512 to use
    assert bench.avx512_hint({"internal_api": "openblas", "architecture": "SkylakeX"}, {"avx512f"}) is None
    assert bench.avx512_hint({"internal_api": "mkl", "architecture": None}, {"avx512f"}) is None
    assert bench.avx512_hint({"environment": {}}, {"avx512f"}) is None               # no threadpoolctl


def test_the_blas_kernels_go_into_the_result_file_name(tmp_path, monkeypatch):
    # what the report says, not the environment: the workers must not be forced onto kernels this CPU may lack
    monkeypatch.setattr(bench, "blas_info", lambda: {"environment": {"OPENBLAS_CORETYPE": "SkylakeX"}})
    assert main(["bench", "--quick", "--libraries", "numpy", "--cells", "rnn", "--dtypes", "float64",
                 "--out", str(tmp_path), "--no-plot"]) == 0
    (result,) = tmp_path.glob("quick-*-openblas-skylakex.json")
    assert json.loads(result.read_text())["blas"]["environment"]["OPENBLAS_CORETYPE"] == "SkylakeX"
