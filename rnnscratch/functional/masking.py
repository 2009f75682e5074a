"""The length mask of a padded batch: which time steps of which sequences are real.

A batch of sequences of different lengths is padded to ``T`` steps; ``lengths (B,)`` gives each one's
true length. ``mask[t, b]`` is True exactly when ``t < lengths[b]``. The recurrent cells, pooling over
time and (later) attention all read it from here.
"""
from __future__ import annotations

from .. import backend
from .._checks import check_integer_array, check_shape


def length_mask(lengths, T, B, xp, none_when_full=True):
    """``(T, B, 1)`` bool mask, True where ``t < lengths[b]``.

    ``lengths`` must be ``(B,)`` integers in ``[1, T]`` (checked, with a message naming ``lengths``).
    With ``none_when_full`` the result is None when every length equals ``T`` (or ``lengths`` is None),
    so the common unpadded case pays nothing; otherwise an all-True mask is returned then.
    """
    if lengths is None:
        return None if none_when_full else xp.ones((T, B, 1), dtype=bool)
    check_shape("lengths", lengths, (B,))
    check_integer_array("lengths", lengths)
    host = backend.to_numpy(lengths)
    if host.min() < 1 or host.max() > T:
        bad = int(host.min()) if host.min() < 1 else int(host.max())
        raise ValueError(f"lengths: every length must be in [1, T={T}], got {bad}")
    if none_when_full and host.min() == T:
        return None
    lengths = xp.asarray(lengths)
    return (xp.arange(T)[:, None] < lengths[None, :])[:, :, None]
