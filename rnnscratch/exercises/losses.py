"""Exercises on the output side: softmax, log-softmax, the temporal softmax loss with padding, perplexity.

References: :func:`rnnscratch.functional.softmax`, :func:`~rnnscratch.functional.log_softmax`,
:func:`~rnnscratch.functional.softmax_cross_entropy` (on the flattened steps); perplexity is ``exp`` of the
mean loss in nats and bits per character its value in base 2 (no package function computes them alone).
"""
from __future__ import annotations

import math

import numpy

from .. import functional as F
from .. import gradcheck
from ._build import label, mistakes, normal
from .grader import Case, Exercise

TOPIC = "losses"


# ----------------------------------------------------------------------------- softmax, log-softmax

def _softmax_cases(rng):
    spread = normal(rng, 2, 5)
    spread[0] += 800.0                       # rows of very different scales: one shift per row
    spread[1] -= 800.0
    wide = normal(rng, 2, 4)
    wide[:, 1] -= 900.0                      # an entry whose probability underflows to 0
    return [Case(label(shape=(3, 5)), (normal(rng, 3, 5),)),
            Case(label(shape=(4, 3, 6)), (normal(rng, 4, 3, 6, scale=3.0),)),
            Case(label(shape=(2, 4)) + " logits near 1000", (1000.0 + normal(rng, 2, 4),)),
            Case(label(shape=(2, 5)) + " rows near +800 and -800", (spread,)),
            Case(label(shape=(2, 4)) + " one logit 900 below the others", (wide,))]


def _exponentials(z, mistake):
    if mistake == "no_max_shift":
        return z, numpy.exp(z)
    if mistake == "global_max_shift":
        shifted = z - z.max()
    elif mistake == "shift_in_place":
        z -= z.max(axis=-1, keepdims=True)
        shifted = z
    else:
        shifted = z - z.max(axis=-1, keepdims=True)
    return shifted, numpy.exp(shifted)


def _textbook_softmax(z, mistake=None):
    _, e = _exponentials(z, mistake)
    return e / e.sum(axis=0 if mistake == "wrong_axis" else -1, keepdims=True)


def _textbook_log_softmax(z, mistake=None):
    if mistake == "log_of_softmax":
        return numpy.log(F.softmax(z))
    shifted, e = _exponentials(z, mistake)
    log_sum = numpy.log(e.sum(axis=0 if mistake == "wrong_axis" else -1, keepdims=True))
    return (z if mistake == "shift_not_in_output" else shifted) - log_sum


NO_SHIFT = ("exp(1000) overflows to inf (and inf / inf is NaN): subtract each row's maximum before the exponential "
            "(z - z.max(axis=-1, keepdims=True)); the shift cancels in the ratio.")

softmax = Exercise(
    "softmax", TOPIC, "a softmax that cannot overflow", ("z",), ("p",),
    """
Softmax over the last axis, stable for logits of any size:

    p = exp(z - m) / sum(exp(z - m)),   m = the maximum of z along the last axis (keepdims=True)

Args:
    z: array of logits, any shape (..., C); do not modify it.

Returns:
    p: like z; every row along the last axis is positive and sums to 1.
""",
    _softmax_cases, lambda z: F.softmax(z),
    mistakes(_textbook_softmax,
             ("no_max_shift", NO_SHIFT),
             ("global_max_shift", "subtract each row's own maximum (axis=-1, keepdims=True), not the maximum of the "
                                  "whole array: a row far below it underflows to 0 / 0."),
             ("wrong_axis", "normalise along the last axis (the classes): sum(axis=-1, keepdims=True)."),
             ("shift_in_place", "`z -= z.max(...)` changes the caller's logits; write z - z.max(...) instead.", "z")))

log_softmax = Exercise(
    "log_softmax", TOPIC, "log-softmax without log(0)", ("z",), ("log_p",),
    """
Log-softmax over the last axis, finite for logits of any size:

    log_p = (z - m) - log(sum(exp(z - m))),   m = the maximum of z along the last axis (keepdims=True)

Args:
    z: array of logits, any shape (..., C); do not modify it.

Returns:
    log_p: like z; exp(log_p) sums to 1 along the last axis.
""",
    _softmax_cases, lambda z: F.log_softmax(z),
    mistakes(_textbook_log_softmax,
             ("log_of_softmax", "log(softmax(z)) is -inf where the probability underflows to 0 (a logit 900 below the "
                                "others): compute (z - m) - log(sum(exp(z - m))) directly."),
             ("no_max_shift", NO_SHIFT),
             ("shift_not_in_output", "subtract the maximum in both places: log_p = (z - m) - log(sum(exp(z - m))); "
                                     "the m inside the log must be matched outside."),
             ("wrong_axis", "normalise along the last axis (the classes): sum(axis=-1, keepdims=True).")))


# ----------------------------------------------------------------------------- temporal softmax loss

def _loss_cases(rng):
    cases = []
    for (T, B, V), scale, ignore in [((4, 3, 6), 1.0, -100), ((3, 5, 7), 2.0, -100), ((5, 2, 6), 1.0, 0),
                                     ((3, 3, 5), 400.0, -100)]:
        logits = normal(rng, T, B, V, scale=scale)
        targets = rng.integers(1 if ignore == 0 else 0, V, size=(T, B))
        lengths = rng.integers(1, T + 1, size=B)
        lengths[0] = T
        lengths[-1] = min(lengths[-1], T - 1)
        targets[numpy.arange(T)[:, None] >= lengths[None, :]] = ignore      # padding at the end
        case = Case(label(T=T, B=B, V=V, ignore_index=ignore) + (" large logits" if scale > 10 else ""),
                    (logits, targets, ignore))
        case.numeric = {"d_logits": gradcheck.numerical_gradient(lambda: _reference_loss(*case.args)[0], logits)}
        case.numeric_floor = gradcheck.resolution_floor(_reference_loss(*case.args)[0], gradcheck.DEFAULT_EPS)
        cases.append(case)
    return cases


