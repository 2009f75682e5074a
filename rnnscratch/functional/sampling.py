r"""Choosing the next token from a model's logits: greedy, temperature, top-k.

.. math::
    p_c = \operatorname{softmax}(z / \tau)_c \quad\text{over the } k \text{ largest } z_c
    \text{ (the others get probability 0)}

``temperature`` :math:`\tau` below 1 sharpens the distribution, above 1 flattens it, and
:math:`\tau = 0` means the argmax (greedy decoding). Works on host (NumPy) vectors: one draw per step.
"""
from __future__ import annotations

import numpy

from .activations import softmax


def check_sampling(temperature, top_k, vocab_size):
    """Refuse a negative temperature or a ``top_k`` outside ``[1, vocab_size]`` (None is fine)."""
    if temperature < 0:
        raise ValueError(f"temperature: expected >= 0, got {temperature}")
    if top_k is not None and not 1 <= top_k <= vocab_size:
        raise ValueError(f"top_k: expected an int in [1, {vocab_size}], got {top_k}")


def sample_token(logits, temperature=1.0, top_k=None, rng=None) -> int:
    """One token id from a ``(V,)`` vector of logits.

    Args:
        logits: ``(V,)`` NumPy floats.  temperature: ``>= 0``; 0 takes the argmax.
        top_k: keep only the ``k`` largest logits (ties at the cut-off are kept), or None for all.
        rng: a NumPy ``Generator`` (a fresh unseeded one when None).
    """
    logits = numpy.asarray(logits, dtype=numpy.float64)
    check_sampling(temperature, top_k, logits.shape[-1])
    if top_k is not None:
        cutoff = numpy.sort(logits)[-top_k]
        logits = numpy.where(logits >= cutoff, logits, -numpy.inf)
    if temperature == 0:
        return int(numpy.argmax(logits))
    p = softmax(logits / temperature)
    rng = rng if rng is not None else numpy.random.default_rng()
    return int(rng.choice(len(p), p=p))
