"""Exercises on training and generation: clipping by global norm and by value, the sampling
distribution (temperature, top-k), and the windows of truncated BPTT.

References: :func:`rnnscratch.optim.clip_grad_norm_` and :func:`~rnnscratch.optim.clip_grad_value_` (run on
copies held by stand-in parameters), :func:`rnnscratch.functional.sample_token` (its probability vector,
recorded by a stand-in generator) and :meth:`rnnscratch.train.bptt.TruncatedBPTT.windows`.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy

from .. import functional as F
from .. import optim
from ..train.bptt import TruncatedBPTT, chunk_steps
from ._build import FixedDraws, label, mistakes, normal
from .grader import Case, Exercise

TOPIC = "training"


# ----------------------------------------------------------------------------- clipping

def _gradient_list(rng, scale):
    return [normal(rng, 4, 3, scale=scale), normal(rng, 4, scale=scale), normal(rng, 2, 5, scale=scale)]


def _norm_cases(rng):
    return [Case("3 arrays, global norm about 9, max_norm=1", (_gradient_list(rng, 2.0), 1.0)),
            Case("3 arrays, global norm about 9, max_norm=5", (_gradient_list(rng, 2.0), 5.0)),
            Case("3 arrays, global norm about 2, max_norm=50 (no clipping)", (_gradient_list(rng, 0.5), 50.0))]


def _value_cases(rng):
    return [Case(f"3 arrays, clip_value={c}", (_gradient_list(rng, 2.0), c)) for c in (1.0, 0.5, 2.5)]


def _as_parameters(grads):
    """Stand-ins for Parameters, holding copies of the gradients, for the package's in-place clipping."""
    return [SimpleNamespace(grad=numpy.array(g, dtype=numpy.float64)) for g in grads]


def _reference_clip_norm(grads, max_norm):
    params = _as_parameters(grads)
    total = optim.clip_grad_norm_(params, max_norm)
    return [p.grad for p in params], total


def _reference_clip_value(grads, clip_value):
    params = _as_parameters(grads)
    optim.clip_grad_value_(params, clip_value)
    return [p.grad for p in params]


def _textbook_clip_norm(grads, max_norm, mistake=None):
    norms = [math.sqrt(float((g * g).sum())) for g in grads]
    if mistake == "sum_of_norms":
        total = sum(norms)
    elif mistake == "norm_without_sqrt":
        total = sum(n * n for n in norms)
    else:
        total = math.sqrt(sum(n * n for n in norms))
    if mistake == "per_parameter":
        return [g * min(1.0, max_norm / n) for g, n in zip(grads, norms)], total
    scale = max_norm / total if mistake == "rescales_small_gradients" else min(1.0, max_norm / total)
    if mistake == "clips_in_place":
        for g in grads:
            g *= scale
        return grads, total
    return [g * scale for g in grads], total * scale if mistake == "returns_norm_after_clipping" else total


def _textbook_clip_value(grads, clip_value, mistake=None):
    if mistake == "upper_side_only":
        return [numpy.minimum(g, clip_value) for g in grads]
    if mistake == "zeroes_large_entries":
        return [numpy.where(numpy.abs(g) > clip_value, 0.0, g) for g in grads]
    if mistake == "sign_lost":
        return [numpy.clip(numpy.abs(g), -clip_value, clip_value) for g in grads]
    if mistake == "clips_norm_instead":
        return [g * min(1.0, clip_value / numpy.linalg.norm(g)) for g in grads]
    return [numpy.clip(g, -clip_value, clip_value) for g in grads]


clip_grad_norm = Exercise(
    "clip_grad_norm", TOPIC, "clip all gradients together by their global norm", ("grads", "max_norm"),
    ("grads", "total_norm"),
    """
Gradient clipping by global norm (PyTorch's clip_grad_norm_, which min-char-rnn's successors use):

    total_norm = sqrt(sum over every array g in grads of sum(g ** 2))     (ONE norm for all of them)
    if total_norm > max_norm: every array is multiplied by max_norm / total_norm

(PyTorch divides by total_norm + 1e-6; either passes.)

Args:
    grads: a list of gradient arrays (different shapes); do not modify them.
    max_norm: a positive float.

Returns:
    grads: a new list of arrays (the clipped gradients).
    total_norm: the global norm before clipping (a float, for logging).
""",
    _norm_cases, _reference_clip_norm,
    mistakes(_textbook_clip_norm,
             ("per_parameter", "clip by the global norm of all gradients together: one scale for every array. Clipping "
                               "each array by its own norm changes the direction of the update."),
             ("sum_of_norms", "the global norm is sqrt(sum of all squared entries), not the sum of the arrays' norms."),
             ("norm_without_sqrt", "the norm is the square root of the sum of squares."),
             ("rescales_small_gradients", "clip only when the norm exceeds max_norm: smaller gradients are left as "
                                          "they are (scale = min(1, max_norm / norm))."),
             ("returns_norm_after_clipping", "return the norm before clipping: that is the number worth logging."),
             ("clips_in_place", "this exercise returns new arrays and leaves grads unchanged (`g * scale`, not "
                                "`g *= scale`).", "grads")),
    list_outputs=frozenset({"grads"}), tolerance=1e-5)

