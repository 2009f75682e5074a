"""Whole models built only from the modules: each has ``forward``, ``backward`` and a ``loss`` helper.

* :class:`SequenceClassifier` (many-to-one): embedding -> recurrent stack -> pooling over time ->
  dropout -> linear -> logits ``(B, C)``.
* :class:`LanguageModel` (many-to-many): embedding or one-hot -> recurrent stack -> dropout -> linear
  at every step; returns its final state so a caller can carry it into the next chunk;
  :meth:`LanguageModel.sample` generates token ids.

Token ids are time-major ``(T, B)`` like the recurrent layers; ``lengths (B,)`` marks padding.
Every model keeps ``config`` (its constructor arguments) so a checkpoint can rebuild it.
"""
from __future__ import annotations

import numpy

from .. import backend
from .._checks import check_shape
from ..functional.activations import softmax
from ..functional.losses import IGNORE_INDEX, sequence_cross_entropy, softmax_cross_entropy
from ..functional.pooling import temporal_pool_backward, temporal_pool_forward
from ..functional.sampling import check_sampling, sample_token
from .layers import Dropout, Embedding, Linear, OneHot
from .module import Module
from .recurrent import make_recurrent
from .seq2seq import Seq2Seq

POOLINGS = ("last", "mean", "max")


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
        self.rnn = make_recurrent(cell, embed_dim, hidden_size, num_layers=num_layers, dropout=dropout,
                                  bidirectional=bidirectional, rng=rng, dtype=dtype)
        self.dropout = Dropout(dropout, rng=rng)
        self.head = Linear(hidden_size * self.rnn.num_directions, num_classes, rng=rng, dtype=dtype)
        self._cache = None

    def forward(self, ids, lengths=None):
        """``ids (T, B)`` ints, ``lengths (B,)`` -> ``logits (B, num_classes)``."""
        return self.forward_with_state(ids, lengths)[0]

    def forward_with_state(self, ids, lengths=None, state=None):
        """Like :meth:`forward`, from an initial recurrent ``state`` (truncated BPTT carries one between
        chunks), also returning the final state: ``-> logits (B, C), state``. The state's gradient is
        not part of :meth:`backward`: a carried state is a cut."""
        out, state = self.rnn(self.embedding(ids), state, lengths=lengths)
        D = self.rnn.num_directions
        if self.pooling == "last":
            top = _hidden(state)[-D:]                                  # (D, B, H)
            pooled = top.transpose(1, 0, 2).reshape(top.shape[1], -1)  # (B, D*H): [forward, backward]
            pool_cache = None
        else:
            pooled, pool_cache = temporal_pool_forward(out, lengths, self.pooling)
        self._cache = {"pool": pool_cache, "state_shape": _hidden(state).shape}
        return self.head(self.dropout(pooled)), state

    def check_truncated_bptt(self):
        """Raise ``ValueError`` (saying why) unless this model can be trained with truncated BPTT, which
        carries each sequence's state from one chunk to the next and reads its last output."""
        if self.rnn.bidirectional:
            raise ValueError("truncated BPTT needs a unidirectional model: a bidirectional layer reads each "
                             "chunk backwards from its end, so no state can be carried across the cut")
        if self.pooling != "last":
            raise ValueError(f"truncated BPTT for classification uses the last valid output of each chunk, so it "
                             f"needs pooling='last'; with pooling={self.pooling!r} the loss depends on every "
                             "chunk's outputs at once and cannot be cut")

    def backward(self, d_logits):
        """Backpropagate ``d_logits (B, C)`` through the whole model, accumulating every ``.grad``."""
        cache = self._use_cache()
        d_pooled = self.dropout.backward(self.head.backward(d_logits))
        xp = backend.array_module(d=d_pooled)
        if self.pooling == "last":
            D, H = self.rnn.num_directions, self.rnn.hidden_size
            d_h_n = xp.zeros(cache["state_shape"], dtype=d_pooled.dtype)
            d_h_n[-D:] = d_pooled.reshape(-1, D, H).transpose(1, 0, 2)
            d_out = None
            d_state = (d_h_n, None) if self.rnn.has_cell_state else d_h_n
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
        try:
            return softmax(self.forward(ids, lengths), axis=1)
        finally:
            self.train(was_training)


