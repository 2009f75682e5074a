"""RNN/LSTM/GRU modules: gradient checks through layers, directions and lengths; PyTorch's API."""
import numpy as np
import pytest

from rnnscratch import backend, nn
from rnnscratch.functional.cells import CELL_NAMES, get_cell
from rnnscratch.gradcheck import check_module

TOL = 1e-6



@pytest.fixture(autouse=True)
def float64():
    with backend.use_backend(dtype="float64"):
        yield


def _state(cell, rng, shape, with_state):
    if not with_state:
        return None
    if get_cell(cell).has_cell_state:
        return (rng.standard_normal(shape), rng.standard_normal(shape))
    return rng.standard_normal(shape)


def _check(module, cell, x, hx, lengths):
    inputs = {"x": x}
    if hx is not None:
        inputs.update({"h0": hx[0], "c0": hx[1]} if get_cell(cell).has_cell_state else {"h0": hx})

    def forward(x, h0=None, c0=None):
        state = None if h0 is None else ((h0, c0) if get_cell(cell).has_cell_state else h0)
        return module(x, state, lengths=lengths)

    def backward(d_out, d_h, d_c=None):
        if get_cell(cell).has_cell_state:
            dx, (dh0, dc0) = module.backward(d_out, (d_h, d_c))
            grads = {"x": dx, "h0": dh0, "c0": dc0}
        else:
            dx, dh0 = module.backward(d_out, d_h)
            grads = {"x": dx, "h0": dh0}
        return {k: v for k, v in grads.items() if k in inputs}

    return check_module(module, forward, backward, inputs, max_entries=60)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_two_layer_bidirectional_with_lengths_gradcheck(cell, rng):
    module = nn.make_recurrent(cell, 3, 4, num_layers=2, bidirectional=True, rng=0)
    x = rng.standard_normal((5, 4, 3))
    hx = _state(cell, rng, (4, 4, 4), True)
    report = _check(module, cell, x, hx, np.array([5, 1, 3, 4]))
    assert len(report) == 16 + 1 + (2 if get_cell(cell).has_cell_state else 1)    # 2 layers x 2 dirs x 4 params, x, h0 (c0)
    report.assert_ok(TOL)


@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_single_layer_gradcheck_batch_first_and_no_bias(cell, batch_first, rng):
    module = nn.make_recurrent(cell, 2, 3, bias=False, batch_first=batch_first, rng=1)
    x = rng.standard_normal((2, 4, 2) if batch_first else (4, 2, 2))
    _check(module, cell, x, None, None).assert_ok(TOL)


def test_relu_rnn_three_layers_gradcheck(rng):
    module = nn.RNN(2, 3, num_layers=3, nonlinearity="relu", rng=2)
    _check(module, "rnn_relu", rng.standard_normal((4, 2, 2)), None, np.array([4, 2])).assert_ok(TOL)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_parameter_names_and_shapes_follow_pytorch(cell):
    G = get_cell(cell).num_gates
    module = nn.make_recurrent(cell, 5, 7, num_layers=2, bidirectional=True)
    shapes = {n: p.shape for n, p in module.named_parameters()}
    expected = {}
    for layer, inp in ((0, 5), (1, 14)):
        for sfx in ("", "_reverse"):
            expected.update({f"weight_ih_l{layer}{sfx}": (G * 7, inp), f"weight_hh_l{layer}{sfx}": (G * 7, 7),
                             f"bias_ih_l{layer}{sfx}": (G * 7,), f"bias_hh_l{layer}{sfx}": (G * 7,)})
    assert shapes == expected
    assert list(shapes)[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]


def test_initialisation_is_uniform_within_one_over_sqrt_h_and_seedable():
    a = nn.LSTM(10, 100, rng=3)
    b = nn.LSTM(10, 100, rng=3)
    w = a.weight_hh_l0.data
    assert np.abs(w).max() <= 0.1 and np.abs(w).max() > 0.099
    assert abs(w.mean()) < 0.005 and abs(w.std() - 0.1 / np.sqrt(3)) < 0.002
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    nn.init.manual_seed(11)
    c = nn.GRU(2, 3)
    nn.init.manual_seed(11)
    d = nn.GRU(2, 3)
    np.testing.assert_array_equal(c.weight_ih_l0.data, d.weight_ih_l0.data)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_output_and_state_shapes(cell, rng):
    module = nn.make_recurrent(cell, 3, 4, num_layers=3, bidirectional=True, batch_first=True)
    out, state = module(rng.standard_normal((2, 6, 3)))
    assert out.shape == (2, 6, 8)
    h = state[0] if get_cell(cell).has_cell_state else state
    assert h.shape == (6, 2, 4)
    if get_cell(cell).has_cell_state:
        assert state[1].shape == (6, 2, 4)


