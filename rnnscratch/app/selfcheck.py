"""Gradient-check every hand-written backward pass in the package, on fresh random float64 inputs.

This is what ``rnnscratch gradcheck`` runs: one row per function with its worst relative error. The
recurrent cells come from the registry (:data:`rnnscratch.functional.cells.CELLS`), so a registered
cell is checked here with no edit.
"""
from __future__ import annotations

from functools import partial

import numpy

from .. import functional as F
from ..functional.cells import CELLS
from ..functional.losses import IGNORE_INDEX
from ..gradcheck import DEFAULT_TOLERANCE, check_function, check_gradients


def run_all(seed=0, T=6, B=3, I=4, H=5):
    """Return ``{check name: GradcheckReport}`` for every backward pass: each registered cell (rows named
    by the registry), again with variable lengths ``T, 1, ...`` (row ``"<cell> (lengths)"``) so the
    padding path is proven too, then linear, embedding, dropout and the two losses."""
    rng = numpy.random.default_rng(seed)
    lengths = numpy.array([T, 1] + [max(1, T - k) for k in range(2, B)])[:B]   # full, length 1, ...
    reports = {}
    for name, cell in CELLS.items():
        inputs = cell.random_inputs(rng, T, B, I, H)
        reports[name] = check_function(cell.forward, cell.backward, inputs, seed=seed)
        reports[name + " (lengths)"] = check_function(partial(cell.forward, lengths=lengths), cell.backward, inputs,
                                                      seed=seed)
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
    targets[0] = IGNORE_INDEX
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
