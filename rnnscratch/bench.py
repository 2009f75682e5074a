"""Forward+backward timing of recurrent layers: rnnscratch (NumPy or CuPy) against PyTorch.

Each library is timed in its own process, and the rounds alternate (ours, torch, ours, torch, ...):
torch's OpenMP pool and NumPy's OpenBLAS threads distort each other inside one process, and shared
machines drift over minutes, so only ratios taken in one alternating run mean anything.

``python -m rnnscratch.bench --worker LIB ...`` is the per-process worker; :func:`compare` the driver.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

LIBRARIES = ("numpy", "cupy", "torch", "torch-cuda")
FLOOR = "-gemm"          # suffix: time only the layer's matrix products in that library (its floor)
CELLS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def layer_flops(cell, T, B, I, H):
    """FLOPs of one forward+backward: forward ``2*T*B*(I+H)*G*H`` (the GEMMs), backward twice that."""
    forward = 2 * T * B * (I + H) * GATES[cell] * H
    return 3 * forward


def _time_ours(cell, T, B, I, H, dtype, repeats, warmup, backend_name):
    """Forward+backward of an ``rnnscratch.nn`` layer, as users call it (with its reused workspace)."""
    from . import backend, nn
    with backend.use_backend(backend_name, dtype=dtype) as xp:
        layer = nn.make_recurrent(cell, I, H, rng=0)
        x = xp.random.default_rng(0).standard_normal((T, B, I), dtype=dtype)
        d_out = xp.random.default_rng(1).standard_normal((T, B, H), dtype=dtype)
        sync = (lambda: xp.cuda.Device().synchronize()) if backend_name == "cupy" else (lambda: None)
        times = []
        for k in range(warmup + repeats):
            sync()
            start = time.perf_counter()
            layer(x)
            layer.backward(d_out)
            sync()
            if k >= warmup:
                times.append(time.perf_counter() - start)
        return times


def kept_bytes(cache, skip=("x", "W_ih", "W_hh", "params", "workspace")):
    """Bytes of the arrays a layer's forward keeps for its backward: the arrays in its cache (nested
    dicts, lists and tuples walked; each array counted once), less the input and the weights, which
    exist whether or not anything is kept. This is what BPTT must hold between the two passes."""
    seen, total, stack = set(), 0, [cache]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(v for k, v in item.items() if k not in skip)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif hasattr(item, "nbytes") and id(item) not in seen:
            seen.add(id(item))
            total += item.nbytes
    return total


def step_memory(cell, T, B, I, H, dtype="float32", checkpoint_every=None):
    """Memory of one NumPy forward+backward of a fresh layer: ``{"peak_bytes", "kept_bytes", "seconds"}``.

    ``peak_bytes``: the most bytes allocated at once during the step, measured with tracemalloc (NumPy
    reports its buffers to it), the layer's workspace and the returned gradients included.
    ``kept_bytes``: :func:`kept_bytes` of the layer's cache after the forward. ``seconds``: the step's
    time under tracemalloc (for comparing BPTT variants, not for speed). ``checkpoint_every``: the
    layer's memory-efficient BPTT segment length. Run it in a fresh process.
    """
    import tracemalloc
    from . import backend, nn
    with backend.use_backend("numpy", dtype=dtype) as xp:
        layer = nn.make_recurrent(cell, I, H, rng=0)
        layer.checkpoint_every = checkpoint_every
        x = xp.random.default_rng(0).standard_normal((T, B, I), dtype=dtype)
        d_out = xp.random.default_rng(1).standard_normal((T, B, H), dtype=dtype)
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            start = time.perf_counter()
            layer(x)
            kept = sum(a.nbytes for a in layer.saved_arrays())
            layer.backward(d_out)
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    return {"peak_bytes": peak, "kept_bytes": kept, "seconds": seconds}


def _time_torch(cell, T, B, I, H, dtype, repeats, warmup, device):
    import torch
    torch.manual_seed(0)
    dt = {"float32": torch.float32, "float64": torch.float64}[dtype]
    layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](I, H).to(device=device, dtype=dt)
    x = torch.randn(T, B, I, device=device, dtype=dt, requires_grad=True)
    d_out = torch.randn(T, B, H, device=device, dtype=dt)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    times = []
    for k in range(warmup + repeats):
        sync()
        start = time.perf_counter()
        out, _ = layer(x)
        out.backward(d_out)
        sync()
        if k >= warmup:
            times.append(time.perf_counter() - start)
        layer.zero_grad(set_to_none=True)
        x.grad = None
    return times


def _time_gemms(cell, T, B, I, H, dtype, repeats, warmup, library):
    """Time only the matrix products a forward+backward must do (the floor for that library):
    the input GEMM, T recurrent GEMMs each way, and the three after-sweep GEMMs."""
    G = GATES[cell]
    if library.startswith("torch"):
        import torch
        dev = "cuda" if library == "torch-cuda" else "cpu"
        dt = {"float32": torch.float32, "float64": torch.float64}[dtype]
        new = lambda *shape: torch.randn(*shape, device=dev, dtype=dt)  # noqa: E731
        mm = lambda a, b, out: torch.mm(a, b, out=out)  # noqa: E731
        sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    else:
        from . import backend
        with backend.use_backend(library):
            xp = backend.get_xp()
        rng = xp.random.default_rng(0)
        new = lambda *shape: rng.standard_normal(shape, dtype=dtype)  # noqa: E731
        mm = lambda a, b, out: xp.matmul(a, b, out=out)  # noqa: E731
        sync = (lambda: xp.cuda.Device().synchronize()) if library == "cupy" else (lambda: None)
    x, W_ih, W_hh = new(T * B, I), new(G * H, I), new(G * H, H)
    h, dA, hs = new(B, H), new(T * B, G * H), new(T * B, H)
    proj, step, back = new(T * B, G * H), new(B, G * H), new(B, H)
    dW_ih, dW_hh, dx = new(G * H, I), new(G * H, H), new(T * B, I)
    times = []
    for k in range(warmup + repeats):
        sync()
        start = time.perf_counter()
        mm(x, W_ih.T, proj)
        for _ in range(T):
            mm(h, W_hh.T, step)
        for t in range(T):
            mm(dA[t * B:(t + 1) * B], W_hh, back)
        mm(dA.T, x, dW_ih)
        mm(dA.T, hs, dW_hh)
        mm(dA, W_ih, dx)
        sync()
        if k >= warmup:
            times.append(time.perf_counter() - start)
    return times


def run_worker(library, cell, T, B, I, H, dtype="float32", repeats=3, warmup=1):
    """Time ``repeats`` forward+backward passes in this process; returns a list of seconds.

    ``library`` is one of :data:`LIBRARIES`, or one of them with ``-gemm`` appended for its GEMM floor.
    """
    if library.endswith(FLOOR):
        return _time_gemms(cell, T, B, I, H, dtype, repeats, warmup, library[:-len(FLOOR)])
    if library in ("numpy", "cupy"):
        return _time_ours(cell, T, B, I, H, dtype, repeats, warmup, library)
    if library in ("torch", "torch-cuda"):
        return _time_torch(cell, T, B, I, H, dtype, repeats, warmup, "cuda" if library == "torch-cuda" else "cpu")
    raise ValueError(f"library: expected one of {LIBRARIES}, got {library!r}")


def _spawn_worker(library, cell, shape, dtype, repeats, warmup, memory=False):
    T, B, I, H = shape
    cmd = [sys.executable, "-m", "rnnscratch.bench", "--worker", library, "--cell", cell, "--shape",
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


SHAPES = [(200, 64, 100, 256), (200, 1, 100, 256), (200, 256, 100, 256), (200, 64, 100, 1024)]
QUICK_SHAPES = [(5, 2, 3, 4)]


def available_libraries():
    """The libraries this machine can time: numpy always; torch and the GPU ones when present."""
    import importlib.util
    from .backend import cupy_available
    found = ["numpy"]
    if cupy_available():
        found.append("cupy")
    if importlib.util.find_spec("torch") is not None:
        found.append("torch")
        try:
            import torch
            if torch.cuda.is_available():
                found.append("torch-cuda")
        except Exception:  # pragma: no cover - a broken torch install
            pass
    return found


AVX2_KERNELS = ("haswell", "zen")      # OpenBLAS kernel sets that use AVX2 at most


def blas_info():
    """NumPy's BLAS as it runs: the ``OPENBLAS_*`` environment variables and, if threadpoolctl is
    installed, the library, version, kernel architecture and thread count it reports."""
    import numpy  # noqa: F401  (loads the BLAS that threadpoolctl inspects)
    info = {"environment": {k: v for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_")}}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return info
    pool = next((p for p in threadpool_info() if p.get("user_api") == "blas"), {})
    info.update({k: pool.get(k) for k in ("internal_api", "version", "architecture", "num_threads")})
    return info


def cpuinfo_field(name):
    """The value of the first ``name`` line of /proc/cpuinfo, or None (no such line, or no such file)."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith(name)), None)
    except OSError:
        return None