clip_grad_value = Exercise(
    "clip_grad_value", TOPIC, "clip every gradient entry into [-c, c]", ("grads", "clip_value"), ("grads",),
    """
Gradient clipping by value (min-char-rnn's np.clip): every entry of every array is clamped into
[-clip_value, clip_value].

Args:
    grads: a list of gradient arrays; do not modify them.  clip_value: a positive float.

Returns:
    grads: a new list of clipped arrays.
""",
    _value_cases, _reference_clip_value,
    mistakes(_textbook_clip_value,
             ("upper_side_only", "clamp both sides: entries below -clip_value become -clip_value."),
             ("zeroes_large_entries", "an entry beyond the bound is set to the bound (with its sign), not to 0."),
             ("sign_lost", "keep each entry's sign: clamp g itself, not |g|."),
             ("clips_norm_instead", "clipping by value clamps each entry separately; scaling by a norm is the other "
                                    "kind of clipping.")),
    list_outputs=frozenset({"grads"}))


# ----------------------------------------------------------------------------- sampling distribution

def _sampling_cases(rng):
    settings = [(1.0, None, 1.0), (0.5, 3, 1.0), (2.0, 5, 1.0), (0.7, 1, 1.0), (0.1, None, 100.0), (0.0, None, 1.0)]
    return [Case(label(V=8, temperature=t, top_k=k) + (" large logits" if s > 1 else ""),
                 (normal(rng, 8, scale=s), t, k)) for t, k, s in settings]


def _reference_sampling(logits, temperature=1.0, top_k=None):
    probe = FixedDraws()
    token = F.sample_token(logits, temperature=temperature, top_k=top_k, rng=probe)
    if probe.p is None:                       # temperature 0: greedy, no draw
        return numpy.eye(len(logits))[token]
    return probe.p


def _textbook_sampling(logits, temperature=1.0, top_k=None, mistake=None):
    z = numpy.asarray(logits, dtype=numpy.float64)
    full = z
    if top_k is not None:
        if mistake == "top_k_keeps_smallest":
            keep = z <= numpy.sort(z)[top_k - 1]
        elif mistake == "top_k_off_by_one":
            keep = z > numpy.sort(z)[-top_k]
        else:
            keep = z >= numpy.sort(z)[-top_k]
        z = numpy.where(keep, z, -numpy.inf)
    if temperature == 0 and mistake != "greedy_not_handled":
        return numpy.eye(len(z))[numpy.argmax(z)]
    if mistake == "temperature_multiplied":
        z = z * temperature
    else:
        z, full = z / temperature, full / temperature
    if mistake == "no_max_shift":
        e = numpy.exp(z)
        return e / e.sum()
    if mistake == "top_k_not_renormalized":
        return numpy.where(numpy.isfinite(z), F.softmax(full), 0.0)
    return F.softmax(z)


sampling_distribution = Exercise(
    "sampling_distribution", TOPIC, "the distribution to sample the next token from (temperature, top-k)",
    ("logits", "temperature", "top_k"), ("p",),
    """
The probabilities that generation samples the next token from (then: rng.choice(V, p=p)):

    keep only the top_k largest logits (when top_k is not None; ties at the cut-off are kept),
    giving the others probability 0, and
    p = softmax(kept logits / temperature)          (stable: shift by the maximum)

temperature < 1 sharpens, > 1 flattens; temperature == 0 means greedy: p is one-hot at the argmax.

Args:
    logits: (V,) floats.  temperature: a float >= 0.  top_k: an int in [1, V] or None.

Returns:
    p: (V,) probabilities that sum to 1.
""",
    _sampling_cases, _reference_sampling,
    mistakes(_textbook_sampling,
             ("temperature_multiplied", "divide the logits by the temperature: a low temperature must sharpen "
                                        "(logits / 0.5 doubles the gaps)."),
             ("top_k_not_renormalized", "after keeping the top k, normalise over the kept logits only (set the others "
                                        "to -inf before the softmax), so p still sums to 1."),
             ("top_k_keeps_smallest", "top-k keeps the k largest logits (np.sort is ascending: the cut-off is "
                                      "np.sort(z)[-k])."),
             ("top_k_off_by_one", "keep the logits >= the k-th largest (np.sort(z)[-k]); > keeps only k - 1."),
             ("no_max_shift", "logits / temperature can be large (100 / 0.1 = 1000) and exp overflows: subtract the "
                              "maximum first (or reuse your softmax)."),
             ("greedy_not_handled", "temperature 0 cannot divide the logits: it means greedy decoding, a one-hot p at "
                                    "the argmax.")),
    defaults={"temperature": 1.0, "top_k": None})


# ----------------------------------------------------------------------------- truncated BPTT windows

def _window_cases(rng):
    return [Case(label(T=T, k1=k1, k2=k2), (T, k1, k2)) for T, k1, k2 in [(10, 3, 3), (10, 2, 5), (7, 4, 6), (9, 3, 7)]]


def _reference_windows(T, k1, k2):
    return TruncatedBPTT(k1, k2).windows(T)


