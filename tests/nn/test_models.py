"""The three models end to end: gradient checks, pooling, state carrying, sampling, rebuild."""
import numpy as np
import pytest

from rnnscratch import backend, nn
from rnnscratch.functional import IGNORE_INDEX
from rnnscratch.gradcheck import check_module

TOL = 1e-6


@pytest.fixture(autouse=True)
def float64():
    with backend.use_backend(dtype="float64"):
        yield


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_classifier_gradcheck(cell, pooling, bidirectional, rng):
    model = nn.SequenceClassifier(9, 3, embed_dim=3, hidden_size=4, cell=cell, num_layers=2,
                                  bidirectional=bidirectional, pooling=pooling, rng=0).eval()
    ids = rng.integers(1, 9, size=(5, 3))
    lengths = np.array([5, 1, 3])
    ids[lengths[None, :] <= np.arange(5)[:, None]] = 0
    report = check_module(model, lambda: model(ids, lengths), lambda d: model.backward(d), max_entries=40)
    assert set(report) == {name for name, _ in model.named_parameters()}
    report.assert_ok(TOL)


def test_classifier_last_pooling_uses_each_sequences_own_end(rng):
    model = nn.SequenceClassifier(6, 2, embed_dim=3, hidden_size=4, rng=0).eval()
    ids = np.array([[1, 2], [3, 0], [4, 0]])
    logits = model(ids, np.array([3, 1]))
    alone = model(ids[:1, 1:2])
    np.testing.assert_allclose(logits[1], alone[0], atol=1e-12)


def test_classifier_probabilities_sum_to_one_and_restore_mode(rng):
    model = nn.SequenceClassifier(6, 4, embed_dim=3, hidden_size=4, dropout=0.5, rng=0)
    p = model.predict_proba(rng.integers(0, 6, size=(3, 2)))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert model.training


@pytest.mark.parametrize("embed_dim", [None, 3])
def test_language_model_gradcheck_with_carried_state(embed_dim, rng):
    model = nn.LanguageModel(7, hidden_size=4, embed_dim=embed_dim, cell="lstm", num_layers=2, rng=0).eval()
    ids = rng.integers(0, 7, size=(4, 2))
    h0, c0 = rng.standard_normal((2, 2, 4)), rng.standard_normal((2, 2, 4))
    report = check_module(model, lambda h0, c0: model(ids, (h0, c0)),
                          lambda d_logits, d_h, d_c: dict(zip(("h0", "c0"), model.backward(d_logits, (d_h, d_c)))),
                          {"h0": h0, "c0": c0})
    assert "h0" in report and "c0" in report
    report.assert_ok(TOL)


def test_language_model_state_carries_between_calls(rng):
    model = nn.LanguageModel(5, hidden_size=3, cell="gru", rng=0)
    ids = rng.integers(0, 5, size=(6, 2))
    whole, _ = model(ids)
    first, state = model(ids[:4])
    second, _ = model(ids[4:], state)
    np.testing.assert_allclose(np.concatenate([first, second]), whole, atol=1e-12)


def test_sample_temperature_zero_is_argmax_and_seeded_sampling_reproducible():
    model = nn.LanguageModel(6, hidden_size=8, embed_dim=4, rng=0)
    greedy = model.sample([1, 2], 10, temperature=0)
    # the same path computed by hand: feed the argmax back every step
    logits, state = model(np.array([[1], [2]]))
    expected = []
    for _ in range(10):
        token = int(np.argmax(logits[-1, 0]))
        expected.append(token)
        logits, state = model(np.array([[token]]), state)
    assert greedy == expected
    assert model.sample([1, 2], 10, temperature=1e-8, seed=3) == greedy
    a = model.sample([0], 20, temperature=1.0, seed=7)
    assert a == model.sample([0], 20, temperature=1.0, seed=7)
    assert a != model.sample([0], 20, temperature=1.0, seed=8)
    assert set(model.sample([0], 30, top_k=1, seed=1)) == set(model.sample([0], 30, temperature=0))


