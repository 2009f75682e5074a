"""Checkpointing through time: the same gradients as plain BPTT, in less memory."""
import tracemalloc

import numpy as np
import pytest

from rnnscratch import functional as F
from rnnscratch.functional.cells import CELL_NAMES, get_cell
from rnnscratch.functional.checkpointing import checkpointed_backward, checkpointed_forward
from rnnscratch.gradcheck import check_function


def _inputs(rng, cell, T=11, B=2, I=3, H=4):
    """``(x, state tuple, params tuple)`` for a registered cell."""
    spec = get_cell(cell)
    a = spec.random_inputs(rng, T, B, I, H)
    return a["x"], tuple(a[n] for n in spec.initial_names), (a["W_ih"], a["W_hh"], a["b_ih"], a["b_hh"])


@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("segment", [1, 3, 4, 11, 50])
def test_same_outputs_and_gradients_as_plain_bptt(cell, segment, rng):
    x, state, params = _inputs(rng, cell)
    spec = get_cell(cell)
    plain_out, plain_final, plain_cache = spec.run(x, state, params)
    out, final, cache = checkpointed_forward(cell, x, state, params, segment)
    np.testing.assert_allclose(out, plain_out, rtol=0, atol=1e-13)
    for f, g in zip(final, plain_final):
        np.testing.assert_allclose(f, g, rtol=0, atol=1e-13)
    d_out = rng.standard_normal(out.shape)
    d_state = tuple(rng.standard_normal(s.shape) for s in state)
    expected = spec.run_backward(d_out, d_state, plain_cache)
    got = checkpointed_backward(d_out, d_state, cache)
    assert set(got) == set(expected)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-11, atol=1e-12, err_msg=name)


def test_checkpointed_lstm_gradcheck(rng):
    x, (h0, c0), (W_ih, W_hh, b_ih, b_hh) = _inputs(rng, "lstm", T=7)

    def forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
        out, (h, c), cache = checkpointed_forward("lstm", x, (h0, c0), (W_ih, W_hh, b_ih, b_hh), 3)
        return out, h, c, cache

    def backward(d_out, d_h, d_c, cache):
        return checkpointed_backward(d_out, (d_h, d_c), cache)

    check_function(forward, backward, dict(x=x, h0=h0, c0=c0, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih,
                                           b_hh=b_hh)).assert_ok(1e-6)


def test_peak_memory_is_bounded_by_the_segment():
    rng = np.random.default_rng(0)
    T, B, I, H = 2000, 8, 16, 64
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    params = tuple(a.astype(np.float32) for a in (rng.standard_normal((4 * H, I)) * 0.1,
                                                  rng.standard_normal((4 * H, H)) * 0.1, np.zeros(4 * H), np.zeros(4 * H)))
    state = (np.zeros((B, H), np.float32), np.zeros((B, H), np.float32))
    d_out = np.ones((T, B, H), np.float32)

    def peak(run):
        tracemalloc.start()
        run()
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    plain = peak(lambda: F.lstm_backward(d_out, None, None, F.lstm_forward(x, *state, *params)[-1]))
    segmented = peak(lambda: checkpointed_backward(d_out, (None, None), checkpointed_forward("lstm", x, state, params, 50)[-1]))
    assert segmented < plain / 3


def test_cache_keeps_only_the_segment_starts(rng):
    x, state, params = _inputs(rng, "lstm", T=10)
    _, _, cache = checkpointed_forward("lstm", x, state, params, 4)
    kept = cache.saved_arrays()
    assert len(kept) == 2 * 3                     # (h, c) at steps 0, 4, 8
    assert all(a.shape == state[0].shape for a in kept)


def test_bad_arguments():
    with pytest.raises(ValueError, match="cell: expected one of"):
        checkpointed_forward("tcn", np.zeros((2, 1, 1)), (None,), (), 2)
    with pytest.raises(ValueError, match="segment: expected a positive int, got 0"):
        checkpointed_forward("gru", np.zeros((2, 1, 1)), (None,), (), 0)
