"""Truncated BPTT: the schedule, equality with full BPTT, and brute-force references for the cut."""
import numpy as np
import pytest

from rnnscratch import backend, nn
from rnnscratch.functional.losses import softmax_cross_entropy
from rnnscratch.gradcheck import numerical_gradient
from rnnscratch.train import TruncatedBPTT, tbptt_classify, tbptt_stream


@pytest.fixture(autouse=True)
def float64():
    with backend.use_backend(dtype="float64"):
        yield


def _grads(model):
    return {n: p.grad.copy() for n, p in model.named_parameters()}


def test_windows_of_the_schedule():
    assert TruncatedBPTT(4).windows(10) == [(0, 0, 4), (4, 4, 8), (8, 8, 10)]
    assert TruncatedBPTT(2, 4).windows(7) == [(0, 0, 2), (0, 2, 4), (2, 4, 6), (4, 6, 7)]
    for k1, k2, T in [(1, 1, 5), (2, 5, 9), (3, 3, 3)]:
        covered = [t for _, s, e in TruncatedBPTT(k1, k2).windows(T) for t in range(s, e)]
        assert covered == list(range(T))       # every step is in exactly one loss
    with pytest.raises(ValueError, match="k2: expected an int >= k1=3, got 2"):
        TruncatedBPTT(3, 2)
    with pytest.raises(ValueError, match="k1: expected a positive int, got 0"):
        TruncatedBPTT(0)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_k_equal_T_is_exactly_full_bptt(cell, rng):
    model = nn.LanguageModel(6, hidden_size=4, embed_dim=3, cell=cell, num_layers=2, rng=0)
    ids, targets = rng.integers(0, 6, size=(7, 3)), rng.integers(0, 6, size=(7, 3))
    recorded = []
    tbptt_stream(model, ids, targets, None, TruncatedBPTT(7), lambda loss: recorded.append(_grads(model)))
    model.zero_grad()
    logits, _ = model(ids)
    model.backward(model.loss(logits, targets)[1])
    assert len(recorded) == 1
    for name, g in _grads(model).items():
        np.testing.assert_array_equal(recorded[0][name], g)


def _window_loss_reference(model, ids, targets, start_state, loss_start):
    """The loss of one window with its start state held constant: what TBPTT differentiates."""
    t = targets.copy()
    t[:loss_start] = -100
    logits, _ = model(ids, start_state)
    return model.loss(logits, t)[0]


@pytest.mark.parametrize("k1, k2", [(2, 2), (3, 3), (2, 4), (1, 3)])
def test_window_gradients_match_brute_force_on_the_cut_graph(k1, k2, rng):
    model = nn.LanguageModel(5, hidden_size=3, embed_dim=2, cell="lstm", rng=1)
    T = 7
    ids, targets = rng.integers(0, 5, size=(T, 2)), rng.integers(0, 5, size=(T, 2))
    state0 = (rng.standard_normal((1, 2, 3)), rng.standard_normal((1, 2, 3)))
    recorded = []
    _, _, final = tbptt_stream(model, ids, targets, state0, TruncatedBPTT(k1, k2),
                               lambda loss: recorded.append(_grads(model)))
    # brute force: run the whole sequence once to know the state at every step, then for every window
    # differentiate its loss numerically with the state at its start frozen
    states = {0: state0}
    for t in range(T):
        _, s = model(ids[t:t + 1], states[t])
        states[t + 1] = tuple(a.copy() for a in s)
    windows = TruncatedBPTT(k1, k2).windows(T)
    assert len(recorded) == len(windows)
    for (start, loss_start, end), grads in zip(windows, recorded):
        for name, p in model.named_parameters():
            numeric = numerical_gradient(
                lambda: _window_loss_reference(model, ids[start:end], targets[start:end], states[start],
                                               loss_start - start), p.data)
            np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-9, err_msg=f"{name} {start, end}")
    np.testing.assert_allclose(final[0], states[T][0], atol=1e-12)      # values carried exactly


