r"""Sequence to sequence: an encoder, a decoder trained with teacher forcing, and the model joining them.

::

    src (S, B) -> Encoder -> memory (S, B, H), state ---------------------+
                                                                          v
    tgt_in (T, B) -> Decoder: embedding -> recurrent stack (from state) -> out (T, B, H)
                              attention(out, memory, src_lengths) -> context (T, B, H), weights (T, B, S)
                              logits = Linear([context; out])     (T, B, V_tgt)

The decoder is Luong's, in the form of "Deep Learning from Scratch 2", chapter 8: the context vector
is concatenated with the decoder's recurrent output and one ``Linear`` maps the pair to the
vocabulary (no ``tanh`` layer in between). Without attention (``"none"``) the logits are
``Linear(out)``, the plain encoder-decoder of chapter 7. Teacher forcing: ``tgt_in`` is the target
shifted right (``<bos> y_1 ... y_{T-1}``) and ``tgt_out`` (``y_1 ... y_T`` with ``<eos>``) the labels.

With ``input_feeding`` the decoder's input at step t is ``[embedding(y_{t-1}); c_{t-1}]``, the
previous step's context vector (zeros at t = 0): in this architecture the context is the part of
the attentional output that the recurrent state does not already hold, so it plays the role of
Luong's fed-back attentional vector. Step t then needs step t-1's attention, so the decoder runs a
Python loop over the target (forward and backward); without it the whole target is one call of
the recurrent stack's fast sequence function and one batched attention call.

A bidirectional encoder gives each direction ``hidden // 2`` units, so its outputs have the
decoder's size ``hidden`` (every score, ``dot`` included, works); its final states, the forward and
backward ones of each layer concatenated, pass through a learned bridge ``tanh(Linear(hidden,
hidden))`` (one for ``h``, one for ``c`` with an LSTM) to become the decoder's initial state. A
unidirectional encoder hands its final state over as it is.

Shapes are time-major; padded source positions (``s >= src_lengths[b]``) change nothing: the
encoder's cells stop at each source's end and the attention gives the padding zero weight.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import backend
from .._checks import check_integer_array, check_shape
from ..functional.attention import SCORES
from ..functional.layers import check_token_ids
from ..functional.losses import IGNORE_INDEX, sequence_cross_entropy
from . import init
from .attention import Attention
from .layers import Dropout, Embedding, Linear
from .module import Module
from .recurrent import make_recurrent

ATTENTIONS = ("none",) + SCORES
"""The decoder's attention choices: none, additive (Bahdanau), dot and general (Luong)."""


def _parts(state):
    """A recurrent state as a tuple of arrays: ``(h,)`` or ``(h, c)``."""
    return state if isinstance(state, tuple) else (state,)


def _joined(parts, like):
    """The inverse of :func:`_parts` for a layer whose state looks like ``like``."""
    return tuple(parts) if isinstance(like, tuple) else parts[0]


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")


class Encoder(Module):
    """Embedding + a recurrent stack of any registered cell over the source.

    ``forward(src (S, B), lengths (B,)) -> memory (S, B, hidden), state`` where ``state`` is the
    decoder's initial state, ``(layers, B, hidden)`` (a tuple ``(h, c)`` for an LSTM).
    """

    def __init__(self, vocab_size, embed=16, hidden=256, cell="lstm", layers=1, bidirectional=False, dropout=0.0,
                 rng=None, dtype=None):
        super().__init__()
        if bidirectional and hidden % 2:
            raise ValueError(f"hidden: a bidirectional encoder gives each direction hidden // 2 units, so hidden "
                             f"must be even, got {hidden}")
        rng = init.generator(rng)
        self.hidden_size, self.bidirectional = hidden, bidirectional
        self.embedding = Embedding(vocab_size, embed, rng=rng, dtype=dtype)
        self.rnn = make_recurrent(cell, embed, hidden // 2 if bidirectional else hidden, num_layers=layers,
                                  bidirectional=bidirectional, dropout=dropout, rng=rng, dtype=dtype)
        self.bridge_names = ()
        if bidirectional:
            self.bridge_names = tuple("bridge_" + name for name in self.rnn.cell.state_names)   # bridge_h (, bridge_c)
            for name in self.bridge_names:
                setattr(self, name, Linear(hidden, hidden, rng=rng, dtype=dtype))
        self._cache = None

    def forward(self, src, lengths=None):
        """``src (S, B)`` token ids, ``lengths (B,)`` -> ``memory (S, B, hidden)``, the decoder's initial state."""
        memory, final = self.rnn(self.embedding(src), lengths=lengths)
        if not self.bidirectional:
            self._cache = {}
            return memory, final
        xp = backend.array_module(memory=memory)
        L, B = self.rnn.num_layers, memory.shape[1]
        bridged = []
        for name, part in zip(self.bridge_names, _parts(final)):
            # (2L, B, H/2), forward direction first in each layer -> (L, B, H) = [forward; backward]
            joined = part.reshape(L, 2, B, -1).transpose(0, 2, 1, 3).reshape(L, B, self.hidden_size)
            bridged.append(xp.tanh(getattr(self, name)(joined)))
        self._cache = {"bridged": bridged}
        return memory, _joined(bridged, final)

    def backward(self, d_memory, d_state):
        """``d_memory (S, B, hidden)`` or None, ``d_state`` like the returned state. Accumulates every ``.grad``."""
        cache = self._use_cache()
        d_final = d_state
        if self.bidirectional:
            L = self.rnn.num_layers
            d_parts = []
            for name, s, d in zip(self.bridge_names, cache["bridged"], _parts(d_state)):
                d_joined = getattr(self, name).backward(d * (1 - s * s))                 # through tanh, Linear
                B = d_joined.shape[1]
                d_parts.append(d_joined.reshape(L, B, 2, -1).transpose(0, 2, 1, 3).reshape(2 * L, B, -1))
            d_final = _joined(d_parts, d_state)
        d_embedded, _ = self.rnn.backward(d_memory, d_final)
        self.embedding.backward(d_embedded)


