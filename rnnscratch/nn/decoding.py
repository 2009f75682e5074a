r"""Decoding a :class:`~rnnscratch.nn.seq2seq.Seq2Seq` model: greedy search and beam search, batched.

Both start from ``<bos>``, feed each chosen token back, and stop a hypothesis at ``<eos>`` (or after
``max_len`` tokens). The score of a hypothesis ``y_1 .. y_n`` is the sum of its tokens' log
probabilities, ``<eos>`` included when it was emitted::

    score(y) = sum_{i=1..n} log p(y_i | y_<i, x)

Beam search ranks finished hypotheses by the length-normalised score (fairseq's convention)::

    score(y) / n ** alpha       alpha = length_penalty; 0: the raw sum, 1: the mean log probability

where n counts the emitted tokens, ``<eos>`` included. Without normalisation short hypotheses win
(every token adds a negative term); alpha = 1 compares hypotheses per token.

Beam search keeps ``beam`` live hypotheses per example. At each step every live hypothesis is extended
by every token; of the 2 * beam best extensions (by raw score), an ``<eos>`` among the best ``beam``
finishes a hypothesis, and the best ``beam`` others stay live. An example is done when it has
``beam`` finished hypotheses; at ``max_len`` its live ones are finished as they are. The result is the
finished hypothesis with the best normalised score. With ``beam = 1`` this is exactly greedy search.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy

from .. import backend
from ..functional.activations import log_softmax


@dataclass
class Decoded:
    """The best hypothesis of each example.

    Attributes:
        tokens: one list of token ids per example, without ``<bos>`` and ``<eos>``.
        scores: one float per example: the sum of log probabilities (greedy), or that sum divided by
            ``length ** length_penalty`` (beam search).
        attention: one ``(n_b, S_b)`` host array per example (None without attention): the weights of
            each emitted token's step (n_b = len(tokens) + 1 when ``<eos>`` was emitted) over the
            source's S_b real positions.
    """
    tokens: list
    scores: list
    attention: list | None


def _check_decoding(model, bos, eos, max_len):
    V = model.config["tgt_vocab_size"]
    for name, value in (("bos", bos), ("eos", eos)):
        if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)) or not 0 <= value < V:
            raise ValueError(f"{name}: expected a token id in [0, {V - 1}], got {value!r}")
    if isinstance(max_len, bool) or not isinstance(max_len, (int, numpy.integer)) or max_len < 1:
        raise ValueError(f"max_len: expected a positive int, got {max_len!r}")


class _EvalMode:
    """``with _EvalMode(model):`` eval mode inside (no dropout), the previous mode restored after."""

    def __init__(self, model):
        self.model, self.was_training = model, model.training

    def __enter__(self):
        self.model.eval()

    def __exit__(self, *exc):
        self.model.train(self.was_training)


def _source_lengths(src, src_lengths):
    S, B = src.shape
    return numpy.full(B, S) if src_lengths is None else backend.to_numpy(src_lengths).astype(int)


def _trim_attention(rows, lengths):
    """Per example b, ``rows[b] (n_b, S)`` cut to the source's real positions; None without attention."""
    if rows is None:
        return None
    return [r[:, :L] for r, L in zip(rows, lengths)]


def _publish_attention(model, rows, S):
    """``model.attention_weights``: ``(T, B, S)`` of the chosen hypotheses, zero after each one's end."""
    if rows is None:
        model.attention_weights = None
        return
    T = max((len(r) for r in rows), default=0)
    weights = numpy.zeros((T, len(rows), S))
    for b, r in enumerate(rows):
        weights[:len(r), b] = r
    xp = backend.array_module(like=model.decoder.head.weight.data)
    model.attention_weights = xp.asarray(weights, dtype=model.decoder.head.weight.data.dtype)


def greedy_decode(model, src, src_lengths, bos, eos, max_len):
    """Take the most probable token at every step, for the whole batch at once.

    ``src (S, B)`` ids, ``src_lengths (B,)`` (or None) -> :class:`Decoded`. Sets ``model.attention_weights``.
    """
    _check_decoding(model, bos, eos, max_len)
    with _EvalMode(model):
        dstate = model.encode(src, src_lengths)
        S, B = src.shape
        xp = backend.array_module(src=src)
        tokens = numpy.full(B, bos)
        done = numpy.zeros(B, dtype=bool)
        scores = numpy.zeros(B)
        emitted = [[] for _ in range(B)]
        attention = None
        for _ in range(max_len):
            logits, dstate, a = model.decode_step(xp.asarray(tokens), dstate)
            log_probs = backend.to_numpy(log_softmax(logits, axis=1)).astype(numpy.float64)
            tokens = log_probs.argmax(axis=1)
            if a is not None:
                a = backend.to_numpy(a)
                attention = attention if attention is not None else [[] for _ in range(B)]
            for b in numpy.flatnonzero(~done):
                scores[b] += log_probs[b, tokens[b]]
                if attention is not None:
                    attention[b].append(a[b])
                if tokens[b] == eos:
                    done[b] = True
                else:
                    emitted[b].append(int(tokens[b]))
            if done.all():
                break
    rows = None if attention is None else [numpy.array(r) for r in attention]
    _publish_attention(model, rows, S)
    return Decoded(emitted, [float(s) for s in scores], _trim_attention(rows, _source_lengths(src, src_lengths)))


