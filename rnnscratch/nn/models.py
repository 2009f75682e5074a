"""Whole models built only from the modules: each has ``forward``, ``backward`` and a ``loss`` helper.

* :class:`SequenceClassifier` (many-to-one): embedding -> recurrent stack -> pooling over time ->
  dropout -> linear -> logits ``(B, C)``.
* :class:`LanguageModel` (many-to-many, ``CharLM`` is the same class): embedding or one-hot ->
  recurrent stack -> dropout -> linear at every step; returns its final state so a caller can carry
  it into the next chunk; :meth:`LanguageModel.sample` generates text ids.
* :class:`SequenceTagger` (one label per input step): like the language model, bidirectional allowed.

Token ids are time-major ``(T, B)`` like the recurrent layers; ``lengths (B,)`` marks padding.
Every model keeps ``config`` (its constructor arguments) so a checkpoint can rebuild it.
"""
from __future__ import annotations

import numpy

from .. import backend
from ..functional.losses import softmax_cross_entropy
from ..functional.pooling import temporal_pool_backward, temporal_pool_forward
from .layers import Dropout, Embedding, Linear, OneHot
from .module import Module
from .recurrent import GRU, LSTM, RNN

CELLS = ("rnn", "rnn_relu", "lstm", "gru")
POOLINGS = ("last", "mean", "max")


def make_recurrent(cell, input_size, hidden_size, num_layers=1, dropout=0.0, bidirectional=False, rng=None,
                   dtype=None):
    """``RNN`` (tanh), ``RNN`` (relu), ``LSTM`` or ``GRU`` by name."""
    if cell not in CELLS:
        raise ValueError(f"cell: expected one of {CELLS}, got {cell!r}")
    kwargs = dict(num_layers=num_layers, dropout=dropout, bidirectional=bidirectional, rng=rng, dtype=dtype)
    if cell.startswith("rnn"):
        return RNN(input_size, hidden_size, nonlinearity="relu" if cell == "rnn_relu" else "tanh", **kwargs)
    return (LSTM if cell == "lstm" else GRU)(input_size, hidden_size, **kwargs)


def _hidden(state):
    """The ``h`` part of a recurrent state (LSTM states are ``(h, c)``)."""
    return state[0] if isinstance(state, tuple) else state


