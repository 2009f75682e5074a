"""Gradient-check every hand-written backward pass in the package, on fresh random float64 inputs.

This is what ``rnnscratch gradcheck`` runs: one row per function with its worst relative error.
"""
from __future__ import annotations

from functools import partial

import numpy

from . import functional as F
from .gradcheck import DEFAULT_TOLERANCE, check_function, check_gradients


def recurrent_inputs(rng, num_gates, T, B, I, H, cell_state=False, scale=0.5):
    """Random float64 inputs for a sequence forward, keyed by its argument names: x, h0 (, c0), W_ih,
    W_hh, b_ih, b_hh. Weights ~ N(0, scale^2), small biases: gates neither dead nor saturated."""
    inputs = {
        "x": rng.standard_normal((T, B, I)),
        "h0": rng.standard_normal((B, H)) * 0.5,
        "W_ih": rng.standard_normal((num_gates * H, I)) * scale,
        "W_hh": rng.standard_normal((num_gates * H, H)) * scale,
        "b_ih": rng.standard_normal(num_gates * H) * 0.1,
        "b_hh": rng.standard_normal(num_gates * H) * 0.1,
    }
    if cell_state:
        inputs["c0"] = rng.standard_normal((B, H)) * 0.5
    return inputs


def run_all(seed=0, T=6, B=3, I=4, H=5):
    """Return ``{check name: GradcheckReport}`` for every backward pass, with variable lengths for
    the recurrent cells (lengths ``T, 1, ...``) so the padding path is proven too."""
    rng = numpy.random.default_rng(seed)
    lengths = numpy.array([T, 1] + [max(1, T - k) for k in range(2, B)])[:B]   # full, length 1, ...
    reports = {}
    for name, forward, backward, gates, has_c in [
        ("rnn_tanh", partial(F.rnn_forward, nonlinearity="tanh"), F.rnn_backward, 1, False),
        ("rnn_relu", partial(F.rnn_forward, nonlinearity="relu"), F.rnn_backward, 1, False),
        ("lstm", F.lstm_forward, F.lstm_backward, 4, True),
        ("gru", F.gru_forward, F.gru_backward, 3, False),
    ]:
        inputs = recurrent_inputs(rng, gates, T, B, I, H, has_c)
        reports[name] = check_function(forward, backward, inputs, seed=seed)
        reports[name + " (lengths)"] = check_function(partial(forward, lengths=lengths), backward, inputs, seed=seed)
    reports["linear"] = check_function(F.linear_forward, F.linear_backward,
                                       {"x": rng.standard_normal((B, I)), "W": rng.standard_normal((H, I)),
                                        "b": rng.standard_normal(H)}, seed=seed)
    ids = rng.integers(0, 7, size=(T, B))
    reports["embedding"] = check_function(lambda W: F.embedding_forward(ids, W), F.embedding_backward,
                                          {"W": rng.standard_normal((7, I))}, seed=seed)
    mask = F.dropout_mask((B, H), 0.5, rng, numpy.dtype(numpy.float64))
    reports["dropout"] = check_function(lambda x: F.dropout_forward(x, 0.5, mask=mask), F.dropout_backward,
                                        {"x": rng.standard_normal((B, H))}, seed=seed)
    logits = rng.standard_normal((2 * B, 5))
    targets = rng.integers(0, 5, size=2 * B)
    targets[0] = -100
    reports["softmax_cross_entropy"] = check_gradients(
        lambda: F.softmax_cross_entropy(logits, targets)[0], {"logits": logits},
        {"logits": F.softmax_cross_entropy(logits, targets)[1]}, seed=seed)
    z, y = rng.standard_normal((B, 3)), rng.random((B, 3))
    reports["bce_with_logits"] = check_gradients(
        lambda: F.binary_cross_entropy_with_logits(z, y)[0], {"logits": z},
        {"logits": F.binary_cross_entropy_with_logits(z, y)[1]}, seed=seed)
    return reports


def format_table(reports, tol=DEFAULT_TOLERANCE) -> str:
    """One line per check: the worst array and its relative error, then PASS/FAIL."""
    lines = [f"{'function':<22} {'arrays':>6} {'entries':>8}  {'max rel error':>13}  {'worst array':<10}  result",
             "-" * 76]
    for name, report in reports.items():
        worst = max(report.values(), key=lambda c: c.max_rel_error)
        entries = sum(c.checked for c in report.values())
        verdict = "PASS" if report.passed(tol) else "FAIL"
        lines.append(f"{name:<22} {len(report):>6} {entries:>8}  {report.max_rel_error:>13.2e}  {worst.name:<10}  {verdict}")
    return "\n".join(lines)
