"""The suite's results as a reader gets them: the printed table, the bar plot, and the JSON and CSV
files (written atomically, named after the machine and NumPy's BLAS kernels)."""
from __future__ import annotations

import csv
import json
import os

from ...files import atomic_open
from .machine import machine_name


def format_rows(rows):
    """The result rows as a fixed-width text table, a header and a rule first."""
    w = max([5] + [len(r["cell"]) for r in rows])          # the cell column fits every registered name
    head = (f"{'cell':<{w}} {'T':>4} {'B':>4} {'I':>4} {'H':>5} {'dtype':<7} {'library':<11} {'median ms':>10} "
            f"{'tokens/s':>10} {'GFLOP/s':>8} {'x torch':>8} {'GEMM ms':>9} {'x GEMM':>7} {'peak MiB':>9} "
            f"{'kept MiB':>9}")
    lines = [head, "-" * len(head)]
    optional = lambda value, fmt: "-" if value is None else format(value, fmt)  # noqa: E731
    for r in rows:
        lines.append(f"{r['cell']:<{w}} {r['T']:>4} {r['B']:>4} {r['I']:>4} {r['H']:>5} {r['dtype']:<7} "
                     f"{r['library']:<11} {r['median_ms']:>10.1f} {r['tokens_per_s']:>10.0f} {r['gflops']:>8.1f} "
                     f"{optional(r['ratio_to_torch'], '.2f'):>8} {r['gemm_floor_ms']:>9.1f} "
                     f"{r['ratio_to_gemm_floor']:>7.2f} {optional(r.get('peak_mib'), '.1f'):>9} "
                     f"{optional(r.get('kept_mib'), '.1f'):>9}")
    return "\n".join(lines)


def plot_rows(rows, path):
    """Bars of median time per shape and (library, dtype), one panel per cell."""
    from matplotlib.figure import Figure
    cells = list(dict.fromkeys(r["cell"] for r in rows))
    label = lambda r: f"{r['library']} {r['dtype']}"  # noqa: E731
    libs = list(dict.fromkeys(label(r) for r in rows))
    fig = Figure(figsize=(5 * len(cells), 4), layout="constrained")
    axes = fig.subplots(1, len(cells), squeeze=False)[0]
    for ax, cell in zip(axes, cells):
        shapes = list(dict.fromkeys((r["T"], r["B"], r["I"], r["H"]) for r in rows if r["cell"] == cell))
        width = 0.8 / len(libs)
        for k, lib in enumerate(libs):
            ms = [next((r["median_ms"] for r in rows if r["cell"] == cell and label(r) == lib
                        and (r["T"], r["B"], r["I"], r["H"]) == s), 0) for s in shapes]
            ax.bar([i + k * width for i in range(len(shapes))], ms, width, label=lib)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(shapes))], [f"B={s[1]}\nH={s[3]}" for s in shapes])
        ax.set(yscale="log", ylabel="forward+backward, median ms (log)", title=f"{cell.upper()}  T={shapes[0][0]}")
        ax.legend(fontsize="small")
    fig.savefig(path, dpi=100)
    return path


def result_stem(out_dir, blas, quick=False):
    """``out_dir/[quick-]<machine>[-<blas>-<kernels>]``: the BLAS kernels are part of what was measured,
    so they are part of the file name (from :func:`~.machine.blas_info`'s report, or OPENBLAS_CORETYPE)."""
    kernels = blas.get("architecture") or blas["environment"].get("OPENBLAS_CORETYPE")
    suffix = f"-{blas.get('internal_api') or 'openblas'}-{kernels.lower()}" if kernels else ""
    return os.path.join(out_dir, ("quick-" if quick else "") + machine_name() + suffix)


def write_results(stem, rows, **header):
    """Write ``stem.json`` (``header`` and the rows) and ``stem.csv`` (the rows), each atomically;
    returns their paths."""
    with atomic_open(stem + ".json", "w") as f:
        json.dump({**header, "rows": rows}, f, indent=2)
    with atomic_open(stem + ".csv", "w") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return [stem + ".json", stem + ".csv"]