def test_chunked_lstm_gradients_match_torch_detach():
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    try:
        rng = np.random.default_rng(3)
        model = nn.LanguageModel(6, hidden_size=4, embed_dim=3, cell="lstm", num_layers=2, rng=2)
        ids, targets = rng.integers(0, 6, size=(9, 2)), rng.integers(0, 6, size=(9, 2))
        recorded = []
        tbptt_stream(model, ids, targets, None, TruncatedBPTT(4), lambda loss: recorded.append(_grads(model)))
        emb = torch.nn.Embedding(6, 3)
        lstm = torch.nn.LSTM(3, 4, num_layers=2)
        head = torch.nn.Linear(4, 6)
        for name, mod in (("embedding.", emb), ("rnn.", lstm), ("head.", head)):
            mod.load_state_dict({k[len(name):]: torch.tensor(v) for k, v in model.state_dict().items()
                                 if k.startswith(name)})
        state = None
        for k, (start, _, end) in enumerate(TruncatedBPTT(4).windows(9)):
            for mod in (emb, lstm, head):
                mod.zero_grad()
            out, state = lstm(emb(torch.tensor(ids[start:end])), state)
            logits = head(out)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 6), torch.tensor(targets[start:end]).reshape(-1))
            loss.backward()
            state = tuple(s.detach() for s in state)                 # the cut
            theirs = {**{"embedding." + n: p.grad for n, p in emb.named_parameters()},
                      **{"rnn." + n: p.grad for n, p in lstm.named_parameters()},
                      **{"head." + n: p.grad for n, p in head.named_parameters()}}
            for name, g in recorded[k].items():
                assert np.abs(g - theirs[name].numpy()).max() < 1e-10, name
    finally:
        torch.set_default_dtype(torch.float32)


def test_classify_with_one_chunk_is_full_bptt(rng):
    model = nn.SequenceClassifier(7, 3, embed_dim=3, hidden_size=4, cell="gru", rng=0)
    ids, lengths, labels = rng.integers(1, 7, size=(6, 4)), np.array([6, 2, 4, 1]), np.array([0, 2, 1, 2])
    recorded = []
    tbptt_classify(model, ids, lengths, labels, 6, lambda loss: recorded.append(_grads(model)))
    model.zero_grad()
    model.backward(softmax_cross_entropy(model(ids, lengths), labels)[1])
    for name, g in _grads(model).items():
        np.testing.assert_array_equal(recorded[0][name], g)


def test_classify_chunks_match_brute_force(rng):
    model = nn.SequenceClassifier(7, 3, embed_dim=2, hidden_size=3, cell="lstm", rng=0)
    ids, lengths, labels = rng.integers(1, 7, size=(5, 3)), np.array([5, 2, 4]), np.array([0, 2, 1])
    recorded = []
    total, terms, final_logits = tbptt_classify(model, ids, lengths, labels, 2, lambda loss: recorded.append(_grads(model)))
    assert len(recorded) == 3 and terms == 3 + 2 + 1                 # lengths 5, 2, 4 in chunks of 2
    # reference: the state at step 2 and 4 of each sequence, then each chunk's loss with it frozen
    state, chunk_refs = None, []
    for start in (0, 2, 4):
        rows = np.nonzero(lengths > start)[0]
        chunk_len = np.clip(lengths[rows] - start, 1, 2)
        frozen = None if state is None else tuple(s[:, rows].copy() for s in state)
        chunk_refs.append((start, rows, chunk_len, frozen))
        _, new = model.forward_with_state(ids[start:start + 2][:, rows], chunk_len, frozen)
        state = tuple(s.copy() for s in new) if state is None else state
        for s, v in zip(state, new):
            s[:, rows] = v
    for (start, rows, chunk_len, frozen), grads in zip(chunk_refs, recorded):
        for name, p in model.named_parameters():
            numeric = numerical_gradient(lambda: softmax_cross_entropy(
                model.forward_with_state(ids[start:start + 2][:, rows], chunk_len, frozen)[0], labels[rows])[0],
                p.data)
            np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(final_logits[1], model(ids[:2, 1:2], np.array([2]))[0], atol=1e-12)


def test_classify_refuses_bidirectional_and_pooled_models():
    bi = nn.SequenceClassifier(5, 2, bidirectional=True)
    with pytest.raises(ValueError, match="truncated BPTT needs a unidirectional model"):
        tbptt_classify(bi, np.ones((4, 1), dtype=int), np.array([4]), np.array([0]), 2, lambda loss: None)
    mean = nn.SequenceClassifier(5, 2, pooling="mean")
    with pytest.raises(ValueError, match="uses the last valid output"):
        tbptt_classify(mean, np.ones((4, 1), dtype=int), np.array([4]), np.array([0]), 2, lambda loss: None)


def test_chunk_steps_counts_each_sequences_steps_per_chunk():
    from rnnscratch.train import chunk_steps
    np.testing.assert_array_equal(chunk_steps(np.array([5, 2, 4]), 2), [[2, 2, 2], [2, 0, 2], [1, 0, 0]])
    steps = chunk_steps(np.array([6, 3]), 3)                    # k divides the longest: no empty last chunk
    np.testing.assert_array_equal(steps, [[3, 3], [3, 0]])
    rng = np.random.default_rng(0)
    L = rng.integers(1, 30, size=9)
    assert (chunk_steps(L, 4).sum(axis=0) == L).all()          # every step is in exactly one chunk
