r"""Pooling over time of a padded batch of outputs ``h (T, B, F)`` with lengths ``L (B,)``.

    mean:  p_b = (1 / L_b) sum_{t < L_b} h_{t,b}            dh_{t,b} = [t < L_b] dp_b / L_b
    max:   p_b = max_{t < L_b} h_{t,b}  (per feature)         dh_{t,b} = [t = argmax] dp_b

Padding never wins the max and never enters the mean.
"""
from __future__ import annotations

from .. import backend
from .._checks import check_shape
from .masking import length_mask

POOLINGS = ("mean", "max")


def temporal_pool_forward(h, lengths=None, mode="mean"):
    """``h (T, B, F)``, ``lengths (B,)`` or None -> ``p (B, F)``, cache."""
    if mode not in POOLINGS:
        raise ValueError(f"mode: expected one of {POOLINGS}, got {mode!r}")
    xp = backend.array_module(h=h, lengths=lengths)
    check_shape("h", h, (None, None, None))
    T, B, F = h.shape
    valid = length_mask(lengths, T, B, xp, none_when_full=False)          # (T, B, 1), lengths checked
    if mode == "mean":
        count = valid.sum(axis=0).astype(h.dtype)                     # (B, 1)
        return xp.where(valid, h, 0).sum(axis=0) / count, {"mode": mode, "valid": valid, "count": count}
    masked = xp.where(valid, h, -xp.inf)
    winner = masked.argmax(axis=0)                                    # (B, F) time index of the max
    pooled = xp.take_along_axis(masked, winner[None], axis=0)[0]
    return pooled, {"mode": mode, "winner": winner, "shape": h.shape}


def temporal_pool_backward(d_p, cache):
    """``d_p (B, F)`` -> ``{"h": dh (T, B, F)}``."""
    xp = backend.array_module(d_p=d_p)
    if cache["mode"] == "mean":
        return {"h": xp.where(cache["valid"], (d_p / cache["count"])[None], 0).astype(d_p.dtype)}
    T, B, F = cache["shape"]
    dh = xp.zeros((T, B, F), dtype=d_p.dtype)
    xp.put_along_axis(dh, cache["winner"][None], d_p[None], axis=0)
    return {"h": dh}
