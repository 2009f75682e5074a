"""``Attention``: the parameters of one score function around :mod:`rnnscratch.functional.attention`."""
from __future__ import annotations

import math

from ..functional.attention import SCORE_FUNCTIONS, attention_backward, attention_forward, check_score
from . import init
from .layers import check_device
from .module import Module, Parameter


class Attention(Module):
    """Queries ``q (T, B, query_size)`` attend to ``h (S, B, key_size)`` (keys = values) of a padded source.

    Parameters by ``score`` (initialised like the ``Linear`` layers they are, ``U(-1/sqrt(in), 1/sqrt(in))``):

    * ``"dot"``: none (``query_size`` must equal ``key_size``);
    * ``"general"``: ``W (query_size, key_size)``;
    * ``"additive"``: ``W_q (A, query_size)``, ``W_k (A, key_size)``, ``v (A,)`` with
      ``A = attention_size`` (default ``query_size``).
    """

    def __init__(self, score, query_size, key_size, attention_size=None, rng=None, dtype=None):
        super().__init__()
        self.score = check_score(score)
        self.query_size, self.key_size = query_size, key_size
        rng = init.generator(rng)
        if score == "dot" and query_size != key_size:
            raise ValueError(f"attention: 'dot' needs queries and keys of one size, got {query_size} and {key_size}; "
                             "use 'general' or 'additive'")
        if score == "general":
            self.W = Parameter(init.uniform((query_size, key_size), 1 / math.sqrt(key_size), rng, dtype))
        elif score == "additive":
            A = attention_size or query_size
            self.W_q = Parameter(init.uniform((A, query_size), 1 / math.sqrt(query_size), rng, dtype))
            self.W_k = Parameter(init.uniform((A, key_size), 1 / math.sqrt(key_size), rng, dtype))
            self.v = Parameter(init.uniform((A,), 1 / math.sqrt(A), rng, dtype))
        self._cache = None

    def _weights(self):
        return {name: getattr(self, name).data for name in SCORE_FUNCTIONS[self.score][2]}

    def forward(self, q, h, lengths=None):
        """``q (T, B, Hq)``, ``h (S, B, Hk)``, ``lengths (B,)`` -> context ``c (T, B, Hk)``, weights ``a (T, B, S)``."""
        check_device("q", q, h)
        c, a, self._cache = attention_forward(q, h, lengths, self.score, **self._weights())
        return c, a

    def backward(self, d_c, d_a=None):
        """``d_c (T, B, Hk)`` (and optionally ``d_a``) -> ``d_q``, ``d_h``; accumulates the score's parameters."""
        grads = attention_backward(d_c, d_a, self._use_cache())
        for name in SCORE_FUNCTIONS[self.score][2]:
            getattr(self, name).grad += grads[name]
        return grads["q"], grads["h"]

    def extra_repr(self):
        return f"{self.score!r}, query_size={self.query_size}, key_size={self.key_size}"