def test_lengths_zero_padded_outputs_and_last_state(rng):
    module = nn.GRU(2, 3, bidirectional=True)
    x = rng.standard_normal((5, 2, 2))
    out, h_n = module(x, lengths=np.array([5, 2]))
    assert np.all(out[2:, 1] == 0)
    short, h_short = module(x[:2, 1:2])
    np.testing.assert_allclose(out[:2, 1], short[:, 0], atol=1e-12)
    np.testing.assert_allclose(h_n[:, 1], h_short[:, 0], atol=1e-12)


def test_dropout_between_layers_only_in_train_mode(rng):
    module = nn.LSTM(3, 4, num_layers=2, dropout=0.5, rng=0)
    x = rng.standard_normal((3, 2, 3))
    a, _ = module(x)
    b, _ = module(x)
    assert not np.allclose(a, b)                     # fresh masks each call
    module.eval()
    c, _ = module(x)
    d, _ = module(x)
    np.testing.assert_array_equal(c, d)
    single = nn.LSTM(3, 4, num_layers=1, dropout=0.5, rng=0)   # nothing between layers: deterministic
    np.testing.assert_array_equal(single(x)[0], single(x)[0])


def test_dropout_between_layers_backward_uses_the_same_mask(rng):
    module = nn.GRU(2, 3, num_layers=2, dropout=0.4, rng=0)
    x = rng.standard_normal((4, 2, 2))

    def forward(x):
        module.dropout_generator = np.random.default_rng(5)     # same mask every evaluation
        return module(x)

    check_module(module, forward, lambda d_out, d_h: {"x": module.backward(d_out, d_h)[0]}, {"x": x}).assert_ok(TOL)


def test_gradients_accumulate_across_calls(rng):
    module = nn.RNN(2, 3, rng=0)
    x = rng.standard_normal((3, 1, 2))
    d = rng.standard_normal((3, 1, 3))
    module(x)
    module.backward(d)
    once = module.weight_hh_l0.grad.copy()
    module(x)
    module.backward(d)
    np.testing.assert_allclose(module.weight_hh_l0.grad, 2 * once)
    module.zero_grad()
    assert np.all(module.weight_hh_l0.grad == 0)


@pytest.mark.parametrize("bad_kwargs, match", [
    ({"x": np.zeros((4, 2))}, r"x: expected a 3-d array \(T, B, I\) with I=3, got shape \(4, 2\)"),
    ({"x": np.zeros((4, 2, 5))}, r"x: expected feature size I=3 in \(T, B, I\), got shape \(4, 2, 5\)"),
    ({"hx": np.zeros((1, 2, 4))}, r"h0: expected shape \(2, 2, 4\), got \(1, 2, 4\)"),
    ({"lengths": np.array([5, 1])}, r"lengths: every length must be in \[1, T=4\], got 5"),
    ({"lengths": np.array([0, 1])}, r"lengths: every length must be in \[1, T=4\], got 0"),
    ({"lengths": np.array([1, 2, 3])}, r"lengths: expected shape \(2,\), got \(3,\)"),
    ({"x": np.zeros((4, 2, 3), dtype=np.float32)}, r"x: expected dtype float64 \(the module's\), got float32"),
])
def test_bad_input_is_refused_with_a_clear_message(bad_kwargs, match):
    module = nn.GRU(3, 4, num_layers=1, bidirectional=True)
    kwargs = {"x": np.zeros((4, 2, 3)), "hx": None, "lengths": None, **bad_kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        module(kwargs["x"], kwargs["hx"], lengths=kwargs["lengths"])


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="backward called before forward"):
        nn.LSTM(2, 2).backward(np.zeros((1, 1, 2)))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="nonlinearity: expected 'tanh' or 'relu', got 'sigmoid'"):
        nn.RNN(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size: expected a positive int, got 0"):
        nn.LSTM(2, 0)
    with pytest.raises(ValueError, match="dropout: expected a probability in \\[0, 1\\), got 1.5"):
        nn.GRU(2, 3, dropout=1.5)


def test_reverse_within_lengths_is_an_involution(rng):
    x = rng.standard_normal((5, 3, 2))
    lengths = np.array([5, 2, 1])
    r = nn.reverse_within_lengths(x, lengths, np)
    np.testing.assert_array_equal(r[:2, 1], x[1::-1, 1])
    np.testing.assert_array_equal(r[2:, 1], x[2:, 1])            # padding stays in place
    np.testing.assert_array_equal(nn.reverse_within_lengths(r, lengths, np), x)


@pytest.mark.gpu
def test_numpy_array_into_a_cupy_module_is_refused():
    with backend.use_backend("cupy"):
        module = nn.LSTM(2, 3)
    with pytest.raises(backend.BackendError, match="'x' is numpy.ndarray"):
        module(np.zeros((2, 1, 2)))


@pytest.mark.gpu
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_cupy_module_matches_numpy(cell, rng):
    host = nn.make_recurrent(cell, 3, 4, num_layers=2, bidirectional=True, rng=0)
    x = rng.standard_normal((5, 2, 3))
    lengths = np.array([5, 3])
    out, _ = host(x, lengths=lengths)
    dx, _ = host.backward(np.ones_like(out))
    device = nn.make_recurrent(cell, 3, 4, num_layers=2, bidirectional=True, rng=0).to("cupy")
    with backend.use_backend("cupy"):
        out_g, _ = device(backend.to_device(x), lengths=backend.to_device(lengths))
        dx_g, _ = device.backward(backend.to_device(np.ones_like(out)))
    np.testing.assert_allclose(backend.to_numpy(out_g), out, atol=1e-10)
    np.testing.assert_allclose(backend.to_numpy(dx_g), dx, atol=1e-10)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_checkpoint_every_gives_the_same_gradients(cell, rng):
    plain = nn.make_recurrent(cell, 3, 4, num_layers=2, rng=5)
    segmented = nn.make_recurrent(cell, 3, 4, num_layers=2, rng=5)
    segmented.checkpoint_every = 3
    x = rng.standard_normal((10, 2, 3))
    d_out = rng.standard_normal((10, 2, 4))
    out_a, _ = plain(x)
    out_b, _ = segmented(x)
    np.testing.assert_allclose(out_b, out_a, atol=1e-13)
    dx_a, _ = plain.backward(d_out)
    dx_b, _ = segmented.backward(d_out)
    np.testing.assert_allclose(dx_b, dx_a, atol=1e-12)
    for (name, p), (_, q) in zip(plain.named_parameters(), segmented.named_parameters()):
        np.testing.assert_allclose(q.grad, p.grad, rtol=1e-11, atol=1e-12, err_msg=name)
    with pytest.raises(ValueError, match="checkpoint_every is for unpadded sequences"):
        segmented(x, lengths=np.array([10, 5]))


@pytest.mark.parametrize("reuse", [True, False])
def test_reuse_buffers_false_keeps_every_forwards_cache_alive(reuse, rng):
    """A decoder stepping token by token keeps each step's cache and backpropagates through them later:
    with reuse_buffers=False a second forward must not overwrite the first one's cache (it does with
    the shared workspace, which is why the flag exists)."""
    module = nn.LSTM(3, 4, rng=0)
    module.reuse_buffers = reuse
    x1, x2, d = rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 2, 4))
    module(x1)
    expected, _ = module.backward(d)
    module(x1)
    first = module._cache
    module(x2)
    module._cache = first
    dx, _ = module.backward(d)
    assert np.allclose(dx, expected, rtol=0, atol=1e-14) == (not reuse)


