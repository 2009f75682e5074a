"""The suite: every (cell, shape, dtype, library) and its GEMM floor timed in worker processes with
rounds alternated, the NumPy step's memory measured in one more, then the table and the result files."""
from __future__ import annotations

import json
import statistics
import subprocess
import sys

from ...functional.cells import CELL_NAMES
from . import machine, report
from .timing import FLOOR, LIBRARIES, layer_flops

SHAPES = [(200, 64, 100, 256), (200, 1, 100, 256), (200, 256, 100, 256), (200, 64, 100, 1024)]
QUICK_SHAPES = [(5, 2, 3, 4)]
DTYPES = ("float32", "float64")


def _spawn_worker(library, cell, shape, dtype, repeats, warmup, memory=False):
    """Run ``python -m rnnscratch.app.bench --worker ...`` in a new process; returns what it printed
    (a list of seconds, or with ``memory`` the ``step_memory`` dict)."""
    T, B, I, H = shape
    cmd = [sys.executable, "-m", __package__, "--worker", library, "--cell", cell, "--shape",
           f"{T},{B},{I},{H}", "--dtype", dtype, "--repeats", str(repeats), "--warmup", str(warmup)]
    if memory:
        cmd.append("--memory")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark worker {library} failed:\n{done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(cell, shape, libraries=("numpy", "torch"), dtype="float32", rounds=5, repeats=3, warmup=1):
    """Alternate rounds of separate worker processes; return ``{library: sorted list of seconds}``."""
    times = {lib: [] for lib in libraries}
    for _ in range(rounds):
        for lib in libraries:
            times[lib].extend(_spawn_worker(lib, cell, shape, dtype, repeats, warmup))
    return {lib: sorted(t) for lib, t in times.items()}


def _choices(option, value, allowed):
    """``value`` (a comma-separated string or a sequence) as a list; a ValueError naming ``option`` for
    the first entry not in ``allowed``."""
    chosen = value.split(",") if isinstance(value, str) else list(value)
    bad = [v for v in chosen if v not in allowed]
    if bad:
        raise ValueError(f"{option}: unknown {bad[0]!r}; expected some of {', '.join(allowed)}")
    return chosen


def run_suite(quick=False, libraries=None, out_dir="benchmarks/results", rounds=5, cells="rnn,lstm,gru",
              plot=True, shapes=None, dtypes="float32,float64", repeats=3):
    """Time every (cell, shape, dtype, library) and its GEMM floor; measure the NumPy step's memory;
    print a table; write JSON, CSV and a PNG.

    Returns 0 (the CLI's exit status). ``quick``: tiny shapes, one round, one repeat — checks the
    machinery, measures nothing. ``cells``: any names of :mod:`rnnscratch.functional.cells`.
    """
    libs = _choices("--libraries", libraries or machine.available_libraries(), LIBRARIES)
    cells = _choices("--cells", cells, CELL_NAMES)
    dtypes = _choices("--dtypes", dtypes, DTYPES)
    shapes = shapes or (QUICK_SHAPES if quick else SHAPES)
    if quick:
        rounds, repeats = 1, 1
    blas = machine.blas_info()
    print("NumPy's BLAS: " + ", ".join(f"{k} {v}" for k, v in blas.items() if v not in (None, {})))
    hint = machine.avx512_hint(blas, machine.cpu_flags())
    if hint:
        print(hint)
    rows = []
    for cell in cells:
        for dtype in dtypes:
            for shape in shapes:
                rows.extend(_measure(cell, shape, dtype, libs, rounds, repeats))
    print(report.format_rows(rows))
    stem = report.result_stem(out_dir, blas, quick)
    written = report.write_results(stem, rows, machine=machine.machine_name(), blas=blas, rounds=rounds,
                                   repeats=repeats)
    if plot:
        try:
            written.append(report.plot_rows(rows, stem + ".png"))
        except ImportError:
            pass
    print("\nwrote " + ", ".join(written))
    return 0


def _measure(cell, shape, dtype, libs, rounds, repeats):
    """The result rows of one (cell, shape, dtype): every library and its floor, rounds alternated."""
    order = list(libs) + [lib + FLOOR for lib in libs]
    times = compare(cell, shape, order, dtype, rounds, repeats, warmup=1)
    medians = {lib: statistics.median(t) for lib, t in times.items()}
    memory = _spawn_worker("numpy", cell, shape, dtype, repeats=0, warmup=0, memory=True) if "numpy" in libs else {}
    T, B, I, H = shape
    rows = []
    for lib in libs:
        seconds = medians[lib]
        reference = medians.get("torch-cuda" if lib in ("cupy", "torch-cuda") else "torch")
        mine = lib == "numpy"            # memory is measured for the NumPy layer only (tracemalloc)
        rows.append({
            "cell": cell, "T": T, "B": B, "I": I, "H": H, "dtype": dtype, "library": lib,
            "median_ms": 1e3 * seconds, "runs": len(times[lib]),
            "tokens_per_s": T * B / seconds, "gflops": layer_flops(cell, T, B, I, H) / seconds / 1e9,
            "ratio_to_torch": seconds / reference if reference else None,
            "gemm_floor_ms": 1e3 * medians[lib + FLOOR],
            "ratio_to_gemm_floor": seconds / medians[lib + FLOOR],
            "peak_mib": memory["peak_bytes"] / 2**20 if mine else None,
            "kept_mib": memory["kept_bytes"] / 2**20 if mine else None,
        })
    return rows
