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
(With alpha > 0 a still-live hypothesis could in principle overtake the finished ones later; like
fairseq, the search does not wait for it.)
"""
from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def _eval_mode(model):
    """Eval mode inside (no dropout); the previous train/eval flag restored after."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _step_log_probs(model, tokens, dstate, xp):
    """Feed ``tokens (N,)`` (host ints): ``log p (N, V)`` float64 on the host, the next state, ``a (N, S)`` or None."""
    logits, dstate, a = model.decode_step(xp.asarray(tokens), dstate)
    log_probs = backend.to_numpy(log_softmax(logits, axis=1)).astype(numpy.float64)
    return log_probs, dstate, None if a is None else backend.to_numpy(a)


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
    like = model.decoder.head.weight.data
    model.attention_weights = backend.array_module(like=like).asarray(weights, dtype=like.dtype)


def _result(model, src, src_lengths, tokens, scores, rows):
    _publish_attention(model, rows, src.shape[0])
    return Decoded(tokens, [float(s) for s in scores], _trim_attention(rows, _source_lengths(src, src_lengths)))


def greedy_decode(model, src, src_lengths, bos, eos, max_len):
    """Take the most probable token at every step, for the whole batch at once.

    ``src (S, B)`` ids, ``src_lengths (B,)`` (or None) -> :class:`Decoded`. Sets ``model.attention_weights``.
    """
    _check_decoding(model, bos, eos, max_len)
    B = src.shape[1]
    xp = backend.array_module(src=src)
    tokens = numpy.full(B, bos)
    done = numpy.zeros(B, dtype=bool)
    scores = numpy.zeros(B)
    emitted = [[] for _ in range(B)]
    attention = [[] for _ in range(B)]              # each example's rows (B, S), one per emitted token
    with _eval_mode(model):
        dstate = model.encode(src, src_lengths)
        for _ in range(max_len):
            log_probs, dstate, a = _step_log_probs(model, tokens, dstate, xp)
            tokens = log_probs.argmax(axis=1)
            for b in numpy.flatnonzero(~done):
                scores[b] += log_probs[b, tokens[b]]
                if a is not None:
                    attention[b].append(a[b])
                if tokens[b] == eos:
                    done[b] = True
                else:
                    emitted[b].append(int(tokens[b]))
            if done.all():
                break
    rows = [numpy.array(r) for r in attention] if model.decoder.attention is not None else None
    return _result(model, src, src_lengths, emitted, scores, rows)


def _check_beam(beam, length_penalty):
    if isinstance(beam, bool) or not isinstance(beam, (int, numpy.integer)) or beam < 1:
        raise ValueError(f"beam: expected a beam width >= 1, got {beam!r}")
    if isinstance(length_penalty, bool) or not isinstance(length_penalty, (int, float)) \
            or not numpy.isfinite(length_penalty) or length_penalty < 0:
        raise ValueError(f"length_penalty: expected a finite number >= 0, got {length_penalty!r}")


@dataclass
class _Beams:
    """The live hypotheses of every example, ``k`` rows per example (row ``b*k + j``: hypothesis j of b).

    ``scores (B, k)`` raw sums of log p (-inf: an empty slot), ``tokens (B*k,)`` the last tokens,
    ``history (B*k, n)`` the tokens so far, ``weights (B*k, n, S)`` their attention (None without).
    """
    scores: object
    tokens: object
    history: object
    weights: object