def test_saved_arrays_are_what_bptt_keeps(rng):
    module = nn.LSTM(3, 4, num_layers=2, dropout=0.5, rng=0)
    with pytest.raises(RuntimeError, match="before forward"):
        module.saved_arrays()
    x = rng.standard_normal((6, 2, 3))
    module(x)
    kept = module.saved_arrays()
    weights = {id(p.data) for p in module.parameters()}
    assert all(id(a) != id(x) and id(a) not in weights for a in kept)
    # per layer: hs, cs (T+1, B, H), tanh_cs (T, B, H), gates (T, 4, B, H); plus one dropout mask (T, B, H)
    per_layer = (2 * 7 * 2 * 4 + 6 * 2 * 4 + 6 * 4 * 2 * 4) * 8
    assert sum(a.nbytes for a in kept) == 2 * per_layer + 6 * 2 * 4 * 8
    module.checkpoint_every = 3
    module(x)
    assert sum(a.nbytes for a in module.saved_arrays()) < per_layer       # only segment starts (and the mask)


def test_a_new_registry_entry_is_all_a_cell_needs(monkeypatch, rng):
    """A cell added to the registry alone works as a module (an RNNBase) through make_recurrent."""
    import dataclasses

    from rnnscratch.functional import cells
    twin = dataclasses.replace(cells.get_cell("lstm"), name="lstm_twin", torch_class="")
    monkeypatch.setitem(cells.CELLS, "lstm_twin", twin)
    layer = nn.make_recurrent("lstm_twin", 3, 4, num_layers=2, rng=0)
    reference = nn.LSTM(3, 4, num_layers=2, rng=0)
    assert type(layer) is nn.RNNBase
    x = rng.standard_normal((5, 2, 3))
    out, (h, c) = layer(x)
    np.testing.assert_array_equal(out, reference(x)[0])
    dx, _ = layer.backward(np.ones_like(out))
    np.testing.assert_array_equal(dx, reference.backward(np.ones_like(out))[0])


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.LSTM(3, 4)([[1.0, 2.0, 3.0]]), TypeError, r"x: expected an array \(T, B, I\) with I=3, got a list"),
    (lambda: nn.LSTM(3, 4)(np.zeros((2, 1, 3)), np.zeros((1, 1, 4))), TypeError,
     r"hx: expected a tuple \(h, c\) for an LSTM, got ndarray"),
    (lambda: nn.GRU(3, 4)(np.zeros((2, 1, 3)), np.zeros((2, 1, 4))), ValueError,
     r"h0: expected shape \(1, 1, 4\), got \(2, 1, 4\)"),
])
def test_bad_inputs_get_one_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()
