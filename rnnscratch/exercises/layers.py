"""Exercises on the layers around a recurrent cell: temporal affine, embedding, inverted dropout, pooling
over the valid steps of a padded batch.

References: :func:`rnnscratch.functional.linear_forward`, ``embedding_*``, ``dropout_*`` (with
:func:`~rnnscratch.functional.dropout_mask` fed the case's uniform draws) and ``temporal_pool_*``.
Common mistakes: the ``_textbook_*`` functions with one named thing done wrong.
"""
from __future__ import annotations

from functools import partial

import numpy

from .. import functional as F
from ._build import FixedDraws, backward_exercise, forward_exercise, label, mistakes, normal
from .grader import Case

TOPIC = "layers"


# ----------------------------------------------------------------------------- temporal affine

def _affine_cases(rng):
    return [Case(label(T=T, B=B, D=D, M=M), (normal(rng, T, B, D), normal(rng, M, D), normal(rng, M)))
            for T, B, D, M in [(4, 3, 5, 2), (3, 2, 4, 6), (5, 4, 3, 7)]]


def _textbook_affine(x, W, b, mistake=None):
    T, B, D = x.shape
    rows = x.transpose(1, 0, 2).reshape(T * B, D) if mistake == "time_batch_scrambled" else x.reshape(T * B, D)
    out = rows @ (W if mistake == "W_not_transposed" else W.T)
    if mistake != "missing_bias":
        out = out + b
    out = out.reshape(T, B, -1)
    return out, (x, W, b, out)


def _textbook_affine_backward(d_out, cache, mistake=None):
    x, W, b, _ = cache
    T, B, D = x.shape
    rows, d_rows = x.reshape(T * B, D), d_out.reshape(T * B, -1)
    if mistake == "dW_last_step_only":
        dW = d_out[-1].T @ x[-1]
    else:
        dW = rows.T @ d_rows if mistake == "dW_transposed" else d_rows.T @ rows
    return {"x": d_out @ (W.T if mistake == "dx_W_transposed" else W), "W": dW,
            "b": d_out.sum(axis=1) if mistake == "db_not_summed_over_time" else d_rows.sum(axis=0)}


temporal_affine_forward = forward_exercise(
    "temporal_affine_forward", topic=TOPIC, summary="the same affine map at every time step",
    args=("x", "W", "b"), outputs=("out",), make_cases=_affine_cases, package=F.linear_forward,
    doc="""
An affine map applied at every time step (and every batch row): out[t, n] = x[t, n] @ W.T + b.
(Reshape x to (T*B, D), one matrix product, reshape back.)

Args:
    x: (T, B, D) inputs.  W: (M, D) -- PyTorch's Linear layout (out, in).  b: (M,).

Returns:
    out: (T, B, M).
    cache: the tuple (x, W, b, out); temporal_affine_backward receives it.
""",
    mistakes=mistakes(
        _textbook_affine,
        ("missing_bias", "the bias b is added at every step and every batch row."),
        ("time_batch_scrambled", "x is (T, B, D): reshape it to (T*B, D) directly and the result back to (T, B, M); "
                                 "transposing to (B, T, D) on one side only mixes up steps and sequences."),
        ("W_not_transposed", "W is stored (out, in) = (M, D), PyTorch's layout: the product is x @ W.T."),
    ))

temporal_affine_backward = backward_exercise(
    "temporal_affine_backward", forward=temporal_affine_forward, summary="gradients of the temporal affine map",
    grads=("x", "W", "b"), package_backward=F.linear_backward,
    doc="""
Gradients of temporal_affine_forward. W and b are used at every time step and every batch row.

Args:
    d_out: (T, B, M) upstream gradient.
    cache: the tuple (x, W, b, out) returned by temporal_affine_forward.

Returns:
    dict with keys "x" (T, B, D), "W" (M, D), "b" (M,).
""",
    mistakes=mistakes(
        _textbook_affine_backward,
        ("dW_transposed", "a gradient has the shape of its parameter: W is (M, D), so dW = d_rows.T @ x_rows."),
        ("dW_last_step_only", "W is used at every time step: dW sums the contributions of all T steps, "
                              "not only the last."),
        ("db_not_summed_over_time", "b is shared by all steps and rows: db sums d_out over both time and batch, "
                                    "giving shape (M,)."),
        ("dx_W_transposed", "the forward multiplies by W.T, so the gradient reaching x is d_out @ W "
                            "((T, B, M) times (M, D))."),
    ))