@dataclass
class DecoderState:
    """What decoding carries from one step to the next, one row per sequence (or beam hypothesis).

    Attributes:
        state: the recurrent state ``(layers, N, H)`` (a tuple ``(h, c)`` for an LSTM).
        context: ``(N, H)`` the previous context vector (input feeding), else None.
        memory: ``(S, N, H)`` the encoder's outputs.  lengths: ``(N,)`` source lengths, or None.
    """
    state: object
    context: object
    memory: object
    lengths: object

    def select(self, rows):
        """The state of the rows ``rows (M,)`` (ints into N, repeats allowed): how beams are reordered."""
        pick = lambda a, axis: None if a is None else a.take(rows, axis=axis)      # noqa: E731
        state = _joined([pick(part, 1) for part in _parts(self.state)], self.state)
        return DecoderState(state, pick(self.context, 0), pick(self.memory, 1), pick(self.lengths, 0))


class Decoder(Module):
    """Embedding -> recurrent stack -> attention -> ``Linear([context; out])`` -> logits, with teacher forcing.

    ``memory_size``: the encoder outputs' size (default ``hidden``). See the module docstring.
    """

    def __init__(self, vocab_size, embed=16, hidden=256, cell="lstm", layers=1, attention="dot",
                 input_feeding=False, dropout=0.0, memory_size=None, rng=None, dtype=None):
        super().__init__()
        if attention not in ATTENTIONS:
            raise ValueError(f"attention: expected one of {', '.join(ATTENTIONS)}, got {attention!r}")
        if input_feeding and attention == "none":
            raise ValueError("input_feeding: feeds the previous context vector back, so it needs an attention; "
                             "got attention='none'")
        rng = init.generator(rng)
        memory_size = memory_size or hidden
        self.input_feeding, self.memory_size = input_feeding, memory_size
        self.embedding = Embedding(vocab_size, embed, rng=rng, dtype=dtype)
        self.rnn = make_recurrent(cell, embed + (memory_size if input_feeding else 0), hidden, num_layers=layers,
                                  dropout=dropout, rng=rng, dtype=dtype)
        if input_feeding:
            self.rnn.reuse_buffers = False            # the step loop keeps every step's cache alive at once
        self.attention = None if attention == "none" else Attention(attention, hidden, memory_size, rng=rng,
                                                                     dtype=dtype)
        self.dropout = Dropout(dropout, rng=rng)
        self.head = Linear((0 if self.attention is None else memory_size) + hidden, vocab_size, rng=rng, dtype=dtype)
        self.attention_weights = None
        self._cache = None

    # -- one step (input feeding, decoding) --------------------------------------------------------------
    def _recurrent_step(self, x, state, context, memory, lengths):
        """``x (B, E)`` one step's embedded input -> ``out (1, B, H)``, state, ``c (1, B, Hk)``, ``a (1, B, S)``."""
        xp = backend.array_module(x=x)
        if self.input_feeding:
            x = xp.concatenate([x, context], axis=1)
        out, state = self.rnn(x[None], state)
        if self.attention is None:
            return out, state, None, None
        c, a = self.attention(out, memory, lengths)
        return out, state, c, a

    def _features(self, out, context):
        """What the head reads: ``[context; out]`` (``out`` alone without attention)."""
        if context is None:
            return out
        return backend.array_module(out=out).concatenate([context, out], axis=2)

    def step(self, tokens, dstate):
        """One decoding step: ``tokens (N,)`` the previous tokens -> ``logits (N, V)``, the next
        :class:`DecoderState`, ``a (N, S)`` (None without attention). No backward (inference)."""
        x = self.embedding(tokens[None])[0]
        out, state, c, a = self._recurrent_step(x, dstate.state, dstate.context, dstate.memory, dstate.lengths)
        logits = self.head(self.dropout(self._features(out, c)))[0]
        context = None if not self.input_feeding else c[0]
        return logits, DecoderState(state, context, dstate.memory, dstate.lengths), None if a is None else a[0]

    def initial_context(self, memory):
        """The context fed at step 0 with input feeding: zeros ``(B, Hk)``; None otherwise."""
        if not self.input_feeding:
            return None
        return backend.array_module(memory=memory).zeros(memory.shape[1:], dtype=memory.dtype)

    # -- teacher forcing -------------------------------------------------------------------------------
    def forward(self, tgt_in, state, memory, lengths=None):
        """Teacher forcing: ``tgt_in (T, B)`` ids, the initial ``state``, ``memory (S, B, Hk)``, ``lengths (B,)``
        -> ``logits (T, B, V)``.

        :attr:`attention_weights` is then ``(T, B, S)`` (None without attention).
        """
        x = self.embedding(tgt_in)                                           # (T, B, E)
        if self.input_feeding:
            out, context, weights, steps = self._feed_forward(x, state, memory, lengths)
        else:
            out, _ = self.rnn(x, state)                                      # all T steps in one call
            context, weights = (None, None) if self.attention is None else self.attention(out, memory, lengths)
            steps = None
        self.attention_weights = weights
        self._cache = {"steps": steps, "embed": x.shape[2]}
        return self.head(self.dropout(self._features(out, context)))

    def _feed_forward(self, x, state, memory, lengths):
        """The step loop of input feeding; keeps each step's recurrent and attention caches."""
        xp = backend.array_module(x=x)
        context = self.initial_context(memory)
        outs, contexts, weights, steps = [], [], [], []
        for t in range(x.shape[0]):
            out, state, c, a = self._recurrent_step(x[t], state, context, memory, lengths)
            # a module keeps one forward's cache: take each step's, to hand it back in the backward
            steps.append((self.rnn._cache, self.attention._cache))
            context = c[0]
            outs.append(out[0]), contexts.append(context), weights.append(a[0])
        return xp.stack(outs), xp.stack(contexts), xp.stack(weights), steps

    def backward(self, d_logits):
        """``d_logits (T, B, V)`` -> ``d_memory (S, B, Hk)`` (None without attention) and the gradient of
        the initial state. Accumulates every ``.grad``."""
        cache = self._use_cache()
        d_features = self.dropout.backward(self.head.backward(d_logits))
        if self.attention is None:
            d_out, d_context = d_features, None
        else:
            Hk = self.memory_size
            d_context, d_out = d_features[..., :Hk], d_features[..., Hk:]
        if self.input_feeding:
            return self._feed_backward(d_out, d_context, cache)
        d_memory = None
        if self.attention is not None:
            d_q, d_memory = self.attention.backward(d_context)
            d_out = d_out + d_q
        d_x, d_state = self.rnn.backward(d_out, None)
        self.embedding.backward(d_x)
        return d_memory, d_state

    def _feed_backward(self, d_out, d_context, cache):
        """The step loop in reverse: step t's input gradient holds ``d c_{t-1}``, which joins step t-1's."""
        xp = backend.array_module(d_out=d_out)
        E, steps = cache["embed"], cache["steps"]
        T, B = d_out.shape[:2]
        d_x = xp.empty((T, B, E), dtype=d_out.dtype)
        d_memory, d_state, d_fed = None, None, 0
        for t in reversed(range(T)):
            rnn_cache, attention_cache = steps[t]
            self.attention._cache = attention_cache
            d_q, d_h = self.attention.backward((d_context[t] + d_fed)[None])
            d_memory = d_h if d_memory is None else d_memory + d_h
            self.rnn._cache = rnn_cache
            d_input, d_state = self.rnn.backward(d_out[t][None] + d_q, d_state)
            d_x[t], d_fed = d_input[0, :, :E], d_input[0, :, E:]
        self.embedding.backward(d_x)
        return d_memory, d_state


