r"""Softmax and log-softmax over one axis, in the max-shifted form that cannot overflow.

.. math::
    \operatorname{softmax}(z)_c = \frac{e^{z_c - m}}{\sum_k e^{z_k - m}}, \qquad
    \log \operatorname{softmax}(z)_c = z_c - m - \log \sum_k e^{z_k - m}, \qquad m = \max_k z_k

Subtracting the maximum changes nothing mathematically (it cancels) but keeps every exponent <= 0,
so ``e^{1000}`` never appears. Both work on NumPy or CuPy arrays of any shape.
"""
from __future__ import annotations

from .. import backend


def log_softmax(z, axis=-1):
    """``log softmax(z)`` along ``axis`` (same shape as ``z``)."""
    xp = backend.array_module(z=z)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z, axis=-1):
    """``softmax(z)`` along ``axis`` (same shape as ``z``; entries in [0, 1] that sum to 1)."""
    xp = backend.array_module(z=z)
    e = xp.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
