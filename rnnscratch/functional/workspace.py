"""Buffers a recurrent layer reuses from one call to the next (the fast path's memory)."""
from __future__ import annotations


class Workspace:
    """Internal buffers a layer reuses from one call to the next.

    A fresh multi-megabyte array costs page faults on first touch (the OS hands out zeroed pages):
    about 20 ms of an LSTM forward+backward at T=200, B=64, H=256 on a 2-core CPU. With a workspace
    the same buffers come back every call. The price: a cache is valid only until the next forward
    that uses the same workspace — which is how modules work anyway (they keep one cache). Arrays
    returned to the caller (outputs, states, gradients) are never taken from a workspace.
    """

    def __init__(self):
        self.buffers = {}

    def empty(self, name, shape, dtype, xp):
        buf = self.buffers.get(name)
        if buf is None or buf.shape != tuple(shape) or buf.dtype != dtype or not isinstance(buf, xp.ndarray):
            buf = self.buffers[name] = xp.empty(shape, dtype=dtype)
        return buf


def allocator(workspace, xp):
    """``empty(name, shape, dtype)``: from ``workspace`` when one is given, else a fresh array."""
    if workspace is None:
        return lambda name, shape, dtype: xp.empty(shape, dtype=dtype)
    return lambda name, shape, dtype: workspace.empty(name, shape, dtype, xp)
