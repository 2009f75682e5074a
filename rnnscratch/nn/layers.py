"""``Linear``, ``Embedding``, ``Dropout`` and ``OneHot``: modules around :mod:`rnnscratch.functional.layers`."""
from __future__ import annotations

import math

from .. import backend
from .._checks import check_probability, check_shape
from ..functional import layers as FL
from . import init
from .module import Module, Parameter


def check_device(name, a, like):
    """Refuse an input that lives on another backend than the module's parameters."""
    backend.array_module(**{name: a, "the module's parameters": like})


class Linear(Module):
    """``y = x W^T + b`` over the last axis. ``weight (out, in)``, ``bias (out,)``.

    Initialisation as PyTorch: both ``U(-1/sqrt(in), 1/sqrt(in))``.
    """

    def __init__(self, in_features, out_features, bias=True, rng=None, dtype=None):
        super().__init__()
        rng = init.generator(rng)
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features)
        self.weight = Parameter(init.uniform((out_features, in_features), bound, rng, dtype))
        self.bias = Parameter(init.uniform((out_features,), bound, rng, dtype)) if bias else None
        self._cache = None

    def forward(self, x):
        """``x (..., in)`` -> ``(..., out)``."""
        check_device("x", x, self.weight.data)
        y, self._cache = FL.linear_forward(x, self.weight.data, None if self.bias is None else self.bias.data)
        return y

    def backward(self, d_y):
        """``d_y (..., out)`` -> ``dx (..., in)``; accumulates ``weight.grad`` and ``bias.grad``."""
        grads = FL.linear_backward(d_y, self._use_cache())
        self.weight.grad += grads["W"]
        if self.bias is not None:
            self.bias.grad += grads["b"]
        return grads["x"]

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """Lookup table ``weight (num_embeddings, embedding_dim)``, initialised ``N(0, 1)`` like PyTorch.

    With ``padding_idx`` that row starts at zero and never receives a gradient. A frozen table
    (``weight.requires_grad = False``, e.g. :meth:`from_pretrained`) gets no gradient at all.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, rng=None, dtype=None):
        super().__init__()
        if padding_idx is not None and not 0 <= padding_idx < num_embeddings:
            raise ValueError(f"padding_idx: expected a row in [0, {num_embeddings - 1}], got {padding_idx}")
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.weight = Parameter(init.normal((num_embeddings, embedding_dim), init.generator(rng), dtype))
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0
        self._cache = None

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, dtype=None):
        """An embedding whose table is a copy of ``embeddings (num_embeddings, embedding_dim)`` (a NumPy or
        CuPy array, moved to the current backend), frozen unless ``freeze=False`` (PyTorch's
        ``Embedding.from_pretrained``). As there, the ``padding_idx`` row is kept as given (not zeroed)
        and gets no gradient."""
        check_shape("embeddings", embeddings, (None, None))
        num_embeddings, embedding_dim = embeddings.shape
        module = cls(num_embeddings, embedding_dim, padding_idx=padding_idx, rng=0, dtype=dtype)
        module.weight.data[...] = backend.array_module(w=module.weight.data).asarray(
            backend.to_numpy(embeddings), dtype=module.weight.data.dtype)
        module.weight.requires_grad = not freeze
        return module

    def forward(self, ids):
        """``ids (...)`` integer token ids -> ``(..., embedding_dim)``."""
        check_device("ids", ids, self.weight.data)
        out, self._cache = FL.embedding_forward(ids, self.weight.data, self.padding_idx)
        return out

    def backward(self, d_out):
        """Accumulates ``weight.grad`` (unless frozen: a (V, D) scatter nobody reads); returns None (token ids
        have no gradient)."""
        cache = self._use_cache()
        if self.weight.requires_grad:
            self.weight.grad += FL.embedding_backward(d_out, cache)["W"]
        return None

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}, padding_idx={self.padding_idx}"


class OneHot(Module):
    """Token ids -> one-hot vectors ``(..., num_classes)`` (min-char-rnn's input). No parameters."""

    def __init__(self, num_classes, dtype=None):
        super().__init__()
        self.num_classes = num_classes
        self.embedding_dim = num_classes
        self.dtype = dtype

    def forward(self, ids):
        FL.check_token_ids("ids", ids, self.num_classes)
        xp = backend.array_module(ids=ids)
        return xp.eye(self.num_classes, dtype=self.dtype or backend.get_default_dtype())[ids]

    def backward(self, d_out):
        return None


class Dropout(Module):
    """Inverted dropout with probability ``p``; identity in eval mode. Seedable through ``rng``."""

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        check_probability("p", p)
        self.p = p
        self.generator = init.device_generator(init.generator(rng))
        self._cache = None

    def forward(self, x):
        out, self._cache = FL.dropout_forward(x, self.p, training=self.training, rng=self.generator)
        return out

    def backward(self, d_y):
        return FL.dropout_backward(d_y, self._use_cache())["x"]

    def extra_repr(self):
        return f"p={self.p}"
