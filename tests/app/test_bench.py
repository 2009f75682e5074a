"""The benchmark suite: the quick run produces its table and files; FLOP counts; the workers; memory;
the machine report; the table, plot and result files."""
import csv
import json
import os

import numpy as np
import pytest

from rnnscratch.app import bench
from rnnscratch.app.bench import machine, suite, worker
from rnnscratch.functional.cells import CELL_NAMES, get_cell

TINY = (3, 2, 2, 3)                 # T, B, I, H


def test_quick_suite_writes_table_json_and_csv(tmp_path, capsys):
    assert bench.run_suite(quick=True, libraries="numpy", cells="lstm,gru", out_dir=str(tmp_path), plot=False) == 0
    out = capsys.readouterr().out
    assert "median ms" in out and "x GEMM" in out and "lstm" in out and "gru" in out
    (result,) = tmp_path.glob("quick-*.json")
    rows = json.loads(result.read_text())["rows"]
    assert {(r["cell"], r["library"], r["dtype"]) for r in rows} == {
        (cell, "numpy", dtype) for cell in ("lstm", "gru") for dtype in ("float32", "float64")}
    assert all(r["median_ms"] > 0 and r["gemm_floor_ms"] > 0 for r in rows)
    assert all(r["peak_mib"] >= r["kept_mib"] > 0 for r in rows)
    assert len(list(tmp_path.glob("quick-*.csv"))) == 1
    assert len(list(tmp_path.iterdir())) == 2                  # no temporary file left beside them


def test_layer_flops_formula():
    # LSTM forward 2*T*B*(I+H)*4H, backward twice that
    assert bench.layer_flops("lstm", 200, 64, 100, 256) == 3 * 2 * 200 * 64 * 356 * 4 * 256
    assert bench.layer_flops("gru", 1, 1, 1, 1) == 3 * 2 * 2 * 3
    assert bench.layer_flops("rnn_relu", 1, 1, 1, 1) == 3 * 2 * 2 * 1       # the registry's gate count