# ----------------------------------------------------------------------------- embedding

V, D_EMBED = 6, 4


def _embedding_cases(rng):
    cases = [Case(label(T=T, B=B, V=V, D=D_EMBED), (rng.integers(0, V, size=(T, B)), normal(rng, V, D_EMBED)))
             for T, B in [(4, 3), (3, 5), (2, 6)]]
    ids = rng.integers(0, V, size=(3, 2))
    ids[1, 0] = -1
    cases.append(Case(label(T=3, B=2, V=V, D=D_EMBED) + " (an id of -1)", (ids, normal(rng, V, D_EMBED)),
                      raises=IndexError))
    return cases


def _textbook_embedding(ids, W, mistake=None):
    if mistake != "negative_ids_wrap" and (ids < 0).any():
        raise IndexError("token ids must be in [0, V)")
    if mistake == "batch_first":
        out = W[ids.T]
    elif mistake == "flat_not_reshaped":
        out = W[ids.reshape(-1)]
    else:
        out = W[ids]
    return out, (ids, W, out)


def _textbook_embedding_backward(d_out, cache, mistake=None):
    ids, W, _ = cache
    dW = numpy.zeros_like(W)
    if mistake == "repeated_ids_overwrite":
        dW[ids] += d_out                         # buffered: a repeated id keeps one of its updates
    else:
        numpy.add.at(dW, ids, d_out)
    if mistake == "mean_over_occurrences":
        dW /= numpy.maximum(numpy.bincount(ids.reshape(-1), minlength=W.shape[0]), 1)[:, None]
    return {"W": dW.T.copy() if mistake == "dW_transposed" else dW}


embedding_forward = forward_exercise(
    "embedding_forward", topic=TOPIC, summary="look up one row of the table per token id",
    args=("ids", "W"), outputs=("out",), make_cases=_embedding_cases, package=F.embedding_forward,
    doc="""
Embedding lookup: out[t, n] = W[ids[t, n]], one row of the table per token.

Args:
    ids: (T, B) integer token ids.  W: (V, D) the table, one row per token.

Returns:
    out: (T, B, D).
    cache: the tuple (ids, W, out); embedding_backward receives it.

Raise IndexError for an id outside [0, V). NumPy raises for ids >= V by itself, but a negative id
silently picks a row from the end of the table (and CuPy wraps every out-of-range index).
""",
    mistakes=mistakes(
        _textbook_embedding,
        ("negative_ids_wrap", "an id of -1 must raise IndexError: NumPy reads W[-1] as the last row, so a "
                              "padding value of -1 would silently become a real token. Check ids >= 0 yourself."),
        ("batch_first", "ids are (T, B), time first, and out is (T, B, D): index with ids as they are."),
        ("flat_not_reshaped", "after a lookup on the flattened ids, reshape the rows back to (T, B, D)."),
    ))