class LanguageModel(Module):
    """Next-token model: embedding (or one-hot) -> recurrent stack -> dropout -> linear at every step.

    ``embed_dim=None`` feeds one-hot vectors (min-char-rnn's input); unidirectional only.
    """

    def __init__(self, vocab_size, hidden_size=128, embed_dim=None, cell="lstm", num_layers=1, dropout=0.0,
                 rng=None, dtype=None):
        super().__init__()
        self.config = dict(vocab_size=vocab_size, hidden_size=hidden_size, embed_dim=embed_dim, cell=cell,
                           num_layers=num_layers, dropout=dropout)
        if embed_dim is None:
            self.embedding = OneHot(vocab_size, dtype=dtype)
        else:
            self.embedding = Embedding(vocab_size, embed_dim, rng=rng, dtype=dtype)
        self.rnn = make_recurrent(cell, self.embedding.embedding_dim, hidden_size, num_layers=num_layers,
                                  dropout=dropout, rng=rng, dtype=dtype)
        self.dropout = Dropout(dropout, rng=rng)
        self.head = Linear(hidden_size, vocab_size, rng=rng, dtype=dtype)
        self._cache = None

    def forward(self, ids, state=None, lengths=None):
        """``ids (T, B)`` -> ``logits (T, B, vocab_size)`` and the final recurrent state."""
        out, final_state = self.rnn(self.embedding(ids), state, lengths=lengths)
        self._cache = {"logits_shape": out.shape[:2] + (self.head.out_features,)}
        return self.head(self.dropout(out)), final_state

    def backward(self, d_logits, d_state=None):
        """``d_logits (T, B, V)`` (and optionally the gradient of the returned state) -> gradient of the
        initial state (what truncated BPTT cuts). Parameter gradients accumulate."""
        check_shape("d_logits", d_logits, self._require_forward()["logits_shape"])
        self._use_cache()
        d_out = self.dropout.backward(self.head.backward(d_logits))
        d_emb, d_state0 = self.rnn.backward(d_out, d_state)
        self.embedding.backward(d_emb)
        return d_state0

    @staticmethod
    def loss(logits, targets, ignore_index=IGNORE_INDEX):
        """Mean cross-entropy over every counted step: ``logits (T, B, V)``, ``targets (T, B)``."""
        return sequence_cross_entropy(logits, targets, ignore_index)

    def sample(self, prefix, n, temperature=1.0, top_k=None, seed=None):
        """Generate ``n`` token ids after the ids in ``prefix`` (a non-empty sequence of ints).

        ``temperature`` divides the logits; ``temperature == 0`` takes the argmax at every step.
        ``top_k`` keeps only the k most likely tokens. ``seed`` makes the draw reproducible. Runs in eval
        mode (dropout off) and leaves the train/eval flag as it was.
        """
        if len(prefix) == 0:
            raise ValueError("prefix: expected at least one token id, got an empty sequence")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n: expected a number of tokens >= 0, got {n!r}")
        check_sampling(temperature, top_k, self.config["vocab_size"])
        rng = numpy.random.default_rng(seed)
        xp = backend.array_module(w=self.head.weight.data)
        was_training = self.training
        self.eval()
        try:
            logits, state = self.forward(xp.asarray(numpy.asarray(prefix, dtype=numpy.int64)[:, None]))
            generated = []
            for _ in range(n):
                token = sample_token(backend.to_numpy(logits[-1, 0]), temperature, top_k, rng)
                generated.append(token)
                logits, state = self.forward(xp.asarray([[token]]), state)
        finally:
            self.train(was_training)
        return generated


MODELS = {"SequenceClassifier": SequenceClassifier, "LanguageModel": LanguageModel, "Seq2Seq": Seq2Seq}


def build_model(name, config, rng=None, dtype=None):
    """Rebuild a model from its class name and ``config`` (as stored in a checkpoint)."""
    if name not in MODELS:
        raise ValueError(f"model: expected one of {sorted(MODELS)}, got {name!r}")
    return MODELS[name](**config, rng=rng, dtype=dtype)