def _check_beam(beam, length_penalty):
    if isinstance(beam, bool) or not isinstance(beam, (int, numpy.integer)) or beam < 1:
        raise ValueError(f"beam: expected a beam width >= 1, got {beam!r}")
    if isinstance(length_penalty, bool) or not isinstance(length_penalty, (int, float)) \
            or not numpy.isfinite(length_penalty) or length_penalty < 0:
        raise ValueError(f"length_penalty: expected a finite number >= 0, got {length_penalty!r}")


def beam_search(model, src, src_lengths, bos, eos, max_len, beam=4, length_penalty=1.0):
    """Beam search of width ``beam``, for the whole batch at once (see the module docstring).

    ``src (S, B)`` ids, ``src_lengths (B,)`` (or None) -> :class:`Decoded` with normalised scores.
    ``beam < 1`` is a ``ValueError``. Sets ``model.attention_weights`` to the chosen hypotheses'.
    """
    _check_decoding(model, bos, eos, max_len)
    _check_beam(beam, length_penalty)
    k = int(beam)
    with _EvalMode(model):
        dstate = model.encode(src, src_lengths)
        S, B = src.shape
        xp = backend.array_module(src=src)
        dstate = dstate.select(xp.asarray(numpy.repeat(numpy.arange(B), k)))   # row b*k + j: hypothesis j of b
        live = numpy.full((B, k), -numpy.inf)
        live[:, 0] = 0.0                          # one start hypothesis; the other rows wait for step 0's extensions
        tokens = numpy.full(B * k, bos)
        history = numpy.zeros((B * k, 0), dtype=numpy.int64)
        weights = None                            # (B*k, steps, S) attention of each live hypothesis
        finished = [[] for _ in range(B)]         # (normalised score, tokens, attention rows)
        done = numpy.zeros(B, dtype=bool)
        for step in range(max_len):
            logits, dstate, a = model.decode_step(xp.asarray(tokens), dstate)
            log_probs = backend.to_numpy(log_softmax(logits, axis=1)).astype(numpy.float64)
            V = log_probs.shape[1]
            if a is not None:
                a = backend.to_numpy(a)
                weights = a[:, None] if weights is None else numpy.concatenate([weights, a[:, None]], axis=1)
            extended = (live[:, :, None] + log_probs.reshape(B, k, V)).reshape(B, k * V)
            order = numpy.argsort(-extended, axis=1, kind="stable")[:, :2 * k]  # ties: the lower index, as argmax
            rows = numpy.repeat(numpy.arange(B)[:, None] * k, k, axis=1)        # unused slots: the example's row 0
            next_tokens = numpy.full((B, k), eos)
            next_live = numpy.full((B, k), -numpy.inf)
            length = step + 1
            for b in numpy.flatnonzero(~done):
                kept = 0
                for rank, j in enumerate(order[b]):
                    score = extended[b, j]
                    if score == -numpy.inf or kept == k:
                        break
                    row, token = b * k + j // V, j % V
                    if token == eos:
                        if rank < k:
                            finished[b].append((score / length ** length_penalty, history[row].tolist(),
                                                None if weights is None else weights[row]))
                        continue
                    rows[b, kept], next_tokens[b, kept], next_live[b, kept] = row, token, score
                    kept += 1
                done[b] = len(finished[b]) >= k
            if done.all():
                break
            if step == max_len - 1:               # out of steps: the live hypotheses finish as they are
                for b in numpy.flatnonzero(~done):
                    for j in numpy.flatnonzero(next_live[b] > -numpy.inf):
                        row = rows[b, j]
                        finished[b].append((next_live[b, j] / length ** length_penalty,
                                            history[row].tolist() + [int(next_tokens[b, j])],
                                            None if weights is None else weights[row]))
                break
            flat_rows = rows.reshape(-1)
            history = numpy.concatenate([history[flat_rows], next_tokens.reshape(-1, 1)], axis=1)
            if weights is not None:
                weights = weights[flat_rows]
            live, tokens = next_live, next_tokens.reshape(-1)
            dstate = dstate.select(xp.asarray(flat_rows))
    best = [max(hypotheses, key=lambda h: h[0]) for hypotheses in finished]
    rows_ = None if weights is None else [h[2] for h in best]
    _publish_attention(model, rows_, S)
    return Decoded([h[1] for h in best], [float(h[0]) for h in best],
                   _trim_attention(rows_, _source_lengths(src, src_lengths)))
