"""Against torch.nn.RNN/LSTM/GRU in float64: outputs, final states and every gradient (< 1e-10).

Skips when torch is not installed (it is a test-only oracle: ``pip install torch``).
"""
import itertools

import numpy as np
import pytest

from rnnscratch import backend, nn

torch = pytest.importorskip("torch")

T, B, I, H = 5, 4, 3, 6
GRID = list(itertools.product(["RNN", "LSTM", "GRU"], [1, 3], [False, True], [False, True], [False, True],
                              [False, True]))


@pytest.fixture(autouse=True)
def float64():
    torch.set_default_dtype(torch.float64)
    with backend.use_backend(dtype="float64"):
        yield
    torch.set_default_dtype(torch.float32)


def _torch_run(theirs, x, hx, lengths, batch_first):
    if lengths is None:
        return theirs(x, hx)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first,
                                                     enforce_sorted=False)
    out, state = theirs(packed, hx)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    return out, state


@pytest.mark.parametrize("mode, layers, bidirectional, batch_first, with_lengths, with_state", GRID,
                         ids=lambda v: str(v))
def test_matches_torch(mode, layers, bidirectional, batch_first, with_lengths, with_state):
    rng = np.random.default_rng(layers * 16 + bidirectional * 8 + batch_first * 4 + with_lengths * 2 + with_state)
    ours = getattr(nn, mode)(I, H, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first, rng=rng)
    theirs = getattr(torch.nn, mode)(I, H, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})   # same names
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I))
    lengths = np.array([5, 1, 3, 2]) if with_lengths else None
    shape = (layers * (2 if bidirectional else 1), B, H)
    states = [rng.standard_normal(shape) for _ in range(2 if mode == "LSTM" else 1)] if with_state else []

    out, state = ours(x, (tuple(states) if mode == "LSTM" else states[0]) if states else None, lengths=lengths)
    x_t = torch.tensor(x, requires_grad=True)
    states_t = [torch.tensor(s, requires_grad=True) for s in states]
    out_t, state_t = _torch_run(theirs, x_t, (tuple(states_t) if mode == "LSTM" else states_t[0]) if states else None,
                                lengths, batch_first)

    finals = list(state) if mode == "LSTM" else [state]
    finals_t = list(state_t) if mode == "LSTM" else [state_t]
    d_out = rng.standard_normal(out.shape)
    d_finals = [rng.standard_normal(f.shape) for f in finals]
    dx, d_state = ours.backward(d_out, tuple(d_finals) if mode == "LSTM" else d_finals[0])
    loss = (out_t * torch.tensor(d_out)).sum() + sum((f * torch.tensor(d)).sum() for f, d in zip(finals_t, d_finals))
    loss.backward()

    assert np.abs(out - out_t.detach().numpy()).max() < 1e-10
    for f, f_t in zip(finals, finals_t):
        assert np.abs(f - f_t.detach().numpy()).max() < 1e-10
    assert np.abs(dx - x_t.grad.numpy()).max() < 1e-10
    for d, s_t in zip(list(d_state) if mode == "LSTM" else [d_state], states_t):
        assert np.abs(d - s_t.grad.numpy()).max() < 1e-10
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert np.abs(p.grad - their_params[name].grad.numpy()).max() < 1e-10, name


def test_weights_round_trip_torch_to_ours_and_back():
    """Documented interop: names already match, so state dicts pass straight through."""
    theirs = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    ours = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    back = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    back.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 2, 3))
    ours_out = ours(x)[0]
    np.testing.assert_allclose(ours_out, theirs(torch.tensor(x))[0].detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(back(torch.tensor(x))[0].detach().numpy(), ours_out, atol=1e-12)


def test_linear_and_embedding_match_torch():
    ours_lin, ours_emb = nn.Linear(4, 3), nn.Embedding(6, 4, padding_idx=0)
    lin, emb = torch.nn.Linear(4, 3), torch.nn.Embedding(6, 4, padding_idx=0)
    lin.load_state_dict({k: torch.tensor(v) for k, v in ours_lin.state_dict().items()})
    emb.load_state_dict({k: torch.tensor(v) for k, v in ours_emb.state_dict().items()})
    ids = np.array([[0, 2, 2], [5, 1, 0]])
    d = np.random.default_rng(1).standard_normal((2, 3, 3))
    y = ours_lin(ours_emb(ids))
    ours_emb.backward(ours_lin.backward(d))
    y_t = lin(emb(torch.tensor(ids)))
    (y_t * torch.tensor(d)).sum().backward()
    np.testing.assert_allclose(y, y_t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(ours_emb.weight.grad, emb.weight.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours_lin.weight.grad, lin.weight.grad.numpy(), atol=1e-12)