def test_sample_refuses_bad_arguments():
    model = nn.LanguageModel(4, hidden_size=2)
    with pytest.raises(ValueError, match="prefix: expected at least one token id"):
        model.sample([], 3)
    with pytest.raises(ValueError, match="top_k: expected an int in \\[1, 4\\], got 9"):
        model.sample([0], 3, top_k=9)


def test_language_model_with_lengths_gradcheck_and_loss_ignores_padding(rng):
    model = nn.LanguageModel(8, embed_dim=3, hidden_size=4, cell="gru", rng=0).eval()
    ids = rng.integers(1, 8, size=(4, 2))
    lengths = np.array([4, 2])

    def backward(d_logits, d_h):
        model.backward(d_logits, d_h)       # token ids have no gradient; parameters are checked

    check_module(model, lambda: model(ids, lengths=lengths), backward).assert_ok(TOL)
    logits, _ = model(ids, lengths=lengths)
    targets = rng.integers(0, 8, size=(4, 2))
    targets[2:, 1] = IGNORE_INDEX
    loss, d = model.loss(logits, targets)
    assert np.isfinite(loss) and np.all(d[2:, 1] == 0)


def test_backward_checks_the_upstream_shape(rng):
    model = nn.LanguageModel(5, hidden_size=3, rng=0)
    with pytest.raises(RuntimeError, match="LanguageModel.backward called before forward"):
        model.backward(np.zeros((2, 1, 5)))
    model(rng.integers(0, 5, size=(2, 1)))
    with pytest.raises(ValueError, match=r"d_logits: expected shape \(2, 1, 5\), got \(2, 1, 4\)"):
        model.backward(np.zeros((2, 1, 4)))


def test_classifier_forward_with_state_continues_a_sequence(rng):
    model = nn.SequenceClassifier(7, 2, embed_dim=3, hidden_size=4, cell="lstm", rng=0).eval()
    ids = rng.integers(1, 7, size=(6, 2))
    whole = model(ids)
    _, state = model.forward_with_state(ids[:4])
    rest, _ = model.forward_with_state(ids[4:], state=state)
    np.testing.assert_allclose(rest, whole, atol=1e-12)


@pytest.mark.parametrize("kwargs, reason", [(dict(bidirectional=True), "needs a unidirectional model"),
                                            (dict(pooling="mean"), "uses the last valid output")])
def test_classifier_says_why_it_cannot_be_truncated(kwargs, reason):
    nn.SequenceClassifier(5, 2, hidden_size=3).check_truncated_bptt()          # the default can
    with pytest.raises(ValueError, match=reason):
        nn.SequenceClassifier(5, 2, hidden_size=3, **kwargs).check_truncated_bptt()


def test_build_model_rebuilds_from_config():
    model = nn.SequenceClassifier(10, 2, embed_dim=3, hidden_size=4, cell="gru", bidirectional=True)
    clone = nn.build_model("SequenceClassifier", model.config)
    clone.load_state_dict(model.state_dict())
    ids = np.array([[1], [2]])
    np.testing.assert_array_equal(model(ids), clone(ids))
    with pytest.raises(ValueError, match="model: expected one of"):
        nn.build_model("Transformer", {})


def test_unknown_cell_and_pooling():
    with pytest.raises(ValueError, match="cell: expected one of"):
        nn.SequenceClassifier(5, 2, cell="tcn")
    with pytest.raises(ValueError, match="pooling: expected one of"):
        nn.SequenceClassifier(5, 2, pooling="attention")


def test_hihell_to_ihello_is_learned():
    """The classic toy: a one-layer RNN on one-hot characters learns h,i,h,e,l,l -> i,h,e,l,l,o."""
    index = {c: k for k, c in enumerate("hielo")}
    x = np.array([[index[c]] for c in "hihell"])
    y = np.array([[index[c]] for c in "ihello"])
    model = nn.LanguageModel(5, hidden_size=8, embed_dim=None, cell="rnn", rng=0)
    lr = 0.1
    for _ in range(300):
        model.zero_grad()
        logits, _ = model(x)
        loss, d = model.loss(logits, y)
        model.backward(d)
        for p in model.parameters():
            p.data -= lr * p.grad
    logits, _ = model(x)
    assert "".join("hielo"[k] for k in logits[:, 0].argmax(axis=1)) == "ihello"
    assert loss < 0.1
