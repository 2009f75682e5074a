"""Exercises on sequence to sequence: the teacher-forcing batch, one step of beam search, the masked
softmax over source positions, and dot-product attention forward and backward.

References: :class:`rnnscratch.data.PairIterator` (``batch``), :func:`rnnscratch.nn.decoding.beam_step`,
:func:`rnnscratch.functional.masked_softmax_forward` / ``_backward`` and
:func:`~rnnscratch.functional.attention.attention_forward` / ``attention_backward`` with ``score="dot"``.
Common mistakes: the ``_textbook_*`` functions with one named thing done wrong. Every attention case
has padded sources whose padding holds large values, so a mask that is missing, or applied in the
wrong place, changes the result.
"""
from __future__ import annotations

import numpy

from ..data.batching import PairIterator
from ..functional import attention as A
from ..functional.activations import softmax
from ..functional.losses import IGNORE_INDEX
from ..nn.decoding import beam_step
from ._build import backward_exercise, forward_exercise, label, mistakes, normal
from .grader import Case, Exercise

TOPIC = "seq2seq"


# ----------------------------------------------------------------------------- the teacher-forcing batch

def _batch_cases(rng):
    cases = []
    for B, V, (pad, bos, eos) in [(3, 9, (0, 2, 3)), (4, 12, (0, 2, 3)), (2, 7, (5, 1, 6))]:
        lengths = rng.integers(1, 6, size=B)
        lengths[-1] = 0 if B > 2 else lengths[-1]               # an empty target: <bos> in, <eos> out
        specials = {pad, bos, eos}
        tokens = [t for t in range(V) if t not in specials]
        targets = [[int(t) for t in rng.choice(tokens, size=n)] for n in lengths]
        cases.append(Case(label(B=B, lengths=lengths.tolist(), pad=pad), (targets, bos, eos, pad)))
    return cases


def _reference_batch(targets, bos, eos, pad):
    _, _, tgt_in, tgt_out = PairIterator([[0]] * len(targets), targets, len(targets), bos, eos, pad).batch(
        range(len(targets)))
    return tgt_in, tgt_out


def _padded(rows, value):
    """``(T, B)``: one column per row, padded with ``value`` after its end."""
    out = numpy.full((max(len(r) for r in rows), len(rows)), value, dtype=numpy.int64)
    for b, r in enumerate(rows):
        out[:len(r), b] = r
    return out


def _textbook_batch(targets, bos, eos, pad, mistake=None):
    inputs = [[bos] + t for t in targets]
    if mistake == "input_not_shifted":
        inputs = [t + [eos] for t in targets]
    outputs = [t if mistake == "eos_missing" else t + [eos] for t in targets]
    tgt_in = _padded(inputs, pad)
    tgt_out = _padded(outputs, pad if mistake == "out_padded_with_pad" else IGNORE_INDEX)
    if mistake == "batch_major":
        return tgt_in.T, tgt_out.T
    return tgt_in, tgt_out


teacher_forcing_batch = Exercise(
    "teacher_forcing_batch", TOPIC, "the decoder's input and labels for teacher forcing",
    ("targets", "bos", "eos", "pad"), ("tgt_in", "tgt_out"),
    """
The two arrays a decoder trained with teacher forcing reads and learns, time-major like every
sequence in this package. For a target y_1 ... y_n (token ids, without <bos>/<eos>):

    tgt_in  = <bos> y_1 ... y_n          what the decoder reads: the target shifted right
    tgt_out = y_1 ... y_n <eos>          what it must predict at each step

so at step t the decoder reads y_{t-1} (the true previous token) and predicts y_t. Both have n + 1
entries; T = the longest target + 1. Pad tgt_in with `pad` after each sequence's end, and tgt_out
with IGNORE_INDEX = -100, the label no loss counts (a padded label must never be learned).

Args:
    targets: a list of B lists of token ids (a list may be empty: then tgt_in = <bos>, tgt_out = <eos>).
    bos, eos, pad: the ids of <bos>, <eos> and the padding.

Returns:
    tgt_in, tgt_out: (T, B) int arrays.
""",
    _batch_cases, _reference_batch,
    mistakes(_textbook_batch,
             ("out_padded_with_pad", "pad tgt_out with IGNORE_INDEX (-100), not with the padding id: the loss "
                                     "skips -100, but it would learn to predict <pad> after every <eos>."),
             ("eos_missing", "tgt_out ends with <eos>: the decoder must learn where to stop, or decoding never "
                             "ends. tgt_in and tgt_out both have n + 1 entries."),
             ("input_not_shifted", "tgt_in is the target shifted right, <bos> y_1 ... y_n: at step t the decoder "
                                   "reads the previous token y_{t-1}, never the one it must predict."),
             ("batch_major", "sequences are time-major here: (T, B), one column per target.")))


