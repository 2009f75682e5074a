"""Timing one forward+backward in this process: ours (NumPy or CuPy), PyTorch (CPU or CUDA), and the
GEMM floor of either (only the matrix products the pass must do); the FLOP count of a pass."""
from __future__ import annotations

import contextlib
import time

from ...functional.cells import get_cell

LIBRARIES = ("numpy", "cupy", "torch", "torch-cuda")
FLOOR = "-gemm"          # suffix: time only the layer's matrix products in that library (its floor)


def layer_flops(cell, T, B, I, H):
    """FLOPs of one forward+backward: forward ``2*T*B*(I+H)*G*H`` (the GEMMs), backward twice that."""
    forward = 2 * T * B * (I + H) * get_cell(cell).num_gates * H
    return 3 * forward


def _repeat(step, sync, repeats, warmup, reset=lambda: None):
    """Seconds of each of ``repeats`` calls of ``step`` that follow ``warmup`` untimed ones; every call is
    timed between two ``sync()`` (a GPU finishes its queue), ``reset()`` runs after it, untimed."""
    times = []
    for k in range(warmup + repeats):
        sync()
        start = time.perf_counter()
        step()
        sync()
        if k >= warmup:
            times.append(time.perf_counter() - start)
        reset()
    return times


def _sync(library, xp=None):
    """What waits for ``library``'s device to finish: CuPy's or CUDA's synchronize, nothing on a CPU."""
    if library == "cupy":
        return lambda: xp.cuda.Device().synchronize()
    if library == "torch-cuda":
        import torch
        return torch.cuda.synchronize
    return lambda: None


def _torch_dtype(dtype):
    import torch
    return {"float32": torch.float32, "float64": torch.float64}[dtype]


@contextlib.contextmanager
def our_layer(cell, T, B, I, H, dtype, backend_name="numpy"):
    """A fresh ``rnnscratch.nn`` layer (seed 0), a random input ``(T, B, I)`` and output gradient
    ``(T, B, H)``, under ``backend_name`` and ``dtype``: yields ``(xp, layer, x, d_out)``."""
    from ... import backend, nn
    with backend.use_backend(backend_name, dtype=dtype) as xp:
        layer = nn.make_recurrent(cell, I, H, rng=0)
        x = xp.random.default_rng(0).standard_normal((T, B, I), dtype=dtype)
        d_out = xp.random.default_rng(1).standard_normal((T, B, H), dtype=dtype)
        yield xp, layer, x, d_out


def _time_ours(cell, T, B, I, H, dtype, repeats, warmup, backend_name):
    """Forward+backward of an ``rnnscratch.nn`` layer, as users call it (with its reused workspace)."""
    with our_layer(cell, T, B, I, H, dtype, backend_name) as (xp, layer, x, d_out):
        def step():
            layer(x)
            layer.backward(d_out)
        return _repeat(step, _sync(backend_name, xp), repeats, warmup)


def _time_torch(cell, T, B, I, H, dtype, repeats, warmup, library):
    """Forward+backward of the PyTorch layer the cell registry names (``torch_class``, ``torch_kwargs``)."""
    import torch
    torch.manual_seed(0)
    device, dt, spec = "cuda" if library == "torch-cuda" else "cpu", _torch_dtype(dtype), get_cell(cell)
    layer = getattr(torch.nn, spec.torch_class)(I, H, **spec.torch_kwargs).to(device=device, dtype=dt)
    x = torch.randn(T, B, I, device=device, dtype=dt, requires_grad=True)
    d_out = torch.randn(T, B, H, device=device, dtype=dt)

    def step():
        out, _ = layer(x)
        out.backward(d_out)

    def reset():
        layer.zero_grad(set_to_none=True)
        x.grad = None
    return _repeat(step, _sync(library), repeats, warmup, reset)


def _time_gemms(cell, T, B, I, H, dtype, repeats, warmup, library):
    """Time only the matrix products a forward+backward must do (the floor for that library):
    the input GEMM, T recurrent GEMMs each way, and the three after-sweep GEMMs."""
    G = get_cell(cell).num_gates
    if library.startswith("torch"):
        import torch
        dev, dt = "cuda" if library == "torch-cuda" else "cpu", _torch_dtype(dtype)
        new = lambda *shape: torch.randn(*shape, device=dev, dtype=dt)  # noqa: E731
        mm = lambda a, b, out: torch.mm(a, b, out=out)  # noqa: E731
        sync = _sync(library)
    else:
        from ... import backend
        with backend.use_backend(library):
            xp = backend.get_xp()
        rng = xp.random.default_rng(0)
        new = lambda *shape: rng.standard_normal(shape, dtype=dtype)  # noqa: E731
        mm = lambda a, b, out: xp.matmul(a, b, out=out)  # noqa: E731
        sync = _sync(library, xp)
    x, W_ih, W_hh = new(T * B, I), new(G * H, I), new(G * H, H)
    h, dA, hs = new(B, H), new(T * B, G * H), new(T * B, H)
    proj, step, back = new(T * B, G * H), new(B, G * H), new(B, H)
    dW_ih, dW_hh, dx = new(G * H, I), new(G * H, H), new(T * B, I)

    def products():
        mm(x, W_ih.T, proj)
        for _ in range(T):
            mm(h, W_hh.T, step)
        for t in range(T):
            mm(dA[t * B:(t + 1) * B], W_hh, back)
        mm(dA.T, x, dW_ih)
        mm(dA.T, hs, dW_hh)
        mm(dA, W_ih, dx)
    return _repeat(products, sync, repeats, warmup)


def run_worker(library, cell, T, B, I, H, dtype="float32", repeats=3, warmup=1):
    """Time ``repeats`` forward+backward passes in this process; returns a list of seconds.

    ``library`` is one of :data:`LIBRARIES`, or one of them with ``-gemm`` appended for its GEMM floor.
    """
    if library.endswith(FLOOR):
        return _time_gemms(cell, T, B, I, H, dtype, repeats, warmup, library[:-len(FLOOR)])
    if library in ("numpy", "cupy"):
        return _time_ours(cell, T, B, I, H, dtype, repeats, warmup, library)
    if library in ("torch", "torch-cuda"):
        return _time_torch(cell, T, B, I, H, dtype, repeats, warmup, library)
    raise ValueError(f"library: expected one of {LIBRARIES}, got {library!r}")
