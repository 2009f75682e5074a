"""The gradient checker must accept correct backward passes and catch wrong ones."""
import dataclasses

import numpy as np
import pytest

from rnnscratch import functional as F
from rnnscratch.gradcheck import (check_function, check_gradients, numerical_gradient, rel_error,
                                  resolution_floor)

from .functional.cells import CELLS


def test_numerical_gradient_of_a_known_function(rng):
    x = rng.standard_normal((3, 4))
    grad = numerical_gradient(lambda: float((x ** 3).sum()), x)
    np.testing.assert_allclose(grad, 3 * x ** 2, rtol=1e-8)


def test_numerical_gradient_restores_the_array(rng):
    x = rng.standard_normal(5)
    before = x.copy()
    numerical_gradient(lambda: float(np.sin(x).sum()), x)
    np.testing.assert_array_equal(x, before)


def test_float32_is_refused(rng):
    x = rng.standard_normal(3).astype(np.float32)
    with pytest.raises(TypeError, match="'x' must be float64"):
        numerical_gradient(lambda: float(x.sum()), x)


def _wrong_lstm_backward(d_out, d_h_n, d_c_n, cache):
    """A subtly wrong backward: the W_hh gradient is off by 10%, everything else is right."""
    grads = F.lstm_backward(d_out, d_h_n, d_c_n, cache)
    grads["W_hh"] = grads["W_hh"] * 0.9
    return grads


def test_a_wrong_backward_is_reported(rng):
    cell = next(c for c in CELLS if c.name == "lstm")
    inputs = cell.make_inputs(rng, 4, 2, 3, 5)
    report = check_function(cell.forward, _wrong_lstm_backward, inputs)
    assert not report.passed()
    assert report["W_hh"].max_rel_error > 1e-2
    assert report["x"].max_rel_error < 1e-6        # only the broken array is blamed
    with pytest.raises(AssertionError, match="W_hh"):
        report.assert_ok()


def test_transposed_recurrent_weight_is_caught(rng):
    """With non-square, random weights, using W_hh^T in the backward cannot go unnoticed."""
    inputs = CELLS[0].make_inputs(rng, 5, 2, 3, 4)

    def transposed_backward(d_out, d_h_n, cache):
        bad_cache = dataclasses.replace(cache, W_hh=cache.W_hh.T.copy())
        return F.rnn_backward(d_out, d_h_n, bad_cache)

    report = check_function(CELLS[0].forward, transposed_backward, inputs)
    assert report["h0"].max_rel_error > 1e-2 and report["x"].max_rel_error > 1e-2


def test_large_arrays_are_sampled(rng):
    x = rng.standard_normal((40, 50))
    report = check_gradients(lambda: float((x ** 2).sum()), {"x": x}, {"x": 2 * x}, max_entries=25)
    assert report["x"].checked == 25
    assert report.passed()


def test_missing_or_misshaped_analytic_gradient(rng):
    x = rng.standard_normal(3)
    with pytest.raises(KeyError, match="no analytic gradient for 'x'"):
        check_gradients(lambda: float(x.sum()), {"x": x}, {})
    with pytest.raises(ValueError, match="has shape \\(2,\\), the array has \\(3,\\)"):
        check_gradients(lambda: float(x.sum()), {"x": x}, {"x": np.ones(2)})


def test_report_table_names_every_array(rng):
    inputs = CELLS[3].make_inputs(rng, 2, 2, 2, 3)
    text = str(check_function(CELLS[3].forward, CELLS[3].backward, inputs))
    for name in inputs:
        assert name in text


def test_rel_error_definition():
    assert rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert rel_error(np.zeros(2), np.zeros(2)) == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        rel_error(np.zeros(2), np.zeros(3))


def test_resolution_floor_scales_with_the_loss():
    assert resolution_floor(1.0, 1e-5) == pytest.approx(resolution_floor(-1.0, 1e-5))
    assert resolution_floor(100.0, 1e-5) == pytest.approx(100 * resolution_floor(1.0, 1e-5))
    assert resolution_floor(1.0, 1e-5) < 1e-4


def test_the_floor_of_a_function_check_follows_the_size_of_its_terms_not_their_sum():
    # Found by hypothesis: the terms of L = sum(G * outputs) partly cancel, and a true gradient of
    # 9.6e-6 in W_hh was judged against |L|'s floor and failed on round-off (1.02e-6 > 1e-6).
    from functools import partial
    from rnnscratch.selfcheck import recurrent_inputs
    inputs = recurrent_inputs(np.random.default_rng(1440), 4, 2, 3, 3, 4, cell_state=True)
    forward = partial(F.lstm_forward, lengths=np.array([1, 1, 1]))
    report = check_function(forward, F.lstm_backward, inputs, max_entries=30, seed=440)
    *outputs, _ = forward(**inputs)
    upstream = np.random.default_rng(441)                 # check_function's G_k: seed + 1
    G = [upstream.standard_normal(o.shape) for o in outputs]
    terms = sum(np.abs(g * o).sum() for g, o in zip(G, outputs))
    total = abs(sum((g * o).sum() for g, o in zip(G, outputs)))
    assert terms > 2 * total                               # they do cancel
    assert report.tiny == pytest.approx(resolution_floor(terms, 1e-5))
    report.assert_ok()
    # and an absolute error of 1e-8 at that tiny entry (0.1% of it) is still caught
    wrong = F.lstm_backward(*G, forward(**inputs)[-1])
    wrong["W_hh"][report["W_hh"].worst_index] += 1e-8
    bad = check_function(forward, lambda *d_outputs_and_cache: wrong, inputs, max_entries=64, seed=440)
    assert bad["W_hh"].max_rel_error > 1e-5
