"""The command line of ``python -m rnnscratch.app.bench``: the per-process worker the suite spawns
(``--worker LIB``: time one library, or its GEMM floor, and print the seconds as JSON; with
``--memory``: print :func:`~.memory.step_memory` instead), and without ``--worker`` a quick
:func:`~.suite.compare` of a few libraries on one shape."""
from __future__ import annotations

import argparse
import json
import statistics

from ...functional.cells import CELL_NAMES
from .memory import step_memory
from .suite import DTYPES, compare
from .timing import FLOOR, LIBRARIES, run_worker


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m rnnscratch.app.bench",
                                description="Forward+backward timing of recurrent layers: rnnscratch (NumPy or "
                                            "CuPy) against PyTorch.")
    p.add_argument("--worker", choices=LIBRARIES + tuple(lib + FLOOR for lib in LIBRARIES),
                   help="time one library (or its GEMM floor) in this process and print JSON")
    p.add_argument("--cell", choices=CELL_NAMES, default="lstm")
    p.add_argument("--shape", default="200,64,100,256", help="T,B,I,H")
    p.add_argument("--dtype", default="float32", choices=DTYPES)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--libraries", default="numpy,torch")
    p.add_argument("--memory", action="store_true", help="with --worker numpy: print step_memory() instead")
    a = p.parse_args(argv)
    shape = tuple(int(v) for v in a.shape.split(","))
    if a.memory:
        print(json.dumps(step_memory(a.cell, *shape, a.dtype)))
        return
    if a.worker:
        print(json.dumps(run_worker(a.worker, a.cell, *shape, a.dtype, a.repeats, a.warmup)))
        return
    result = compare(a.cell, shape, tuple(a.libraries.split(",")), a.dtype, a.rounds, a.repeats, a.warmup)
    for lib, t in result.items():
        print(f"{a.cell} {shape} {a.dtype} {lib:<10} median {1e3 * statistics.median(t):8.1f} ms  "
              f"min {1e3 * t[0]:8.1f} ms  ({len(t)} runs)")
