r"""Feed-forward building blocks around the recurrent cells: linear, embedding, dropout.

Each is a pair of pure functions, ``*_forward(...) -> out, cache`` and ``*_backward(d_out, cache) -> dict``.
"""
from __future__ import annotations

from .. import backend
from .._checks import check_integer_array, check_probability, check_same_float_dtype, check_shape


def linear_forward(x, W, b=None):
    """Affine map over the last axis: ``y = x W^T + b``.

    ``x (..., in)``, ``W (out, in)`` (PyTorch's layout), ``b (out,)`` or None -> ``y (..., out)``.
    """
    backend.array_module(x=x, W=W, b=b)
    check_shape("W", W, (None, None))
    if x.ndim < 1 or x.shape[-1] != W.shape[1]:
        raise ValueError(f"x: expected last dimension {W.shape[1]} (W is {tuple(W.shape)}), got shape {tuple(x.shape)}")
    if b is not None:
        check_shape("b", b, (W.shape[0],))
    check_same_float_dtype(x=x, W=W, b=b)
    y = x @ W.T
    if b is not None:
        y += b
    return y, {"x": x, "W": W, "has_bias": b is not None}


def linear_backward(d_y, cache):
    """``dx = dy W``, ``dW = dy^T x`` (summed over every leading axis), ``db = sum dy``.

    Returns a dict with ``x``, ``W`` and (when the forward had one) ``b``.
    """
    x, W = cache["x"], cache["W"]
    d_y2 = d_y.reshape(-1, W.shape[0])
    grads = {"x": d_y @ W, "W": d_y2.T @ x.reshape(-1, W.shape[1])}
    if cache["has_bias"]:
        grads["b"] = d_y2.sum(axis=0)
    return grads


def check_token_ids(name, ids, num_embeddings):
    """Refuse ids outside ``[0, num_embeddings)``.

    Needed because CuPy wraps out-of-range indices around silently instead of raising.
    """
    check_integer_array(name, ids)
    if ids.size == 0:
        return
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= num_embeddings:
        bad = low if low < 0 else high
        raise IndexError(f"{name}: token id {bad} is outside the embedding's range [0, {num_embeddings - 1}]")


def embedding_forward(ids, W, padding_idx=None):
    """Row lookup: ``out[...] = W[ids[...]]``.  ``ids (...)`` ints, ``W (V, D)`` -> ``out (..., D)``."""
    backend.array_module(ids=ids, W=W)
    check_shape("W", W, (None, None))
    check_token_ids("ids", ids, W.shape[0])
    return W[ids], {"ids": ids, "W_shape": W.shape, "dtype": W.dtype, "padding_idx": padding_idx}


def embedding_backward(d_out, cache):
    """``dW[v] = sum of d_out over every position whose id is v`` (repeated ids accumulate).

    The ``padding_idx`` row, if any, gets no gradient (PyTorch's behaviour), so padding stays fixed.
    Returns ``{"W": dW}`` (ids are integers and have no gradient).
    """
    xp = backend.array_module(d_out=d_out)
    V, D = cache["W_shape"]
    dW = xp.zeros((V, D), dtype=cache["dtype"])
    backend.scatter_add(dW, cache["ids"].reshape(-1), d_out.reshape(-1, D))
    if cache["padding_idx"] is not None:
        dW[cache["padding_idx"]] = 0
    return {"W": dW}


def dropout_mask(shape, p, rng, dtype):
    """Inverted-dropout mask: each entry is ``0`` with probability p, else ``1 / (1 - p)``.

    ``rng`` is a NumPy or CuPy ``Generator`` (``default_rng(seed)``) on the arrays' backend.
    """
    check_probability("p", p)
    keep = rng.random(shape, dtype=dtype) >= p
    return keep.astype(dtype) / dtype.type(1.0 - p)


def dropout_forward(x, p, training=True, mask=None, rng=None):
    """Inverted dropout: ``y = x * mask``, with the mask scaled so that ``E[y] = x``.

    In eval mode (``training=False``) or with ``p == 0`` it is the identity. A ``mask`` may be given
    (gradient checks fix it); otherwise one is drawn from ``rng`` (default: a fresh generator).
    """
    check_probability("p", p)
    if not training or (p == 0.0 and mask is None):
        return x, {"mask": None}
    xp = backend.array_module(x=x, mask=mask)
    if mask is None:
        mask = dropout_mask(x.shape, p, rng if rng is not None else xp.random.default_rng(), x.dtype)
    check_shape("mask", mask, x.shape)
    return x * mask, {"mask": mask}


def dropout_backward(d_y, cache):
    """``dx = dy * mask`` (identity when the forward was). Returns ``{"x": dx}``."""
    mask = cache["mask"]
    return {"x": d_y if mask is None else d_y * mask}