class SequenceClassifier(Module):
    """Many-to-one classifier.

    ``pooling``: ``"last"`` — the top layer's final state of each direction (for a bidirectional
    stack: forward state after the last real token, backward state after the first), concatenated;
    ``"mean"`` / ``"max"`` — over the valid steps of the top layer's outputs.
    """

    def __init__(self, vocab_size, num_classes, embed_dim=64, hidden_size=128, cell="lstm", num_layers=1,
                 bidirectional=False, dropout=0.0, pooling="last", padding_idx=0, rng=None, dtype=None):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling: expected one of {POOLINGS}, got {pooling!r}")
        self.config = dict(vocab_size=vocab_size, num_classes=num_classes, embed_dim=embed_dim,
                           hidden_size=hidden_size, cell=cell, num_layers=num_layers, bidirectional=bidirectional,
                           dropout=dropout, pooling=pooling, padding_idx=padding_idx)
        self.pooling = pooling
        self.embedding = Embedding(vocab_size, embed_dim, padding_idx=padding_idx, rng=rng, dtype=dtype)
        self.rnn = make_recurrent(cell, embed_dim, hidden_size, num_layers, dropout, bidirectional, rng, dtype)
        self.dropout = Dropout(dropout, rng=rng)
        self.head = Linear(hidden_size * self.rnn.num_directions, num_classes, rng=rng, dtype=dtype)
        self._cache = None
        self.final_state = None

    def forward(self, ids, lengths=None, state=None):
        """``ids (T, B)`` ints, ``lengths (B,)`` -> ``logits (B, num_classes)``.

        ``state`` is an initial recurrent state (truncated BPTT carries one between chunks); the final
        state is kept in ``self.final_state``. Its gradient is not returned: a carried state is a cut.
        """
        out, state = self.rnn(self.embedding(ids), state, lengths=lengths)
        self.final_state = state
        D = self.rnn.num_directions
        if self.pooling == "last":
            top = _hidden(state)[-D:]                                  # (D, B, H)
            pooled = top.transpose(1, 0, 2).reshape(top.shape[1], -1)  # (B, D*H): [forward, backward]
            pool_cache = None
        else:
            pooled, pool_cache = temporal_pool_forward(out, lengths, self.pooling)
        self._cache = {"pool": pool_cache, "out_shape": out.shape, "state_shape": _hidden(state).shape}
        return self.head(self.dropout(pooled))

    def backward(self, d_logits):
        """Backpropagate ``d_logits (B, C)`` through the whole model, accumulating every ``.grad``."""
        cache = self._require_forward()
        d_pooled = self.dropout.backward(self.head.backward(d_logits))
        xp = backend.array_module(d=d_pooled)
        if self.pooling == "last":
            D, H = self.rnn.num_directions, self.rnn.hidden_size
            d_h_n = xp.zeros(cache["state_shape"], dtype=d_pooled.dtype)
            d_h_n[-D:] = d_pooled.reshape(-1, D, H).transpose(1, 0, 2)
            d_out = None
            d_state = (d_h_n, None) if self.rnn.mode == "LSTM" else d_h_n
        else:
            d_out, d_state = temporal_pool_backward(d_pooled, cache["pool"])["h"], None
        d_emb, _ = self.rnn.backward(d_out, d_state)
        self.embedding.backward(d_emb)

    @staticmethod
    def loss(logits, targets):
        """Mean softmax cross-entropy: ``(loss, d_logits)``."""
        return softmax_cross_entropy(logits, targets)

    def predict_proba(self, ids, lengths=None):
        """Class probabilities ``(B, C)`` in eval mode (the train/eval flag is restored)."""
        was_training = self.training
        self.eval()
        logits = self.forward(ids, lengths)
        self.train(was_training)
        xp = backend.array_module(logits=logits)
        z = logits - logits.max(axis=1, keepdims=True)
        p = xp.exp(z)
        return p / p.sum(axis=1, keepdims=True)


class _StepwiseModel(Module):
    """Embedding (or one-hot) -> recurrent stack -> dropout -> linear at every step."""

    def _build(self, vocab_size, num_outputs, embed_dim, hidden_size, cell, num_layers, bidirectional, dropout,
               padding_idx, rng, dtype):
        if embed_dim is None:
            self.embedding = OneHot(vocab_size, dtype=dtype)
        else:
            self.embedding = Embedding(vocab_size, embed_dim, padding_idx=padding_idx, rng=rng, dtype=dtype)
        self.rnn = make_recurrent(cell, self.embedding.embedding_dim, hidden_size, num_layers, dropout,
                                  bidirectional, rng, dtype)
        self.dropout = Dropout(dropout, rng=rng)
        self.head = Linear(hidden_size * self.rnn.num_directions, num_outputs, rng=rng, dtype=dtype)
        self._cache = None

    def forward(self, ids, state=None, lengths=None):
        """``ids (T, B)`` -> ``logits (T, B, num_outputs)`` and the final recurrent state."""
        out, final_state = self.rnn(self.embedding(ids), state, lengths=lengths)
        self._cache = True
        return self.head(self.dropout(out)), final_state

    def backward(self, d_logits, d_state=None):
        """``d_logits (T, B, V)`` (and optionally the gradient of the returned state) -> gradient of the
        initial state (what truncated BPTT cuts). Parameter gradients accumulate."""
        self._require_forward()
        d_out = self.dropout.backward(self.head.backward(d_logits))
        d_emb, d_state0 = self.rnn.backward(d_out, d_state)
        self.embedding.backward(d_emb)
        return d_state0

    @staticmethod
    def loss(logits, targets, ignore_index=-100):
        """Mean cross-entropy over every counted step: ``logits (T, B, V)``, ``targets (T, B)``."""
        T, B, V = logits.shape
        loss, d = softmax_cross_entropy(logits.reshape(T * B, V), targets.reshape(T * B), ignore_index)
        return loss, d.reshape(T, B, V)


