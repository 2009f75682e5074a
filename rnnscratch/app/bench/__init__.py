"""Forward+backward timing of recurrent layers: rnnscratch (NumPy or CuPy) against PyTorch.

Each library is timed in its own process, and the rounds alternate (ours, torch, ours, torch, ...):
torch's OpenMP pool and NumPy's OpenBLAS threads distort each other inside one process, and shared
machines drift over minutes, so only ratios taken in one alternating run mean anything.

Modules: :mod:`.machine` (BLAS, CPU, machine name, available libraries), :mod:`.timing` (the timers
run inside one process, FLOP counts), :mod:`.memory` (peak and kept bytes of one step), :mod:`.suite`
(worker processes, alternating rounds, :func:`run_suite`), :mod:`.report` (table, plot, result files),
:mod:`.worker` (``python -m rnnscratch.app.bench --worker LIB ...``, the per-process worker).
"""
from .machine import available_libraries, avx512_hint, blas_info, cpu_flags, cpuinfo_field, machine_name
from .memory import kept_bytes, step_memory
from .report import format_rows, plot_rows, result_stem, write_results
from .suite import QUICK_SHAPES, SHAPES, compare, run_suite
from .timing import FLOOR, LIBRARIES, layer_flops, run_worker

__all__ = ["run_suite", "compare", "run_worker", "layer_flops", "step_memory", "kept_bytes", "format_rows",
           "plot_rows", "result_stem", "write_results", "blas_info", "avx512_hint", "cpu_flags", "cpuinfo_field",
           "machine_name", "available_libraries", "LIBRARIES", "FLOOR", "SHAPES", "QUICK_SHAPES"]