# ----------------------------------------------------------------------------- one step of beam search

def _beam_cases(rng):
    cases = []
    for B, k, V, eos, step in [(2, 3, 8, 2, 1), (3, 2, 6, 1, 3), (2, 4, 9, 3, 5), (1, 3, 5, 0, 2)]:
        scores = -numpy.sort(rng.random((B, k)) * step * 2, axis=1)         # best first, as a search keeps them
        if step == 1:
            scores[:, 1:] = -numpy.inf                                       # the first step: one start hypothesis
        log_probs = numpy.log(softmax(normal(rng, B, k, V, scale=2.0), axis=-1))
        log_probs[:, :, eos] += 1.5                                         # <eos> often among the best
        alpha = 1.0 if step < 5 else 0.6
        cases.append(Case(label(B=B, k=k, V=V, length=step, alpha=alpha) + (" first step" if step == 1 else ""),
                          (scores, log_probs, eos, step, alpha)))
    return cases


def _textbook_beam_step(scores, log_probs, eos, length, alpha, mistake=None):
    B, k, V = log_probs.shape
    extended = log_probs.copy() if mistake == "scores_not_accumulated" else scores[:, :, None] + log_probs
    if mistake == "live_scores_normalised":
        extended = extended / length ** alpha
    parents, tokens = numpy.zeros((B, k), dtype=numpy.int64), numpy.full((B, k), eos)
    new_scores, finished = numpy.full((B, k), -numpy.inf), numpy.full((B, k), -numpy.inf)
    for b in range(B):
        if mistake == "one_per_beam":              # each hypothesis keeps its own best token
            ranked = [j * V + int(numpy.argmax(numpy.where(numpy.arange(V) == eos, -numpy.inf, extended[b, j])))
                      for j in range(k)]
            ranked = sorted(ranked, key=lambda i: -extended[b].reshape(-1)[i])
        else:
            ranked = list(numpy.argsort(-extended[b].reshape(-1), kind="stable"))
        flat, kept = extended[b].reshape(-1), 0
        for rank, i in enumerate(ranked):
            j, v, score = int(i) // V, int(i) % V, flat[i]
            if score == -numpy.inf or kept == k:
                break
            if v == eos and mistake != "eos_kept_live":
                if rank < k:
                    normalise = mistake not in ("finished_not_normalised", "live_scores_normalised")
                    finished[b, j] = score / length ** alpha if normalise else score
                continue
            parents[b, kept], tokens[b, kept], new_scores[b, kept] = j, v, score
            kept += 1
    return parents, tokens, new_scores, finished


beam_search_step = Exercise(
    "beam_search_step", TOPIC, "one step of beam search, with hypotheses that end",
    ("scores", "log_probs", "eos", "length", "alpha"), ("parents", "tokens", "new_scores", "finished"),
    """
One step of beam search of width k for B examples. Hypothesis j of example b has the raw score
scores[b, j] (a sum of log probabilities; -inf marks an empty slot, as at the first step) and the
next token's log probabilities log_probs[b, j, :]. Its extension by token v scores

    extended[b, j, v] = scores[b, j] + log_probs[b, j, v]

Rank all k * V extensions of an example together, best first (ties: the lower j * V + v first,
as argmax, e.g. numpy.argsort(-x, kind="stable")). Then

    * an extension by eos ranked among the best k ends hypothesis j:
      finished[b, j] = extended[b, j, eos] / length ** alpha     (-inf where j does not end here)
    * the best k extensions by a token other than eos stay live: new_scores holds their raw scores,
      parents the hypothesis j each extends, tokens its v; best first.

Only finished scores are length-normalised; the live scores stay raw sums (the next step adds to them).
(If fewer than k finite live extensions exist, fill the rest with parent 0, token eos, score -inf.)

Args:
    scores: (B, k) float.  log_probs: (B, k, V) float.  eos: int, the end-of-sequence id.
    length: int, the extended hypotheses' length in tokens (eos included).  alpha: float >= 0.

Returns:
    parents (B, k) ints in [0, k), tokens (B, k) ints, new_scores (B, k), finished (B, k).
""",
    _beam_cases, lambda scores, log_probs, eos, length, alpha: beam_step(scores, log_probs, eos, length, alpha),
    mistakes(_textbook_beam_step,
             ("scores_not_accumulated", "rank by the whole hypothesis' score, scores[b, j] + log_probs[b, j, v], not "
                                        "by the new token's log probability alone."),
             ("one_per_beam", "rank all k * V extensions of an example together: two extensions of the same "
                              "hypothesis may both be among the best k (and a poor hypothesis may get none)."),
             ("eos_kept_live", "an extension by eos ends its hypothesis: it goes to finished (when among the best "
                               "k), never into the live beam."),
             ("live_scores_normalised", "normalise only the finished scores, once: the live scores stay raw sums, "
                                        "which the next step extends."),
             ("finished_not_normalised", "a finished hypothesis is compared by its length-normalised score, "
                                         "extended / length ** alpha.")))