class Seq2Seq(Module):
    """Encoder-decoder with optional attention, trained with teacher forcing.

    Args:
        src_vocab_size, tgt_vocab_size: the two vocabularies' sizes.
        embed: embedding size of both sides.  hidden: the decoder's (and the encoder outputs') size.
        cell: a registered cell name (``rnn``, ``rnn_relu``, ``lstm``, ``gru``).  layers: stack depth (both sides).
        bidirectional: a bidirectional encoder with a bridge to the decoder's initial state.
        attention: ``"none"``, ``"additive"``, ``"dot"`` or ``"general"``.
        input_feeding: feed the previous context vector with the next input (a step loop).
        dropout: between stacked recurrent layers, and on the features before the output layer.

    ``forward(src (S, B), src_lengths (B,), tgt_in (T, B)) -> logits (T, B, V_tgt)``;
    ``backward(d_logits)`` accumulates the gradients; :meth:`loss` ignores ``IGNORE_INDEX`` targets;
    :attr:`attention_weights` holds the last forward's (or decode's) ``(T, B, S)`` weights, None
    without attention. Decoding: :func:`rnnscratch.nn.decoding.greedy_decode` and ``beam_search``,
    on :meth:`encode` and :meth:`decode_step`.
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, embed=16, hidden=256, cell="lstm", layers=1,
                 bidirectional=False, attention="dot", input_feeding=False, dropout=0.0, rng=None, dtype=None):
        super().__init__()
        for name, value in (("src_vocab_size", src_vocab_size), ("tgt_vocab_size", tgt_vocab_size),
                            ("embed", embed), ("hidden", hidden), ("layers", layers)):
            _check_positive(name, value)
        self.config = dict(src_vocab_size=src_vocab_size, tgt_vocab_size=tgt_vocab_size, embed=embed, hidden=hidden,
                           cell=cell, layers=layers, bidirectional=bidirectional, attention=attention,
                           input_feeding=input_feeding, dropout=dropout)
        rng = init.generator(rng)                     # one stream for every part (an int seed would repeat)
        self.encoder = Encoder(src_vocab_size, embed, hidden, cell, layers, bidirectional, dropout, rng=rng,
                               dtype=dtype)
        self.decoder = Decoder(tgt_vocab_size, embed, hidden, cell, layers, attention, input_feeding, dropout,
                               memory_size=hidden, rng=rng, dtype=dtype)
        self.attention_weights = None
        self._cache = None

    def _check_source(self, src, src_lengths):
        """``src (S, B)`` ids in the source vocabulary; ``src_lengths`` as an array on the parameters' device."""
        like = self.decoder.head.weight.data
        xp = backend.array_module(src=src, **{"the model's parameters": like})
        check_shape("src", src, (None, None))
        check_token_ids("src", src, self.config["src_vocab_size"])
        if src_lengths is None:
            return None
        src_lengths = xp.asarray(src_lengths)
        check_shape("src_lengths", src_lengths, (src.shape[1],))
        check_integer_array("src_lengths", src_lengths)
        host = backend.to_numpy(src_lengths)
        if host.size and (host.min() < 1 or host.max() > src.shape[0]):
            bad = int(host.min()) if host.min() < 1 else int(host.max())
            raise ValueError(f"src_lengths: every source length must be in [1, {src.shape[0]}] (src has "
                             f"{src.shape[0]} positions), got {bad}")
        return src_lengths

    def forward(self, src, src_lengths, tgt_in):
        """Teacher forcing: ``src (S, B)``, ``src_lengths (B,)`` (or None: no padding), ``tgt_in (T, B)``
        -> ``logits (T, B, V_tgt)``."""
        src_lengths = self._check_source(src, src_lengths)
        check_shape("tgt_in", tgt_in, (None, src.shape[1]))
        check_token_ids("tgt_in", tgt_in, self.config["tgt_vocab_size"])
        memory, state = self.encoder(src, src_lengths)
        logits = self.decoder(tgt_in, state, memory, src_lengths)
        self.attention_weights = self.decoder.attention_weights
        self._cache = logits.shape
        return logits

    def backward(self, d_logits):
        """``d_logits (T, B, V_tgt)``: accumulates every parameter's ``.grad``; returns None."""
        check_shape("d_logits", d_logits, self._use_cache())
        d_memory, d_state = self.decoder.backward(d_logits)
        self.encoder.backward(d_memory, d_state)

    @staticmethod
    def loss(logits, tgt_out, ignore_index=IGNORE_INDEX):
        """Mean cross-entropy per counted target token: ``logits (T, B, V)``, ``tgt_out (T, B)`` with
        ``ignore_index`` at padding -> ``(loss, d_logits)``."""
        return sequence_cross_entropy(logits, tgt_out, ignore_index)

    # -- decoding -------------------------------------------------------------------------------------
    def encode(self, src, src_lengths=None):
        """Run the encoder: the :class:`DecoderState` that decoding starts from (no backward follows)."""
        src_lengths = self._check_source(src, src_lengths)
        memory, state = self.encoder(src, src_lengths)
        return DecoderState(state, self.decoder.initial_context(memory), memory, src_lengths)

    def decode_step(self, tokens, dstate):
        """``tokens (N,)`` -> ``logits (N, V_tgt)``, the next :class:`DecoderState`, ``a (N, S)`` or None."""
        check_token_ids("tokens", tokens, self.config["tgt_vocab_size"])
        return self.decoder.step(tokens, dstate)
