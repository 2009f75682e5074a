"""Forward+backward timing of recurrent layers: rnnscratch (NumPy or CuPy) against PyTorch.

Each library is timed in its own process, and the rounds alternate (ours, torch, ours, torch, ...):
torch's OpenMP pool and NumPy's OpenBLAS threads distort each other inside one process, and shared
machines drift over minutes, so only ratios taken in one alternating run mean anything.

``python -m rnnscratch.bench --worker LIB ...`` is the per-process worker; :func:`compare` the driver.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

LIBRARIES = ("numpy", "cupy", "torch", "torch-cuda")
CELLS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def layer_flops(cell, T, B, I, H):
    """FLOPs of one forward+backward: forward ``2*T*B*(I+H)*G*H`` (the GEMMs), backward twice that."""
    forward = 2 * T * B * (I + H) * GATES[cell] * H
    return 3 * forward


def _time_ours(cell, T, B, I, H, dtype, repeats, warmup, backend_name):
    from . import backend, functional as F
    with backend.use_backend(backend_name, dtype=dtype) as xp:
        rng = xp.random.default_rng(0)
        G, scale = GATES[cell], H ** -0.5
        x = rng.standard_normal((T, B, I), dtype=dtype)
        W_ih = rng.standard_normal((G * H, I), dtype=dtype) * scale
        W_hh = rng.standard_normal((G * H, H), dtype=dtype) * scale
        b = xp.zeros(G * H, dtype=dtype)
        d_out = rng.standard_normal((T, B, H), dtype=dtype)
        forward, backward = {"rnn": (F.rnn_forward, F.rnn_backward), "lstm": (F.lstm_forward, F.lstm_backward),
                             "gru": (F.gru_forward, F.gru_backward)}[cell]
        sync = (lambda: xp.cuda.Device().synchronize()) if backend_name == "cupy" else (lambda: None)
        times = []
        for k in range(warmup + repeats):
            sync()
            start = time.perf_counter()
            *outs, cache = forward(x, None, None, W_ih, W_hh, b, b) if cell == "lstm" else forward(x, None, W_ih, W_hh, b, b)
            backward(d_out, *[None] * (len(outs) - 1), cache)
            sync()
            if k >= warmup:
                times.append(time.perf_counter() - start)
        return times


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


def run_worker(library, cell, T, B, I, H, dtype="float32", repeats=3, warmup=1):
    """Time ``repeats`` forward+backward passes in this process; returns a list of seconds."""
    if library in ("numpy", "cupy"):
        return _time_ours(cell, T, B, I, H, dtype, repeats, warmup, library)
    if library in ("torch", "torch-cuda"):
        return _time_torch(cell, T, B, I, H, dtype, repeats, warmup, "cuda" if library == "torch-cuda" else "cpu")
    raise ValueError(f"library: expected one of {LIBRARIES}, got {library!r}")


def _spawn_worker(library, cell, shape, dtype, repeats, warmup):
    T, B, I, H = shape
    cmd = [sys.executable, "-m", "rnnscratch.bench", "--worker", library, "--cell", cell, "--shape",
           f"{T},{B},{I},{H}", "--dtype", dtype, "--repeats", str(repeats), "--warmup", str(warmup)]
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


def _main(argv=None):
    import argparse
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", choices=LIBRARIES, help="time one library in this process and print JSON")
    p.add_argument("--cell", choices=CELLS, default="lstm")
    p.add_argument("--shape", default="200,64,100,256", help="T,B,I,H")
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--libraries", default="numpy,torch")
    a = p.parse_args(argv)
    shape = tuple(int(v) for v in a.shape.split(","))
    if a.worker:
        print(json.dumps(run_worker(a.worker, a.cell, *shape, a.dtype, a.repeats, a.warmup)))
        return
    result = compare(a.cell, shape, tuple(a.libraries.split(",")), a.dtype, a.rounds, a.repeats, a.warmup)
    for lib, t in result.items():
        print(f"{a.cell} {shape} {a.dtype} {lib:<10} median {1e3 * statistics.median(t):8.1f} ms  "
              f"min {1e3 * t[0]:8.1f} ms  ({len(t)} runs)")


if __name__ == "__main__":
    _main()