# ----------------------------------------------------------------------------- masked softmax

ATTENTION_SHAPES = [(3, 4, 6, [6, 3, 5, 1]), (1, 3, 5, [2, 5, 4]), (4, 2, 7, [7, 4])]     # (T, B, S, lengths)


def _padding(S, lengths):
    """``(S, B)`` True at padded source positions."""
    return numpy.arange(S)[:, None] >= numpy.asarray(lengths)[None, :]


def _scores_cases(rng):
    cases = []
    for k, (T, B, S, lengths) in enumerate(ATTENTION_SHAPES):
        e = normal(rng, T, B, S, scale=2.0)
        e[:, _padding(S, lengths).T] = 50.0 + normal(rng, T, int(_padding(S, lengths).sum()))   # garbage, large
        if k == 2:
            e += 900.0                                                        # scores near 900: exp overflows
        cases.append(Case(label(T=T, B=B, S=S, lengths=lengths) + (" scores near 900" if k == 2 else ""),
                          (e, numpy.array(lengths))))
    return cases


def _masked_scores(e, lengths, mistake):
    padded = _padding(e.shape[2], lengths).T[None]                           # (1, B, S)
    if mistake in ("padding_not_masked", "mask_after_softmax"):
        return e
    return numpy.where(padded, 0.0 if mistake == "masked_with_zero" else -numpy.inf, e)


def _textbook_masked_softmax(e, lengths, mistake=None):
    z = _masked_scores(e, lengths, mistake)
    axis = 0 if mistake == "softmax_over_targets" else -1
    shifted = z if mistake == "no_max_shift" else z - z.max(axis=axis, keepdims=True)
    p = numpy.exp(shifted)
    a = p / p.sum(axis=axis, keepdims=True)
    if mistake == "mask_after_softmax":
        a = numpy.where(_padding(e.shape[2], lengths).T[None], 0.0, a)
    return a, (e, lengths, a)


def _textbook_masked_softmax_backward(d_a, cache, mistake=None):
    e, lengths, a = cache
    if mistake == "weights_recomputed_without_mask":
        a = softmax(e, axis=-1)
    if mistake == "jacobian_diagonal_only":
        return {"e": a * d_a}
    total = (a * d_a).sum(axis=0 if mistake == "sum_over_targets" else -1, keepdims=True)
    return {"e": d_a - total if mistake == "missing_factor_a" else a * (d_a - total)}


masked_softmax_forward = forward_exercise(
    "masked_softmax_forward", topic=TOPIC, summary="softmax over the real source positions only",
    args=("e", "lengths"), outputs=("a",), make_cases=_scores_cases, package=A.masked_softmax_forward,
    doc="""
Attention weights from scores: a softmax over the source positions s < lengths[b] of each (t, b);
a padded position s >= lengths[b] gets weight exactly 0, whatever its score holds.

    a[t, b, s] = exp(e[t, b, s] - m) / sum_{r < L_b} exp(e[t, b, r] - m)   for s < L_b,   0 otherwise

with m the largest score over the real positions (the shift cancels, and exp cannot overflow).
Replace the padded scores by -inf before the softmax: exp(-inf) = 0.

Args:
    e: (T, B, S) scores; e[:, b, s] for s >= lengths[b] is padding with arbitrary values.
    lengths: (B,) ints in [1, S], the true length of each source.

Returns:
    a: (T, B, S); every a[t, b, :] sums to 1.
    cache: the tuple (e, lengths, a); masked_softmax_backward receives it.
""",
    mistakes=mistakes(
        _textbook_masked_softmax,
        ("padding_not_masked", "positions s >= lengths[b] are padding: give them no weight. Set their scores to -inf "
                               "before the softmax."),
        ("masked_with_zero", "a score of 0 still gets weight exp(0 - m) > 0: mask with -inf, not 0."),
        ("mask_after_softmax", "zeroing the padded weights after the softmax leaves rows that no longer sum to 1 "
                               "(the padding took its share of the denominator): mask the scores before."),
        ("softmax_over_targets", "normalise over the source positions, the last axis: each target step t spreads "
                                 "its attention over the source."),
        ("no_max_shift", "exp(900) overflows to inf (and inf / inf is NaN): subtract each row's maximum over the "
                         "real positions first; the shift cancels in the ratio."),
    ))