embedding_backward = backward_exercise(
    "embedding_backward", forward=embedding_forward, summary="the embedding gradient, repeated ids accumulating",
    grads=("W",), package_backward=F.embedding_backward,
    doc="""
Gradient of embedding_forward with respect to the table W. A token that appears several times in
the batch receives the contribution of every occurrence.

Args:
    d_out: (T, B, D) upstream gradient.
    cache: the tuple (ids, W, out) returned by embedding_forward.

Returns:
    dict with key "W" (V, D) (ids are integers: no gradient).
""",
    mistakes=mistakes(
        _textbook_embedding_backward,
        ("repeated_ids_overwrite", "dW[ids] += d_out does not accumulate repeated ids: NumPy computes every update "
                                   "from the old values and the last write wins. Use np.add.at(dW, ids, d_out)."),
        ("mean_over_occurrences", "each occurrence of a token adds its gradient: a sum, not a mean over the "
                                  "occurrences."),
        ("dW_transposed", "a gradient has the shape of its parameter: dW is (V, D) like W."),
    ))


# ----------------------------------------------------------------------------- inverted dropout

def _dropout_cases(rng):
    return [Case(label(shape=shape, p=p), (normal(rng, *shape), p, rng.random(shape)))
            for shape, p in [((4, 3, 5), 0.3), ((6, 2), 0.5), ((3, 4), 0.0)]]


def _package_dropout(x, p, u):
    return F.dropout_forward(x, p, mask=F.dropout_mask(x.shape, p, FixedDraws(u), x.dtype))


def _dropout_mask(p, u, mistake):
    keep = (u < p if mistake == "keeps_with_probability_p" else u >= p).astype(numpy.float64)
    if mistake == "not_inverted":
        return keep
    return keep / numpy.float64(p if mistake == "scaled_by_p" else 1 - p)


def _textbook_dropout(x, p, u, mistake=None):
    out = x * _dropout_mask(p, u, mistake)
    return out, (x, p, u, out)


def _textbook_dropout_backward(d_out, cache, mistake=None):
    _, p, u, _ = cache
    mask = _dropout_mask(p, u, mistake)
    if mistake == "mutates_upstream":
        d_out *= mask
        return {"x": d_out}
    return {"x": d_out * mask}


dropout_forward = forward_exercise(
    "dropout_forward", topic=TOPIC, summary="inverted dropout with given uniform draws",
    args=("x", "p", "u"), outputs=("out",), make_cases=_dropout_cases, package=_package_dropout,
    doc="""
Inverted dropout in training mode: drop each entry with probability p and scale the kept ones by
1 / (1 - p), so that the expected output equals x (and evaluation needs no rescaling).

The random draws are given, so the result is deterministic: entry k is kept when u[k] >= p.

Args:
    x: array of any shape.  p: drop probability in [0, 1).  u: uniform draws in [0, 1), shaped like x.

Returns:
    out: like x.
    cache: the tuple (x, p, u, out); dropout_backward receives it.
""",
    mistakes=mistakes(
        _textbook_dropout,
        ("not_inverted", "inverted dropout scales the kept entries by 1 / (1 - p) during training, so the expected "
                         "output equals x and evaluation uses the network unchanged."),
        ("scaled_by_p", "the kept fraction is 1 - p, so the scale is 1 / (1 - p), not 1 / p."),
        ("keeps_with_probability_p", "p is the probability of dropping: keep an entry when u >= p "
                                     "(probability 1 - p)."),
    ))

dropout_backward = backward_exercise(
    "dropout_backward", forward=dropout_forward, summary="gradient of inverted dropout",
    grads=("x",), package_backward=F.dropout_backward,
    doc="""
Gradient of dropout_forward: the same mask, scale included, multiplies the upstream gradient.

Args:
    d_out: upstream gradient, shaped like x; do not modify it.
    cache: the tuple (x, p, u, out) returned by dropout_forward.

Returns:
    dict with key "x".
""",
    mistakes=mistakes(
        _textbook_dropout_backward,
        ("not_inverted", "the forward multiplied by keep / (1 - p); the backward multiplies by the same, scale "
                         "included."),
        ("scaled_by_p", "the scale is 1 / (1 - p), as in the forward, not 1 / p."),
        ("keeps_with_probability_p", "an entry was kept when u >= p: only those pass the gradient."),
        ("mutates_upstream", "d_out is the caller's array: multiplying it in place (*=) changes it. Return a new product.",
         "d_out"),
    ))