def cpu_flags():
    """The CPU's feature flags (an empty set where /proc/cpuinfo does not list them)."""
    return set((cpuinfo_field("flags") or "").split())


def avx512_hint(info, flags):
    """A one-line advice when OpenBLAS runs AVX2 kernels on a CPU with AVX-512, else None.

    OpenBLAS picks its kernels when NumPy loads: from the CPU model, unless ``OPENBLAS_CORETYPE``
    forces a set (this project's development machines force ``Haswell`` on an AVX-512 AMD EPYC). Only
    the environment of a new process can change the choice, so the suite reports it rather than act.
    """
    architecture = (info.get("architecture") or "").lower()
    if info.get("internal_api") != "openblas" or architecture not in AVX2_KERNELS or "avx512f" not in flags:
        return None
    forced = info.get("environment", {}).get("OPENBLAS_CORETYPE")
    cause = f"OPENBLAS_CORETYPE={forced} is set" if forced else "it did not recognise the CPU"
    return (f"note: OpenBLAS runs its {info['architecture']} (AVX2) kernels on this AVX-512 CPU ({cause}); "
            "OPENBLAS_CORETYPE=SkylakeX in a new process's environment selects its AVX-512 kernels")


def machine_name():
    """A file-name-safe description of this machine: its processor model and core count."""
    import platform
    import re
    model = cpuinfo_field("model name") or platform.processor() or platform.machine()
    name = f"{model}-{os.cpu_count()}cores"
    return re.sub(r"[^A-Za-z0-9.]+", "-", name).strip("-").lower()