class LanguageModel(_StepwiseModel):
    """Next-token model. ``embed_dim=None`` feeds one-hot vectors (min-char-rnn); unidirectional only."""

    def __init__(self, vocab_size, hidden_size=128, embed_dim=None, cell="lstm", num_layers=1, dropout=0.0,
                 rng=None, dtype=None):
        super().__init__()
        self.config = dict(vocab_size=vocab_size, hidden_size=hidden_size, embed_dim=embed_dim, cell=cell,
                           num_layers=num_layers, dropout=dropout)
        self._build(vocab_size, vocab_size, embed_dim, hidden_size, cell, num_layers, False, dropout, None, rng,
                    dtype)

    def sample(self, prefix, n, temperature=1.0, top_k=None, seed=None):
        """Generate ``n`` token ids after the ids in ``prefix`` (a non-empty sequence of ints).

        ``temperature`` divides the logits; ``temperature == 0`` takes the argmax at every step.
        ``top_k`` keeps only the k most likely tokens. ``seed`` makes the draw reproducible. Runs in eval
        mode (dropout off) and leaves the train/eval flag as it was.
        """
        if len(prefix) == 0:
            raise ValueError("prefix: expected at least one token id, got an empty sequence")
        if temperature < 0:
            raise ValueError(f"temperature: expected >= 0, got {temperature}")
        V = self.config["vocab_size"]
        if top_k is not None and not 1 <= top_k <= V:
            raise ValueError(f"top_k: expected an int in [1, {V}], got {top_k}")
        rng = numpy.random.default_rng(seed)
        xp = backend.array_module(w=self.head.weight.data)
        was_training = self.training
        self.eval()
        try:
            logits, state = self.forward(xp.asarray(numpy.asarray(prefix, dtype=numpy.int64)[:, None]))
            generated = []
            for _ in range(n):
                z = backend.to_numpy(logits[-1, 0]).astype(numpy.float64)
                token = _choose(z, temperature, top_k, rng)
                generated.append(token)
                logits, state = self.forward(xp.asarray([[token]]), state)
        finally:
            self.train(was_training)
        return generated


def _choose(logits, temperature, top_k, rng):
    """Pick one id from a logit vector: argmax at temperature 0, else a draw from softmax(z / T)."""
    if top_k is not None:
        cutoff = numpy.sort(logits)[-top_k]
        logits = numpy.where(logits >= cutoff, logits, -numpy.inf)
    if temperature == 0:
        return int(numpy.argmax(logits))
    z = logits / temperature
    p = numpy.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))


CharLM = LanguageModel


class SequenceTagger(_StepwiseModel):
    """One label per input step (e.g. named-entity style tags); bidirectional by default."""

    def __init__(self, vocab_size, num_tags, embed_dim=64, hidden_size=128, cell="lstm", num_layers=1,
                 bidirectional=True, dropout=0.0, padding_idx=0, rng=None, dtype=None):
        super().__init__()
        self.config = dict(vocab_size=vocab_size, num_tags=num_tags, embed_dim=embed_dim, hidden_size=hidden_size,
                           cell=cell, num_layers=num_layers, bidirectional=bidirectional, dropout=dropout,
                           padding_idx=padding_idx)
        self._build(vocab_size, num_tags, embed_dim, hidden_size, cell, num_layers, bidirectional, dropout,
                    padding_idx, rng, dtype)


MODELS = {"SequenceClassifier": SequenceClassifier, "LanguageModel": LanguageModel, "SequenceTagger": SequenceTagger}


def build_model(name, config, rng=None, dtype=None):
    """Rebuild a model from its class name and ``config`` (as stored in a checkpoint)."""
    if name not in MODELS:
        raise ValueError(f"model: expected one of {sorted(MODELS)}, got {name!r}")
    return MODELS[name](**config, rng=rng, dtype=dtype)