masked_softmax_backward = backward_exercise(
    "masked_softmax_backward", forward=masked_softmax_forward, summary="the softmax's Jacobian, padding included",
    grads=("e",), package_backward=A.masked_softmax_backward,
    doc="""
Gradient of the masked softmax (see masked_softmax_forward) with respect to the scores. For each
(t, b) the softmax's Jacobian gives

    d_e[t, b, s] = a[t, b, s] * (d_a[t, b, s] - sum_r a[t, b, r] * d_a[t, b, r])

Use the weights a from the cache: they are 0 at the padding, so the padded scores get exactly zero
gradient (they did not influence anything).

Args:
    d_a: (T, B, S) upstream gradient at the weights; do not modify it.
    cache: the tuple (e, lengths, a) returned by masked_softmax_forward.

Returns:
    dict with key "e": (T, B, S).
""",
    mistakes=mistakes(
        _textbook_masked_softmax_backward,
        ("jacobian_diagonal_only", "every weight depends on every score of its row (they share the denominator): "
                                   "subtract sum_r a_r d_a_r before multiplying by a."),
        ("missing_factor_a", "d_e = a * (d_a - sum_r a_r d_a_r): without the factor a the padding (a = 0) gets "
                             "gradient, and so does everything else, wrongly."),
        ("weights_recomputed_without_mask", "use the cached weights a (zero at the padding), not a softmax recomputed "
                                            "from e without the mask: the padded scores must get no gradient."),
        ("sum_over_targets", "the sum runs over the source positions of one (t, b): axis=-1, keepdims=True."),
    ))


# ----------------------------------------------------------------------------- dot-product attention

def _attention_cases(rng):
    cases = []
    for k, ((T, B, S, lengths), H) in enumerate(zip(ATTENTION_SHAPES, (5, 3, 4))):
        q, h = normal(rng, T, B, H), normal(rng, S, B, H)
        h[_padding(S, lengths)] = 4.0 + normal(rng, int(_padding(S, lengths).sum()), H)     # padding: garbage
        if k == 2:
            q *= 30.0                                             # large scores (|e| ~ 1000s): exp overflows
            h[~_padding(S, lengths)] *= 30.0
        cases.append(Case(label(T=T, B=B, S=S, H=H, lengths=lengths) + (" large scores" if k == 2 else ""),
                          (q, h, numpy.array(lengths))))
    return cases


def _scores(q, h, mistake):
    e = numpy.einsum("tbh,sbh->tbs", q, h)
    return e / numpy.sqrt(q.shape[2]) if mistake == "scaled_scores" else e


def _textbook_dot_attention(q, h, lengths, mistake=None):
    a, _ = _textbook_masked_softmax(_scores(q, h, mistake), lengths, mistake)
    c = numpy.einsum("tbs,sbh->tbh", a, h)
    return c, a, (q, h, lengths, c, a)


def _textbook_dot_attention_backward(d_c, d_a, cache, mistake=None):
    q, h, lengths, c, a = cache
    if mistake == "weights_recomputed_without_mask":
        a = softmax(_scores(q, h, None), axis=-1)
    d_a_total = numpy.einsum("tbh,sbh->tbs", d_c, h) + (0.0 if mistake == "upstream_d_a_ignored" else d_a)
    total = (a * d_a_total).sum(axis=-1, keepdims=True)
    d_e = a * d_a_total if mistake == "jacobian_diagonal_only" else a * (d_a_total - total)
    d_h_keys = numpy.einsum("tbs,tbh->sbh", d_e, q)
    d_h_values = numpy.einsum("tbs,tbh->sbh", a, d_c)
    d_h = {"keys_path_missing": d_h_values, "values_path_missing": d_h_keys}.get(mistake, d_h_keys + d_h_values)
    return {"q": numpy.einsum("tbs,sbh->tbh", d_e, h), "h": d_h}


