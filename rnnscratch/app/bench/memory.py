"""Memory of one NumPy forward+backward: the peak (tracemalloc) and what the forward keeps for the backward."""
from __future__ import annotations

import time

from .timing import our_layer


def kept_bytes(arrays):
    """Bytes of ``arrays``, each array counted once (by identity): given a layer's ``saved_arrays()``,
    what its forward keeps for its backward. The input and the weights are not among them (they exist
    whether or not anything is kept), so this is what BPTT must hold between the two passes."""
    unique = {id(a): a for a in arrays}
    return sum(a.nbytes for a in unique.values())


def step_memory(cell, T, B, I, H, dtype="float32", checkpoint_every=None):
    """Memory of one NumPy forward+backward of a fresh layer: ``{"peak_bytes", "kept_bytes", "seconds"}``.

    ``peak_bytes``: the most bytes allocated at once during the step, measured with tracemalloc (NumPy
    reports its buffers to it), the layer's workspace and the returned gradients included.
    ``kept_bytes``: :func:`kept_bytes` of the layer's ``saved_arrays()`` after the forward. ``seconds``:
    the step's time under tracemalloc (for comparing BPTT variants, not for speed). ``checkpoint_every``:
    the layer's memory-efficient BPTT segment length. Run it in a fresh process.
    """
    import tracemalloc
    with our_layer(cell, T, B, I, H, dtype) as (_, layer, x, d_out):
        layer.checkpoint_every = checkpoint_every
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            start = time.perf_counter()
            layer(x)
            kept = kept_bytes(layer.saved_arrays())
            layer.backward(d_out)
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    return {"peak_bytes": peak, "kept_bytes": kept, "seconds": seconds}