# ----------------------------------------------------------------------------- pooling over valid steps

POOL_CASES = [((5, 3, 4), [5, 2, 3]), ((4, 4, 2), [1, 4, 2, 3]), ((3, 2, 3), [3, 3])]


def _pool_cases(rng, negative=False):
    """Padded steps hold large arbitrary values: any use of them shows. With ``negative``, every valid
    value of one sequence is below zero (a zero-filled padding would then win the max)."""
    cases = []
    for (T, B, Fe), lengths in POOL_CASES:
        h = normal(rng, T, B, Fe)
        valid = numpy.arange(T)[:, None] < numpy.array(lengths)[None, :]
        h[~valid] = 3 + numpy.abs(h[~valid])
        if negative:
            h[:, 0][valid[:, 0]] = -1 - numpy.abs(h[:, 0][valid[:, 0]])
        cases.append(Case(label(T=T, B=B, F=Fe, lengths=lengths), (h, numpy.array(lengths))))
    return cases


def _valid(h, lengths, mistake):
    T = h.shape[0]
    if mistake == "padding_included":
        return numpy.ones((T, len(lengths), 1), dtype=bool)
    last = lengths if mistake == "off_by_one_length" else lengths - 1
    return (numpy.arange(T)[:, None] <= last[None, :])[:, :, None]


def _textbook_mean_pool(h, lengths, mistake=None):
    total = numpy.where(_valid(h, lengths, mistake), h, 0).sum(axis=0)
    pooled = total / (h.shape[0] if mistake == "divides_by_T" else lengths[:, None])
    return pooled, (h, lengths, pooled)


def _textbook_mean_pool_backward(d_p, cache, mistake=None):
    h, lengths, _ = cache
    valid = _valid(h, lengths, "padding_included" if mistake == "padding_gets_gradient" else mistake)
    count = 1 if mistake == "not_divided_by_length" else h.shape[0] if mistake == "divides_by_T" else lengths[:, None]
    return {"h": numpy.where(valid, (d_p / count)[None], 0.0)}


def _textbook_max_pool(h, lengths, mistake=None):
    valid = _valid(h, lengths, mistake)
    pooled = numpy.where(valid, h, 0.0 if mistake == "padding_zero_fill" else -numpy.inf).max(axis=0)
    return pooled, (h, lengths, pooled)


def _textbook_max_pool_backward(d_p, cache, mistake=None):
    h, lengths, _ = cache
    valid = _valid(h, lengths, mistake)
    if mistake == "spread_evenly":
        return {"h": numpy.where(valid, (d_p / lengths[:, None])[None], 0.0)}
    if mistake == "every_valid_step":
        return {"h": numpy.where(valid, d_p[None], 0.0)}
    winner = numpy.where(valid, h, 0.0 if mistake == "padding_zero_fill" else -numpy.inf).argmax(axis=0)
    dh = numpy.zeros_like(h)
    numpy.put_along_axis(dh, winner[None], d_p[None], axis=0)
    return {"h": dh}


MEAN_POOL, MAX_POOL = (partial(F.temporal_pool_forward, mode=mode) for mode in ("mean", "max"))
POOL_ARGS = """
Args:
    h: (T, B, F) outputs of a padded batch; h[t, b] for t >= lengths[b] is padding with arbitrary values.
    lengths: (B,) ints in [1, T], the true length of each sequence.
"""

