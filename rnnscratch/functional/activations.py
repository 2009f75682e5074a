r"""Activations written once: the logistic sigmoid, and softmax / log-softmax over one axis.

.. math::
    \sigma(a) = \frac{1}{1 + e^{-a}} = \tfrac12 \left(1 + \tanh \tfrac{a}{2}\right)

The tanh form is used because it never overflows (``exp(-a)`` warns for a < -88 in float32).

.. math::
    \operatorname{softmax}(z)_c = \frac{e^{z_c - m}}{\sum_k e^{z_k - m}}, \qquad
    \log \operatorname{softmax}(z)_c = z_c - m - \log \sum_k e^{z_k - m}, \qquad m = \max_k z_k

Subtracting the maximum changes nothing mathematically (it cancels) but keeps every exponent <= 0,
so ``e^{1000}`` never appears. Both work on NumPy or CuPy arrays of any shape.
"""
from __future__ import annotations

from .. import backend


def sigmoid(a):
    """``sigmoid(a)``, a new array: the form the textbook step functions use."""
    xp = backend.array_module(a=a)
    return 0.5 * (1.0 + xp.tanh(0.5 * a))


def sigmoid_(a, xp):
    """In place: ``a = sigmoid(a)``, the same formula in four element-wise passes (the fast path's form)."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


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