def beam_step(scores, log_probs, eos, length, alpha):
    """One step of beam search: the best ``k`` extensions of ``k`` hypotheses, and those that end here.

    Every hypothesis j of example b is extended by every token v, with the raw score
    ``scores[b, j] + log_probs[b, j, v]``; the ``k * V`` extensions of an example are ranked together
    (ties: the lower ``j * V + v`` first, as ``argmax``). Then

    * an extension by ``eos`` ranked among the best ``k`` ends hypothesis j: ``finished[b, j]`` is its
      length-normalised score ``score / length ** alpha`` (-inf where j does not end here);
    * the best ``k`` extensions by another token stay live, with their raw scores (the running sums
      must stay sums: only finished hypotheses are compared after normalisation).

    Args:
        scores: ``(B, k)`` raw sums of log p of the live hypotheses (-inf: an empty slot).
        log_probs: ``(B, k, V)`` the next token's log probabilities after each hypothesis.
        eos: the end-of-sequence id.  length: the extended hypotheses' length in tokens (``eos``
            included).  alpha: the length penalty (0: raw sums).

    Returns:
        ``parents (B, k)`` the hypothesis each live extension extends, ``tokens (B, k)`` its token,
        ``new_scores (B, k)`` its raw score, ``finished (B, k)``. A slot with no finite extension
        left gets parent 0, token ``eos`` and score -inf.
    """
    B, k, V = log_probs.shape
    extended = (scores[:, :, None] + log_probs).reshape(B, k * V)
    order = numpy.argsort(-extended, axis=1, kind="stable")                  # best first, ties as argmax
    ranked = numpy.take_along_axis(extended, order, axis=1)
    is_eos = order % V == eos
    finished = numpy.full((B, k), -numpy.inf)
    ends = is_eos[:, :k] & (ranked[:, :k] > -numpy.inf)                       # an EOS among the k best
    rows, ranks = numpy.nonzero(ends)
    finished[rows, order[rows, ranks] // V] = ranked[rows, ranks] / float(length) ** alpha
    live = numpy.argsort(is_eos, axis=1, kind="stable")[:, :k]               # the k best non-EOS ranks
    chosen, new_scores = numpy.take_along_axis(order, live, axis=1), numpy.take_along_axis(ranked, live, axis=1)
    empty = new_scores == -numpy.inf
    parents, tokens = numpy.where(empty, 0, chosen // V), numpy.where(empty, eos, chosen % V)
    return parents, tokens, new_scores, finished


def _extend(beams, log_probs, a, k, eos, length, alpha, finished, done):
    """One step of beam search (:func:`beam_step`) for every example not yet done.

    Returns ``rows (B, k)`` (which live row each new hypothesis extends), ``tokens (B, k)`` and
    ``scores (B, k)``; hypotheses that chose ``eos`` go to ``finished[b]`` as (normalised score,
    tokens, attention rows), and ``done[b]`` is set once example b has k of them.
    """
    B, V = beams.scores.shape[0], log_probs.shape[1]
    weights = None if a is None else (a[:, None] if beams.weights is None
                                      else numpy.concatenate([beams.weights, a[:, None]], axis=1))
    parents, tokens, scores, ended = beam_step(beams.scores, log_probs.reshape(B, k, V), eos, length, alpha)
    rows = numpy.arange(B)[:, None] * k + parents
    for b in numpy.flatnonzero(~done):
        for j in sorted(numpy.flatnonzero(ended[b] > -numpy.inf), key=lambda j: -ended[b, j]):   # rank order
            row = b * k + j
            finished[b].append((ended[b, j], beams.history[row].tolist(), None if weights is None else weights[row]))
        done[b] = len(finished[b]) >= k
    rows[done], tokens[done], scores[done] = (numpy.arange(B)[done] * k)[:, None], eos, -numpy.inf
    return rows, tokens, scores, weights


def beam_search(model, src, src_lengths, bos, eos, max_len, beam=4, length_penalty=1.0):
    """Beam search of width ``beam``, for the whole batch at once (see the module docstring).

    ``src (S, B)`` ids, ``src_lengths (B,)`` (or None) -> :class:`Decoded` with normalised scores.
    ``beam < 1`` is a ``ValueError``. Sets ``model.attention_weights`` to the chosen hypotheses'.
    """
    _check_decoding(model, bos, eos, max_len)
    _check_beam(beam, length_penalty)
    k, alpha = int(beam), length_penalty
    B = src.shape[1]
    xp = backend.array_module(src=src)
    start = numpy.full((B, k), -numpy.inf)
    start[:, 0] = 0.0                              # one start hypothesis; the other slots wait for step 0
    beams = _Beams(start, numpy.full(B * k, bos), numpy.zeros((B * k, 0), dtype=numpy.int64), None)
    finished = [[] for _ in range(B)]              # (normalised score, tokens, attention rows)
    done = numpy.zeros(B, dtype=bool)
    with _eval_mode(model):
        dstate = model.encode(src, src_lengths).select(xp.asarray(numpy.repeat(numpy.arange(B), k)))
        for step in range(max_len):
            log_probs, dstate, a = _step_log_probs(model, beams.tokens, dstate, xp)
            rows, tokens, scores, weights = _extend(beams, log_probs, a, k, eos, step + 1, alpha, finished, done)
            if done.all():
                break
            flat = rows.reshape(-1)
            beams = _Beams(scores, tokens.reshape(-1),
                           numpy.concatenate([beams.history[flat], tokens.reshape(-1, 1)], axis=1),
                           None if weights is None else weights[flat])
            dstate = dstate.select(xp.asarray(flat))
    for b in numpy.flatnonzero(~done):             # out of steps: the live hypotheses finish as they are
        for j in numpy.flatnonzero(beams.scores[b] > -numpy.inf):
            row = b * k + j
            finished[b].append((beams.scores[b, j] / max_len ** alpha, beams.history[row].tolist(),
                                None if beams.weights is None else beams.weights[row]))
    best = [max(hypotheses, key=lambda h: h[0]) for hypotheses in finished]
    rows = None if model.decoder.attention is None else [h[2] for h in best]
    return _result(model, src, src_lengths, [h[1] for h in best], [h[0] for h in best], rows)