dot_attention_forward = forward_exercise(
    "dot_attention_forward", topic=TOPIC, summary="Luong's dot-product attention over a padded source",
    args=("q", "h", "lengths"), outputs=("c", "a"), make_cases=_attention_cases,
    package=lambda q, h, lengths: A.attention_forward(q, h, lengths, score="dot"),
    doc="""
Dot-product attention (Luong et al. 2015): the decoder's outputs q attend to the encoder's outputs h,
which serve as both the keys and the values. For each target step t and example b:

    e[t, b, s] = q[t, b] . h[s, b]                                   scores       (T, B, S)
    a[t, b, :] = softmax of e[t, b, :] over s < lengths[b], 0 at the padding     (T, B, S)
    c[t, b]    = sum_s a[t, b, s] * h[s, b]                          context      (T, B, H)

(the masked softmax of masked_softmax_forward; no 1/sqrt(H) scaling: that is the Transformer's score).
numpy.einsum("tbh,sbh->tbs", q, h) computes e; or go batch-major and use batched matrix products.

Args:
    q: (T, B, H) queries.  h: (S, B, H) encoder outputs; h[s, b] for s >= lengths[b] is padding.
    lengths: (B,) ints in [1, S].

Returns:
    c: (T, B, H).  a: (T, B, S).
    cache: the tuple (q, h, lengths, c, a); dot_attention_backward receives it.
""",
    mistakes=mistakes(
        _textbook_dot_attention,
        ("padding_not_masked", "positions s >= lengths[b] are padding: their scores must be -inf before the softmax, "
                               "so they get weight 0 and add nothing to the context."),
        ("scaled_scores", "Luong's dot score is q . h, not scaled: dividing by sqrt(H) is the Transformer's scaled "
                          "dot-product attention."),
        ("mask_after_softmax", "zeroing the padded weights after the softmax leaves rows that no longer sum to 1: "
                               "mask the scores before the softmax."),
        ("softmax_over_targets", "normalise over the source positions (the last axis of e): each target step spreads "
                                 "its attention over the source."),
        ("no_max_shift", "large scores overflow exp: subtract each row's maximum over the real positions first."),
    ))

dot_attention_backward = backward_exercise(
    "dot_attention_backward", forward=dot_attention_forward, summary="gradients of dot-product attention",
    grads=("q", "h"), package_backward=A.attention_backward, upstream=("d_c", "d_a"),   # c: the context, no state
    doc="""
Gradients of dot-product attention (see dot_attention_forward), given upstream gradients at the
context c and at the weights a. Backwards through the three stages:

    d_a[t, b, s] += d_c[t, b] . h[s, b]                                 context -> weights
    d_e = a * (d_a - sum_s a * d_a)        (sum over s, per (t, b))     masked softmax
    d_q[t, b] = sum_s d_e[t, b, s] h[s, b]                              scores -> queries
    d_h[s, b] = sum_t d_e[t, b, s] q[t, b]  +  sum_t a[t, b, s] d_c[t, b]
                (h as the keys)                (h as the values)

Use the cached weights a (zero at the padding): the padded positions then get no gradient.

Args:
    d_c: (T, B, H), d_a: (T, B, S) upstream gradients; do not modify them.
    cache: the tuple (q, h, lengths, c, a) returned by dot_attention_forward.

Returns:
    dict with keys "q" (T, B, H) and "h" (S, B, H).
""",
    mistakes=mistakes(
        _textbook_dot_attention_backward,
        ("keys_path_missing", "h is used twice, as the keys (in the scores) and as the values (in the context): "
                              "d_h adds sum_t d_e[t, b, s] q[t, b] to the values' part."),
        ("values_path_missing", "h is used twice, as the keys and as the values: d_h adds sum_t a[t, b, s] d_c[t, b] "
                                "(the context's part) to the keys' part."),
        ("upstream_d_a_ignored", "the weights receive gradient from two places: d_a from upstream and d_c . h from "
                                 "the context; add both before the softmax's backward."),
        ("jacobian_diagonal_only", "through the softmax, d_e = a * (d_a - sum_s a d_a): the weights of a row share "
                                   "their denominator."),
        ("weights_recomputed_without_mask", "use the cached weights a (zero at the padding), not a softmax "
                                            "recomputed without the mask: padding must get no gradient."),
    ))

EXERCISES = [teacher_forcing_batch, beam_search_step, masked_softmax_forward, masked_softmax_backward,
             dot_attention_forward, dot_attention_backward]