def test_unknown_library_cell_or_dtype_is_refused(tmp_path):
    with pytest.raises(ValueError, match="--libraries: unknown 'jax'"):
        bench.run_suite(quick=True, libraries="jax", out_dir=str(tmp_path))
    with pytest.raises(ValueError, match="--cells: unknown 'tcn'; expected some of " + ", ".join(CELL_NAMES)):
        bench.run_suite(quick=True, cells="tcn", out_dir=str(tmp_path))
    with pytest.raises(ValueError, match="--dtypes: unknown 'float16'"):
        bench.run_suite(quick=True, dtypes="float16", out_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []                      # refused before anything ran


def test_every_registered_cell_is_accepted(tmp_path):
    # rnn_relu is not in the default cells; the registry's names are the choices
    assert bench.run_suite(quick=True, libraries="numpy", cells="rnn_relu", dtypes="float64", out_dir=str(tmp_path),
                           plot=False) == 0
    (result,) = tmp_path.glob("quick-*.json")
    assert [r["cell"] for r in json.loads(result.read_text())["rows"]] == ["rnn_relu"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_step_memory_counts_what_the_lstm_keeps(dtype):
    T, B, I, H = 7, 3, 4, 5
    memory = bench.step_memory("lstm", T, B, I, H, dtype)
    itemsize = np.dtype(dtype).itemsize
    # h and c for steps 0..T, tanh(c_t) for 1..T, four gates for 1..T; the input and the weights excluded
    expected = ((T + 1) * B * H * 2 + T * B * H + T * 4 * B * H) * itemsize
    assert memory["kept_bytes"] == expected
    assert memory["peak_bytes"] > expected        # the backward's buffers and gradients come on top
    assert memory["seconds"] > 0


def test_kept_bytes_of_a_checkpointed_layer_is_its_segment_starts():
    from rnnscratch import nn
    T, B, I, H, S = 12, 2, 3, 4, 4
    layer = nn.GRU(I, H, rng=0, dtype="float64")
    layer.checkpoint_every = S
    layer(np.zeros((T, B, I)), np.ones((1, B, H)))
    assert bench.kept_bytes(layer.saved_arrays()) == (T // S) * B * H * 8     # one (B, H) state per segment start
    layer.checkpoint_every = None
    layer(np.zeros((T, B, I)))
    assert bench.kept_bytes(layer.saved_arrays()) > (T + 1) * B * H * 8      # every state at least


def test_kept_bytes_counts_each_array_once():
    a, b = np.zeros(10), np.zeros((2, 3), dtype=np.float32)
    assert bench.kept_bytes([a, b, a]) == a.nbytes + b.nbytes
    assert bench.kept_bytes([]) == 0


@pytest.mark.parametrize("library", ["numpy", "numpy-gemm"])
def test_worker_returns_one_time_per_repeat(library):
    times = bench.run_worker(library, "rnn", *TINY, repeats=2, warmup=0)
    assert len(times) == 2 and all(t > 0 for t in times)


def test_worker_refuses_an_unknown_library():
    with pytest.raises(ValueError, match="library: expected one of"):
        bench.run_worker("jax", "rnn", *TINY)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_torch_timer_builds_the_registered_pytorch_layer(cell, monkeypatch):
    torch = pytest.importorskip("torch")
    spec, built = get_cell(cell), []
    registered = getattr(torch.nn, spec.torch_class)

    class Recorded(registered):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(torch.nn, spec.torch_class, Recorded)
    times = bench.run_worker("torch", cell, *TINY, dtype="float64", repeats=2, warmup=1)
    assert len(times) == 2 and all(t > 0 for t in times)
    (layer,) = built
    T, B, I, H = TINY
    assert (layer.input_size, layer.hidden_size) == (I, H)
    assert all(getattr(layer, k) == v for k, v in spec.torch_kwargs.items())
    assert layer.weight_ih_l0.dtype == torch.float64


def test_compare_alternates_libraries_round_by_round(monkeypatch):
    calls = []

    def fake_worker(library, cell, shape, dtype, repeats, warmup):
        calls.append(library)
        return [float(len(calls)), -float(len(calls))]

    monkeypatch.setattr(suite, "_spawn_worker", fake_worker)
    result = bench.compare("gru", TINY, ("a", "b"), rounds=3)
    assert calls == ["a", "b"] * 3
    assert result == {"a": [-5.0, -3.0, -1.0, 1.0, 3.0, 5.0], "b": [-6.0, -4.0, -2.0, 2.0, 4.0, 6.0]}


def test_compare_runs_each_library_in_a_worker_process():
    result = bench.compare("rnn", TINY, ("numpy", "numpy-gemm"), "float64", rounds=2, repeats=2, warmup=0)
    assert {lib: len(t) for lib, t in result.items()} == {"numpy": 4, "numpy-gemm": 4}
    assert all(t == sorted(t) and t[0] > 0 for t in result.values())


def test_a_failing_worker_process_is_reported():
    with pytest.raises(RuntimeError, match="benchmark worker numpy failed"):
        bench.compare("no-such-cell", TINY, ("numpy",), rounds=1)


def test_worker_command_line_prints_the_times_as_json(capsys):
    worker.main(["--worker", "numpy-gemm", "--cell", "rnn_relu", "--shape", "3,2,2,3", "--repeats", "3",
                 "--warmup", "0"])
    times = json.loads(capsys.readouterr().out)
    assert len(times) == 3 and all(t > 0 for t in times)
    with pytest.raises(SystemExit):
        worker.main(["--worker", "numpy", "--cell", "tcn"])


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


def test_cpuinfo_field_reads_the_first_matching_line(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU: v2\nflags\t\t: fpu avx2\n\n"
                       "processor\t: 1\nmodel name\t: Other CPU\n")
    assert bench.cpuinfo_field("model name", str(cpuinfo)) == "Some CPU: v2"
    assert bench.cpuinfo_field("flags", str(cpuinfo)) == "fpu avx2"
    assert bench.cpuinfo_field("bogomips", str(cpuinfo)) is None
    assert bench.cpuinfo_field("flags", str(tmp_path / "missing")) is None


def test_cpu_flags_and_machine_name_come_from_cpuinfo(monkeypatch):
    fields = {"flags": "fpu avx2 avx512f", "model name": "AMD EPYC 9R14 96-Core Processor"}
    monkeypatch.setattr(machine, "cpuinfo_field", fields.get)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert bench.cpu_flags() == {"fpu", "avx2", "avx512f"}
    assert bench.machine_name() == "amd-epyc-9r14-96-core-processor-2cores"
    monkeypatch.setattr(machine, "cpuinfo_field", lambda name: None)      # no /proc/cpuinfo
    assert bench.cpu_flags() == set()
    assert bench.machine_name().endswith("-2cores")


def test_available_libraries_lists_what_imports():
    import importlib.util

    from rnnscratch.backend import cupy_available
    found = bench.available_libraries()
    assert found[0] == "numpy" and set(found) <= set(bench.LIBRARIES)
    assert ("cupy" in found) == cupy_available()
    assert ("torch" in found) == (importlib.util.find_spec("torch") is not None)


def _row(**fields):
    row = {"cell": "lstm", "T": 5, "B": 2, "I": 3, "H": 4, "dtype": "float32", "library": "numpy",
           "median_ms": 1.5, "runs": 3, "tokens_per_s": 6666.7, "gflops": 0.01, "ratio_to_torch": 0.5,
           "gemm_floor_ms": 0.2, "ratio_to_gemm_floor": 7.5, "peak_mib": 0.25, "kept_mib": 0.125}
    return {**row, **fields}


def test_format_rows_aligns_every_column_and_marks_missing_values():
    rows = [_row(), _row(cell="rnn_relu", library="torch", ratio_to_torch=None, peak_mib=None, kept_mib=None)]
    lines = bench.format_rows(rows).splitlines()
    assert len(lines) == 2 + len(rows) and set(lines[1]) == {"-"}
    assert len({len(line) for line in lines}) == 1                # rnn_relu fits its column
    assert lines[0].split()[:2] == ["cell", "T"]
    assert lines[2].split()[-3:] == ["7.50", "0.2", "0.1"]
    assert lines[3].split()[0] == "rnn_relu" and lines[3].split()[-3:] == ["7.50", "-", "-"]
    assert lines[3].split()[-5] == "-"                            # no torch reference


def test_plot_rows_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    rows = [_row(), _row(library="torch"), _row(cell="gru", B=64)]
    path = bench.plot_rows(rows, str(tmp_path / "bars.png"))
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_write_results_replaces_the_json_and_csv(tmp_path):
    stem = str(tmp_path / "sub" / "result")
    rows = [_row(), _row(library="torch", ratio_to_torch=1.0)]
    assert bench.write_results(stem, [_row(median_ms=99.0)], machine="old") == [stem + ".json", stem + ".csv"]
    bench.write_results(stem, rows, machine="m", rounds=3)
    assert json.loads(open(stem + ".json").read()) == {"machine": "m", "rounds": 3, "rows": rows}
    with open(stem + ".csv", newline="") as f:
        assert list(csv.DictReader(f)) == [{k: str(v) for k, v in r.items()} for r in rows]
    assert sorted(os.listdir(tmp_path / "sub")) == ["result.csv", "result.json"]


def test_result_stem_names_machine_and_blas_kernels(tmp_path):
    name = bench.machine_name()
    assert bench.result_stem(str(tmp_path), {"environment": {}}) == os.path.join(tmp_path, name)
    reported = {"environment": {}, "internal_api": "openblas", "architecture": "Haswell"}
    assert bench.result_stem("out", reported, quick=True) == os.path.join("out", f"quick-{name}-openblas-haswell")


def test_the_blas_kernels_go_into_the_result_file_name(tmp_path, monkeypatch):
    # what the report says, not the environment: the workers must not be forced onto kernels this CPU may lack
    monkeypatch.setattr(machine, "blas_info", lambda: {"environment": {"OPENBLAS_CORETYPE": "SkylakeX"}})
    assert bench.run_suite(quick=True, libraries="numpy", cells="rnn", dtypes="float64", out_dir=str(tmp_path),
                           plot=False) == 0
    (result,) = tmp_path.glob("quick-*-openblas-skylakex.json")
    assert json.loads(result.read_text())["blas"]["environment"]["OPENBLAS_CORETYPE"] == "SkylakeX"