mean_pool_forward = forward_exercise(
    "mean_pool_forward", topic=TOPIC, summary="mean over the valid steps of a padded batch",
    args=("h", "lengths"), outputs=("p",), make_cases=_pool_cases, package=MEAN_POOL,
    doc="""
Mean over time of each sequence's valid steps only: p[b] = (1 / L_b) * sum over t < L_b of h[t, b].
""" + POOL_ARGS + """
Returns:
    p: (B, F).
    cache: the tuple (h, lengths, p); mean_pool_backward receives it.
""",
    mistakes=mistakes(
        _textbook_mean_pool,
        ("padding_included", "padded steps hold arbitrary values: sum only the steps t < lengths[b] "
                             "(build a (T, B, 1) mask from np.arange(T) and lengths)."),
        ("divides_by_T", "divide each sequence's sum by its own length, not by T."),
        ("off_by_one_length", "a sequence of length L has the valid steps 0 .. L-1: the mask is t < L, not t <= L."),
    ))

mean_pool_backward = backward_exercise(
    "mean_pool_backward", forward=mean_pool_forward, summary="gradient of the masked mean",
    grads=("h",), package_backward=F.temporal_pool_backward,
    doc="""
Gradient of mean_pool_forward with respect to h (padded steps included: what do they receive?).

Args:
    d_p: (B, F) upstream gradient.
    cache: the tuple (h, lengths, p) returned by mean_pool_forward.

Returns:
    dict with key "h" (T, B, F).
""",
    mistakes=mistakes(
        _textbook_mean_pool_backward,
        ("padding_gets_gradient", "padded steps did not enter the mean: their gradient is exactly 0."),
        ("not_divided_by_length", "each valid step entered the mean with weight 1 / L_b: multiply the gradient "
                                  "by the same weight."),
        ("divides_by_T", "the mean divided by L_b, the sequence's length, so the gradient does too (not T)."),
        ("off_by_one_length", "the valid steps are t < L_b: the mask is t < L, not t <= L."),
    ))

max_pool_forward = forward_exercise(
    "max_pool_forward", topic=TOPIC, summary="max over the valid steps of a padded batch",
    args=("h", "lengths"), outputs=("p",), make_cases=lambda rng: _pool_cases(rng, negative=True),
    package=MAX_POOL,
    doc="""
Max over time of each sequence's valid steps only, feature by feature: p[b, f] = max over t < L_b of h[t, b, f].
Padding must never win, even when every valid value is negative.
""" + POOL_ARGS + """
Returns:
    p: (B, F).
    cache: the tuple (h, lengths, p); max_pool_backward receives it.
""",
    mistakes=mistakes(
        _textbook_max_pool,
        ("padding_included", "padded steps hold arbitrary values that can win the max: mask them first."),
        ("padding_zero_fill", "filling padded steps with 0 lets the padding win when every valid value is negative: "
                              "fill them with -inf."),
        ("off_by_one_length", "the valid steps are t < L_b: the mask is t < L, not t <= L."),
    ))

max_pool_backward = backward_exercise(
    "max_pool_backward", forward=max_pool_forward, summary="gradient of the masked max",
    grads=("h",), package_backward=F.temporal_pool_backward,
    doc="""
Gradient of max_pool_forward with respect to h: which entries of h did each p[b, f] depend on?

Args:
    d_p: (B, F) upstream gradient.
    cache: the tuple (h, lengths, p) returned by max_pool_forward.

Returns:
    dict with key "h" (T, B, F).
""",
    mistakes=mistakes(
        _textbook_max_pool_backward,
        ("padding_included", "the winner is the argmax over the valid steps only: mask padding with -inf before "
                             "taking it."),
        ("spread_evenly", "a max passes its gradient to the one entry that won, not evenly to every step "
                          "(that is the mean's backward)."),
        ("padding_zero_fill", "filling padded steps with 0 lets padding win when every valid value is negative: "
                              "fill them with -inf before the argmax."),
        ("every_valid_step", "only the winning step of each (b, f) receives d_p[b, f]; the others get 0."),
    ))

EXERCISES = [temporal_affine_forward, temporal_affine_backward, embedding_forward, embedding_backward,
             dropout_forward, dropout_backward, mean_pool_forward, mean_pool_backward,
             max_pool_forward, max_pool_backward]