def _reference_loss(logits, targets, ignore_index=F.IGNORE_INDEX):
    V = logits.shape[-1]
    loss, d = F.softmax_cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=ignore_index)
    return loss, d.reshape(logits.shape)


def _textbook_loss(logits, targets, ignore_index=F.IGNORE_INDEX, mistake=None):
    T, B, V = logits.shape
    z, y = logits.reshape(-1, V), targets.reshape(-1)
    if mistake == "ignore_index_forgotten":
        counted = numpy.ones(y.shape, dtype=bool)
    else:
        counted = y != (F.IGNORE_INDEX if mistake == "ignore_index_hard_coded" else ignore_index)
    log_p = _textbook_log_softmax(z, mistake="no_max_shift" if mistake == "no_max_shift" else None)
    rows, cols = numpy.nonzero(counted)[0], y[counted]
    count = {"mean_over_all_positions": T * B, "mean_over_batch": B}.get(mistake, counted.sum())
    loss = -log_p[rows, cols].sum() / count
    p = numpy.exp(log_p)
    d = p
    d[rows, cols] -= 1
    if mistake != "ignored_rows_get_gradient":
        d[~counted] = 0
    if mistake != "gradient_not_averaged":
        d /= count
    return float(loss), d.reshape(T, B, V)


temporal_softmax_loss = Exercise(
    "temporal_softmax_loss", TOPIC, "cross-entropy at every step, padding ignored", ("logits", "targets", "ignore_index"),
    ("loss", "d_logits"),
    """
Softmax cross-entropy at every time step of a padded batch, averaged over the counted targets
(PyTorch's reduction="mean"): a target equal to ignore_index (padding) adds nothing to the loss and
gets a zero gradient.

    log_p = log_softmax(logits)            (stable: shift by the row maximum)
    loss  = -(1 / N) * sum of log_p[t, b, targets[t, b]] over counted (t, b),   N = number counted

Args:
    logits: (T, B, V) scores.  targets: (T, B) ints in [0, V), or ignore_index.
    ignore_index: the target value that is not counted (PyTorch's default -100; 0 when id 0 is padding).

Returns:
    loss: a float (nats per counted target).  d_logits: (T, B, V), the gradient of loss with respect
    to logits.
""",
    _loss_cases, _reference_loss,
    mistakes(_textbook_loss,
             ("ignore_index_forgotten", "targets equal to ignore_index are padding: leave them out of the loss and "
                                        "give their rows a zero gradient (and do not use -100 as a column index)."),
             ("ignore_index_hard_coded", "use the ignore_index argument, not the constant -100: a vocabulary may pad "
                                         "with id 0."),
             ("mean_over_all_positions", "average over the counted targets only, not over all T * B positions "
                                         "(padding would dilute the loss)."),
             ("mean_over_batch", "average over the counted targets (PyTorch's mean), not over the batch size B."),
             ("ignored_rows_get_gradient", "padded positions contributed nothing to the loss, so their rows of "
                                           "d_logits are exactly 0."),
             ("gradient_not_averaged", "the loss divides by the number of counted targets, so the gradient must "
                                       "be divided by it too."),
             ("no_max_shift", NO_SHIFT)),
    defaults={"ignore_index": F.IGNORE_INDEX})


# ----------------------------------------------------------------------------- perplexity

def _perplexity_cases(rng):
    return [Case(f"mean loss {loss:.3g} nats", (loss,)) for loss in (1.2, math.log(100.0), 0.05 + rng.random())]


def _reference_perplexity(mean_loss):
    return math.exp(mean_loss), mean_loss / math.log(2.0)


def _textbook_perplexity(mean_loss, mistake=None):
    perplexity = {"base_2_perplexity": 2.0 ** mean_loss,
                  "negative_exponent": math.exp(-mean_loss)}.get(mistake, math.exp(mean_loss))
    bits = {"bits_times_ln2": mean_loss * math.log(2.0),
            "bits_via_log10": mean_loss / math.log(10.0)}.get(mistake, mean_loss / math.log(2.0))
    return perplexity, bits


perplexity = Exercise(
    "perplexity", TOPIC, "perplexity and bits per character from a mean loss", ("mean_loss",),
    ("perplexity", "bits_per_char"),
    """
From a mean cross-entropy in nats per token (what temporal_softmax_loss returns):

    perplexity    = e ** mean_loss            (the effective number of equally likely choices)
    bits_per_char = mean_loss / ln(2)         (the same loss in base 2; for a character model)

Args:
    mean_loss: a float, nats per token.

Returns:
    perplexity, bits_per_char: two floats.
""",
    _perplexity_cases, _reference_perplexity,
    mistakes(_textbook_perplexity,
             ("base_2_perplexity", "the loss is in nats (natural log), so perplexity is e ** loss; 2 ** loss is for a "
                                   "loss in bits."),
             ("negative_exponent", "perplexity is e ** (+mean_loss): a loss of 0 gives 1, and it grows with the loss."),
             ("bits_times_ln2", "nats to bits divides by ln 2 (log2(x) = ln(x) / ln 2): bits = nats / ln 2."),
             ("bits_via_log10", "bits are base-2 logarithms: divide by ln 2, not ln 10.")))

EXERCISES = [softmax, log_softmax, temporal_softmax_loss, perplexity]