def _textbook_windows(T, k1, k2, mistake=None):
    if mistake == "k1_k2_swapped":
        k1, k2 = k2, k1
    stop = T - k1 + 1 if mistake == "last_partial_window_dropped" else T
    windows = []
    for loss_start in range(0, stop, k1):
        start = loss_start + k1 - k2
        if mistake != "start_not_clipped":
            start = max(0, start)
        end = loss_start + k1 if mistake == "end_not_clipped" else min(loss_start + k1, T)
        windows.append((start, start if mistake == "loss_from_window_start" else loss_start, end))
    return windows


truncated_bptt_windows = Exercise(
    "truncated_bptt_windows", TOPIC, "the (k1, k2) windows of truncated BPTT", ("T", "k1", "k2"), ("windows",),
    """
Truncated BPTT with the (k1, k2) schedule of Williams & Peng (1990): every k1 steps, update with
gradients that flow back k2 >= k1 steps. Window i covers the new steps [loss_start, end) with
loss_start = i * k1 and end = loss_start + k1 (at most T); its forward and backward start k2 - k1 steps
earlier, at start = loss_start + k1 - k2 (at least 0). Every step is in exactly one window's loss.

    T=10, k1=2, k2=5:  (0, 0, 2), (0, 2, 4), (1, 4, 6), (3, 6, 8), (5, 8, 10)

Args:
    T: sequence length.  k1: steps between updates.  k2: steps of backpropagation (k2 >= k1).

Returns:
    windows: a list of (start, loss_start, end) tuples, in order.
""",
    _window_cases, _reference_windows,
    mistakes(_textbook_windows,
             ("k1_k2_swapped", "k1 is the stride (a new window every k1 steps); k2 is how far back the gradient flows."),
             ("last_partial_window_dropped", "when T is not a multiple of k1, the last window is shorter; it must "
                                             "still be there, or the last steps are never trained on."),
             ("start_not_clipped", "the first windows cannot start before step 0: start = max(0, loss_start + k1 - k2)."),
             ("end_not_clipped", "the last window ends at T at most: end = min(loss_start + k1, T)."),
             ("loss_from_window_start", "the loss of a window covers only its k1 new steps [loss_start, end); the "
                                        "earlier steps were counted by the previous window.")))


# ----------------------------------------------------------------------------- truncated BPTT for classifiers

def _chunk_cases(rng):
    cases = [([5, 2, 4], 2), ([7, 1, 3, 7], 3), ([6, 3], 3), ([9, 2, 5, 6, 1], 2)]
    cases.append((list(rng.integers(1, 12, size=6)), 4))
    return [Case(label(B=len(L), k=k), (numpy.array(L), k)) for L, k in cases]


def _textbook_chunks(lengths, k, mistake=None):
    L = numpy.asarray(lengths)
    longest = L.min() if mistake == "chunks_of_the_shortest" else L.max()
    C = longest // k + 1 if mistake == "one_chunk_too_many" else -(-longest // k)
    start = numpy.arange(C)[:, None] * k
    if mistake == "absolute_lengths":
        return numpy.where(L > start, numpy.minimum(L, k), 0)
    steps = L - start
    if mistake != "not_clipped_at_k":
        steps = numpy.minimum(steps, k)
    if mistake != "not_clipped_at_0":
        steps = numpy.maximum(steps, 0)
    return steps


chunk_steps_exercise = Exercise(
    "chunk_steps", TOPIC, "how many steps each sequence has in each chunk (truncated BPTT for a classifier)",
    ("lengths", "k"), ("steps",),
    """
Truncated BPTT for a many-to-one model cuts a padded batch into chunks of k steps; chunk c covers the
steps [c k, c k + k). Sequence b (of true length L_b) has

    steps[c, b] = min(max(L_b - c k, 0), k)

steps in chunk c: k in full chunks, fewer in its last one, 0 once it has ended (then it sits out the
chunk's update). There are C = ceil(max_b L_b / k) chunks: the last one is the longest sequence's.

    lengths = [5, 2, 4], k = 2:  steps = [[2, 2, 2], [2, 0, 2], [1, 0, 0]]

Args:
    lengths: (B,) ints >= 1.  k: the chunk length, an int >= 1.

Returns:
    steps: (C, B) ints.
""",
    _chunk_cases, chunk_steps,
    mistakes(_textbook_chunks,
             ("not_clipped_at_k", "a chunk holds at most k steps: steps = min(L_b - c k, k) before clipping at 0."),
             ("not_clipped_at_0", "a sequence that has ended before chunk c has 0 steps there, not a negative count: "
                                  "clip at 0."),
             ("absolute_lengths", "count the steps left after the chunk's start, L_b - c k, not the whole length L_b."),
             ("chunks_of_the_shortest", "the chunks go on until the longest sequence has ended: C = ceil(max L / k)."),
             ("one_chunk_too_many", "C = ceil(max L / k): when k divides the longest length there is no extra, empty "
                                    "chunk (use -(-L // k), not L // k + 1).")))

EXERCISES = [clip_grad_norm, clip_grad_value, sampling_distribution, truncated_bptt_windows, chunk_steps_exercise]