def run_suite(quick=False, libraries=None, out_dir="benchmarks/results", rounds=5, cells="rnn,lstm,gru",
              plot=True, shapes=None, dtypes="float32,float64", repeats=3):
    """Time every (cell, shape, dtype, library) and its GEMM floor; measure the NumPy step's memory;
    print a table; write JSON, CSV and a PNG.

    Returns 0 (the CLI's exit status). ``quick``: tiny shapes, one round, one repeat — checks the
    machinery, measures nothing.
    """
    import csv
    libs = [x for x in (libraries.split(",") if libraries else available_libraries())]
    unknown = [x for x in libs if x not in LIBRARIES]
    if unknown:
        raise ValueError(f"--libraries: unknown {unknown[0]!r}; expected some of {', '.join(LIBRARIES)}")
    cells = cells.split(",") if isinstance(cells, str) else list(cells)
    bad = [c for c in cells if c not in CELLS]
    if bad:
        raise ValueError(f"--cells: unknown {bad[0]!r}; expected some of {', '.join(CELLS)}")
    dtypes = dtypes.split(",") if isinstance(dtypes, str) else list(dtypes)
    bad = [d for d in dtypes if d not in ("float32", "float64")]
    if bad:
        raise ValueError(f"--dtypes: unknown {bad[0]!r}; expected some of float32, float64")
    shapes = shapes or (QUICK_SHAPES if quick else SHAPES)
    if quick:
        rounds, repeats = 1, 1
    blas = blas_info()
    print("NumPy's BLAS: " + ", ".join(f"{k} {v}" for k, v in blas.items() if v not in (None, {})))
    hint = avx512_hint(blas, cpu_flags())
    if hint:
        print(hint)
    rows = []
    for cell in cells:
        for dtype in dtypes:
            for shape in shapes:
                rows.extend(_measure(cell, shape, dtype, libs, rounds, repeats))
    print(format_rows(rows))
    os.makedirs(out_dir, exist_ok=True)
    # the BLAS kernels are part of what was measured, so they are part of the file name
    kernels = blas.get("architecture") or blas["environment"].get("OPENBLAS_CORETYPE")
    suffix = f"-{blas.get('internal_api') or 'openblas'}-{kernels.lower()}" if kernels else ""
    stem = os.path.join(out_dir, ("quick-" if quick else "") + machine_name() + suffix)
    with open(stem + ".json", "w") as f:
        json.dump({"machine": machine_name(), "blas": blas, "rounds": rounds, "repeats": repeats, "rows": rows},
                  f, indent=2)
    with open(stem + ".csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    written = [stem + ".json", stem + ".csv"]
    if plot:
        try:
            written.append(plot_rows(rows, stem + ".png"))
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


def format_rows(rows):
    head = (f"{'cell':<5} {'T':>4} {'B':>4} {'I':>4} {'H':>5} {'dtype':<7} {'library':<11} {'median ms':>10} "
            f"{'tokens/s':>10} {'GFLOP/s':>8} {'x torch':>8} {'GEMM ms':>9} {'x GEMM':>7} {'peak MiB':>9} "
            f"{'kept MiB':>9}")
    lines = [head, "-" * len(head)]
    optional = lambda value, fmt: "-" if value is None else format(value, fmt)  # noqa: E731
    for r in rows:
        lines.append(f"{r['cell']:<5} {r['T']:>4} {r['B']:>4} {r['I']:>4} {r['H']:>5} {r['dtype']:<7} "
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


def _main(argv=None):
    import argparse
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", choices=LIBRARIES + tuple(lib + FLOOR for lib in LIBRARIES),
                   help="time one library (or its GEMM floor) in this process and print JSON")
    p.add_argument("--cell", choices=CELLS, default="lstm")
    p.add_argument("--shape", default="200,64,100,256", help="T,B,I,H")
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"))
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


if __name__ == "__main__":
    _main()
