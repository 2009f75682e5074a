"""RNN (tanh, relu), LSTM and GRU: gradient checks, step/sequence agreement, lengths, precision."""
from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnscratch import backend
from rnnscratch.gradcheck import check_function, rel_error

from .cells import CELL_IDS, CELLS

TOL = 1e-6
SHAPES = [  # (T, B, I, H): T=1, B=1, H != I in both directions, a longer sequence
    (1, 3, 4, 5),
    (5, 1, 3, 4),
    (4, 2, 6, 3),
    (7, 3, 2, 5),
]


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T{}B{}I{}H{}".format(*s))
def test_sequence_backward_matches_finite_differences(cell, shape, rng):
    inputs = cell.make_inputs(rng, *shape)
    report = check_function(cell.forward, cell.backward, inputs)
    assert set(report) == set(inputs)          # every input and parameter was checked
    report.assert_ok(TOL)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_step_backward_matches_finite_differences(cell, rng):
    step = cell.step_inputs(cell.make_inputs(rng, 1, 3, 4, 5))
    report = check_function(cell.step_forward, cell.step_backward, step)
    assert set(report) == set(step)
    report.assert_ok(TOL)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_variable_lengths_backward_matches_finite_differences(cell, rng):
    inputs = cell.make_inputs(rng, 5, 4, 3, 4)
    lengths = np.array([5, 1, 3, 2])
    check_function(partial(cell.forward, lengths=lengths), cell.backward, inputs).assert_ok(TOL)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_sequence_equals_unrolled_steps(cell, rng):
    inputs = cell.make_inputs(rng, 6, 3, 4, 5)
    out, *finals, _ = cell.forward(**inputs)
    h = inputs["h0"]
    c = inputs.get("c0")
    params = {k: v for k, v in inputs.items() if k.startswith(("W_", "b_"))}
    for t in range(6):
        if cell.has_cell_state:
            h, c, _ = cell.step_forward(inputs["x"][t], h, c, **params)
        else:
            h, _ = cell.step_forward(inputs["x"][t], h, **params)
        np.testing.assert_allclose(out[t], h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(finals[0], h, rtol=1e-12, atol=1e-12)
    if cell.has_cell_state:
        np.testing.assert_allclose(finals[1], c, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_sequence_backward_equals_unrolled_step_backwards(cell, rng):
    """The sequence backward is exactly the step backward applied in reverse order."""
    T = 4
    inputs = cell.make_inputs(rng, T, 2, 3, 5)
    out, *finals, cache = cell.forward(**inputs)
    d_out = rng.standard_normal(out.shape)
    d_finals = [rng.standard_normal(f.shape) for f in finals]
    grads = cell.backward(d_out, *d_finals, cache)
    params = {k: v for k, v in inputs.items() if k.startswith(("W_", "b_"))}
    caches, h, c = [], inputs["h0"], inputs.get("c0")
    for t in range(T):
        if cell.has_cell_state:
            h, c, step_cache = cell.step_forward(inputs["x"][t], h, c, **params)
        else:
            h, step_cache = cell.step_forward(inputs["x"][t], h, **params)
        caches.append(step_cache)
    dh = d_finals[0].copy()
    dc = d_finals[1].copy() if cell.has_cell_state else None
    totals = {k: np.zeros_like(v) for k, v in params.items()}
    for t in reversed(range(T)):
        dh = dh + d_out[t]
        step = cell.step_backward(dh, dc, caches[t]) if cell.has_cell_state else cell.step_backward(dh, caches[t])
        np.testing.assert_allclose(grads["x"][t], step["x"], rtol=1e-10, atol=1e-12)
        for k in totals:
            totals[k] += step[k]
        dh = step["h_prev"]
        dc = step.get("c_prev")
    for k in totals:
        np.testing.assert_allclose(grads[k], totals[k], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads["h0"], dh, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_backward_does_not_mutate_its_arguments(cell, rng):
    inputs = cell.make_inputs(rng, 5, 2, 3, 4)
    out, *finals, cache = cell.forward(**inputs)
    d_out = rng.standard_normal(out.shape)
    d_finals = [rng.standard_normal(f.shape) for f in finals]
    saved = [d_out.copy()] + [d.copy() for d in d_finals]
    cell.backward(d_out, *d_finals, cache)
    for before, after in zip(saved, [d_out] + d_finals):
        np.testing.assert_array_equal(before, after)
    # and backward can be called twice on one cache with the same answer
    first = cell.backward(d_out, *d_finals, cache)
    second = cell.backward(d_out, *d_finals, cache)
    for k in first:
        np.testing.assert_array_equal(first[k], second[k])


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_lengths_freeze_state_and_zero_outputs(cell, rng):
    inputs = cell.make_inputs(rng, 6, 3, 2, 4)
    lengths = np.array([6, 2, 4])
    out, *finals, _ = cell.forward(**inputs, lengths=lengths)
    for b, L in enumerate(lengths):
        single = {k: (v[:L, b:b + 1] if k == "x" else v[b:b + 1] if k in ("h0", "c0") else v)
                  for k, v in inputs.items()}
        out_b, *finals_b, _ = cell.forward(**single)
        np.testing.assert_allclose(out[:L, b], out_b[:, 0], rtol=1e-12, atol=1e-12)
        assert np.all(out[L:, b] == 0)
        for f, f_b in zip(finals, finals_b):
            np.testing.assert_allclose(f[b], f_b[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_full_lengths_equal_no_lengths(cell, rng):
    inputs = cell.make_inputs(rng, 3, 2, 2, 3)
    a = cell.forward(**inputs)
    b = cell.forward(**inputs, lengths=np.array([3, 3]))
    for x, y in zip(a[:-1], b[:-1]):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_float32_matches_float64(cell, rng):
    inputs64 = cell.make_inputs(rng, 20, 4, 8, 16)
    inputs32 = {k: v.astype(np.float32) for k, v in inputs64.items()}
    out64, *_, cache64 = cell.forward(**inputs64)
    out32, *finals32, cache32 = cell.forward(**inputs32)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-5)
    d_out = rng.standard_normal(out64.shape)
    g64 = cell.backward(d_out, *[None] * len(finals32), cache64)
    g32 = cell.backward(d_out.astype(np.float32), *[None] * len(finals32), cache32)
    for k in g64:
        assert g32[k].dtype == np.float32, k
        scale = np.abs(g64[k]).max()
        np.testing.assert_allclose(g32[k], g64[k], rtol=1e-3, atol=1e-4 * scale, err_msg=k)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_h0_none_means_zeros(cell, rng):
    inputs = cell.make_inputs(rng, 3, 2, 2, 3)
    zeros = dict(inputs, h0=np.zeros_like(inputs["h0"]))
    nones = dict(inputs, h0=None)
    if cell.has_cell_state:
        zeros["c0"] = np.zeros_like(inputs["c0"])
        nones["c0"] = None
    for a, b in zip(cell.forward(**zeros)[:-1], cell.forward(**nones)[:-1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("bad, message", [
    ({"x": np.zeros((3, 2))}, "x: expected shape (?, ?, ?)"),
    ({"x": np.zeros((3, 2, 5))}, "W_ih: expected shape"),
    ({"h0": np.zeros((3, 3))}, "h0: expected shape (2, 3)"),
    ({"lengths": np.array([4, 1])}, "lengths: every length must be in [1, T=3], got 4"),
    ({"lengths": np.array([0, 1])}, "lengths: every length must be in [1, T=3], got 0"),
    ({"lengths": np.array([1.0, 2.0])}, "lengths: expected an integer array"),
])
def test_bad_arguments_name_the_argument(cell, bad, message, rng):
    inputs = dict(cell.make_inputs(rng, 3, 2, 2, 3), **bad)
    with pytest.raises((ValueError, TypeError)) as err:
        cell.forward(**inputs)
    assert message in str(err.value)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_mixed_dtypes_are_refused(cell, rng):
    inputs = cell.make_inputs(rng, 3, 2, 2, 3)
    inputs["W_hh"] = inputs["W_hh"].astype(np.float32)
    with pytest.raises(TypeError, match="W_hh: dtype float32 does not match x's float64"):
        cell.forward(**inputs)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
@settings(max_examples=8, deadline=None)
@given(T=st.integers(1, 6), B=st.integers(1, 4), I=st.integers(1, 5), H=st.integers(1, 5),
       seed=st.integers(0, 2**31 - 1), data=st.data())
def test_property_random_shapes_and_lengths(cell, T, B, I, H, seed, data):
    rng = np.random.default_rng(seed)
    inputs = cell.make_inputs(rng, T, B, I, H)
    lengths = np.array(data.draw(st.lists(st.integers(1, T), min_size=B, max_size=B)))
    forward = partial(cell.forward, lengths=lengths)
    out, *finals, _ = forward(**inputs)
    assert out.shape == (T, B, H) and all(f.shape == (B, H) for f in finals)
    check_function(forward, cell.backward, inputs, max_entries=30, seed=seed % 1000).assert_ok(TOL)


def test_rel_error_is_symmetric_and_scale_free():
    a = np.array([1.0, -2.0, 3.0])
    assert rel_error(a, a) == 0.0
    assert rel_error(a, 1.001 * a) == pytest.approx(rel_error(1e6 * a, 1.001e6 * a))
    assert rel_error(a, -a) == 1.0


@pytest.mark.gpu
@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_cupy_matches_numpy(cell, rng):
    inputs = cell.make_inputs(rng, 6, 4, 5, 7)
    lengths = np.array([6, 3, 1, 5])
    out, *finals, cache = cell.forward(**inputs, lengths=lengths)
    d_out = rng.standard_normal(out.shape)
    grads = cell.backward(d_out, *finals, cache)
    with backend.use_backend("cupy"):
        dev = {k: backend.to_device(v) for k, v in inputs.items()}
        out_g, *finals_g, cache_g = cell.forward(**dev, lengths=backend.to_device(lengths))
        grads_g = cell.backward(backend.to_device(d_out), *finals_g, cache_g)
    np.testing.assert_allclose(backend.to_numpy(out_g), out, rtol=1e-10, atol=1e-12)
    for k in grads:
        np.testing.assert_allclose(backend.to_numpy(grads_g[k]), grads[k], rtol=1e-9, atol=1e-11, err_msg=k)


@pytest.mark.gpu
@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_cupy_gradcheck_float64(cell, rng):
    with backend.use_backend("cupy"):
        inputs = {k: backend.to_device(v) for k, v in cell.make_inputs(rng, 3, 2, 3, 4).items()}
        check_function(cell.forward, cell.backward, inputs, max_entries=20).assert_ok(TOL)
