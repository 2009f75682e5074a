"""Module base, state dicts, and the Linear/Embedding/Dropout/OneHot modules."""
import numpy as np
import pytest

from rnnscratch import backend, nn
from rnnscratch.gradcheck import check_module

TOL = 1e-6


@pytest.fixture(autouse=True)
def float64():
    with backend.use_backend(dtype="float64"):
        yield


def test_named_parameters_recurse_with_dotted_names():
    model = nn.SequenceClassifier(10, 3, embed_dim=4, hidden_size=5)
    names = [n for n, _ in model.named_parameters()]
    assert names[0] == "embedding.weight" and "rnn.weight_ih_l0" in names and names[-1] == "head.bias"
    assert model.num_parameters() == sum(p.data.size for p in model.parameters())


def test_state_dict_round_trip_and_host_copies():
    a, b = nn.GRU(3, 4, num_layers=2, rng=0), nn.GRU(3, 4, num_layers=2, rng=1)
    state = a.state_dict()
    state["weight_ih_l0"][...] = 0            # a copy: the module is untouched
    assert not np.all(a.weight_ih_l0.data == 0)
    b.load_state_dict(a.state_dict())
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_load_state_dict_rejects_wrong_shape_missing_and_unexpected():
    module = nn.LSTM(3, 4)
    state = module.state_dict()
    bad = dict(state, weight_hh_l0=np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"parameter 'weight_hh_l0' expects shape \(16, 4\), the state dict holds \(4, 4\)"):
        module.load_state_dict(bad)
    missing = {k: v for k, v in state.items() if k != "bias_hh_l0"}
    with pytest.raises(KeyError, match="missing keys: bias_hh_l0"):
        module.load_state_dict(missing)
    with pytest.raises(KeyError, match="unexpected keys: extra"):
        module.load_state_dict(dict(state, extra=np.zeros(1)))
    assert module.load_state_dict(missing, strict=False) == (["bias_hh_l0"], [])


def test_train_eval_propagates_to_children():
    model = nn.LanguageModel(5, hidden_size=3, dropout=0.5)
    model.eval()
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


@pytest.mark.parametrize("bias", [True, False])
def test_linear_module_gradcheck(bias, rng):
    layer = nn.Linear(4, 3, bias=bias, rng=0)
    report = check_module(layer, lambda x: layer(x), lambda d: {"x": layer.backward(d)},
                          {"x": rng.standard_normal((2, 5, 4))})
    assert set(report) == ({"weight", "bias", "x"} if bias else {"weight", "x"})
    report.assert_ok(TOL)


def test_embedding_module_gradcheck_and_padding(rng):
    emb = nn.Embedding(7, 3, padding_idx=2, rng=0)
    assert np.all(emb.weight.data[2] == 0)
    ids = np.array([[3, 1], [1, 6], [5, 0]])      # the padding row is used but, by design, never trained,
    check_module(emb, lambda: emb(ids), lambda d: emb.backward(d)).assert_ok(TOL)   # so check without it
    emb.zero_grad()
    emb(np.array([2, 2, 1]))
    emb.backward(np.ones((3, 3)))
    assert np.all(emb.weight.grad[2] == 0) and np.all(emb.weight.grad[1] == 1)


def test_embedding_refuses_out_of_range_ids():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match=r"ids: token id 5 is outside the embedding's range \[0, 4\]"):
        emb(np.array([0, 5]))
    with pytest.raises(ValueError, match="padding_idx: expected a row in"):
        nn.Embedding(5, 2, padding_idx=5)


def test_dropout_module_gradcheck_with_fixed_generator(rng):
    drop = nn.Dropout(0.3)
    x = rng.standard_normal((6, 4))

    def forward(x):
        drop.generator = np.random.default_rng(9)
        return drop(x)

    check_module(drop, forward, lambda d: {"x": drop.backward(d)}, {"x": x}).assert_ok(TOL)
    drop.eval()
    assert drop(x) is x


def test_one_hot_module(rng):
    one_hot = nn.OneHot(4)
    out = one_hot(np.array([[0, 3]]))
    np.testing.assert_array_equal(out, [[[1, 0, 0, 0], [0, 0, 0, 1]]])
    with pytest.raises(IndexError, match="outside"):
        one_hot(np.array([4]))


def test_module_to_moves_and_casts():
    layer = nn.Linear(2, 2, rng=0)
    layer.to(dtype="float32")
    assert layer.weight.data.dtype == np.float32 and layer.weight.grad.dtype == np.float32


def test_backward_twice_after_one_forward_is_refused_as_in_pytorch(rng):
    for module, x in [(nn.LSTM(3, 4, rng=0), rng.standard_normal((5, 2, 3))),
                      (nn.Linear(3, 2, rng=0), rng.standard_normal((4, 3)))]:
        out = module(x)
        out = out[0] if isinstance(out, tuple) else out
        module.backward(np.ones_like(out))
        grads = [p.grad.copy() for p in module.parameters()]
        with pytest.raises(RuntimeError, match="backward called before forward"):
            module.backward(np.ones_like(out))
        for g, p in zip(grads, module.parameters()):
            np.testing.assert_array_equal(g, p.grad)          # nothing added a second time
        module(x)
        module.backward(np.ones_like(out))                    # a new forward serves a new backward


def test_load_state_dict_refuses_non_finite_values():
    layer = nn.Linear(2, 2, rng=0)
    state = layer.state_dict()
    state["weight"][0, 1] = np.inf
    before = layer.weight.data.copy()
    with pytest.raises(ValueError, match="parameter 'weight' holds NaN or inf"):
        layer.load_state_dict(state)
    np.testing.assert_array_equal(layer.weight.data, before)


# -- frozen parameters and pretrained embeddings ----------------------------------------------------
def test_requires_grad_defaults_to_true_and_requires_grad_freezes_a_whole_module():
    model = nn.SequenceClassifier(10, 3, embed_dim=4, hidden_size=5)
    assert all(p.requires_grad for p in model.parameters())
    assert model.embedding.requires_grad_(False) is model.embedding
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert frozen == ["embedding.weight"]
    assert model.num_parameters(trainable_only=True) == model.num_parameters() - 10 * 4
    assert "requires_grad=False" in repr(model.embedding.weight)
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())
    assert not nn.Parameter(np.zeros(2), requires_grad=False).requires_grad


def test_embedding_from_pretrained_copies_the_table_and_freezes_it_like_torch():
    table = np.arange(12, dtype=np.float64).reshape(4, 3)
    emb = nn.Embedding.from_pretrained(table, padding_idx=0)
    table[1] = -1                                                # a copy: the caller's array is not shared
    assert (emb.num_embeddings, emb.embedding_dim, emb.weight.requires_grad) == (4, 3, False)
    np.testing.assert_array_equal(emb.weight.data, np.arange(12).reshape(4, 3))   # padding row kept as given
    out = emb(np.array([[1, 0], [3, 3]]))
    emb.backward(np.ones_like(out))
    np.testing.assert_array_equal(emb.weight.grad, 0)            # frozen: no gradient computed
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    with pytest.raises(ValueError, match=r"embeddings: expected shape \(\?, \?\), got \(4,\)"):
        nn.Embedding.from_pretrained(np.zeros(4))
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table), padding_idx=0)
    np.testing.assert_array_equal(nn.Embedding.from_pretrained(table, padding_idx=0).weight.data,
                                  theirs.weight.detach().numpy())
    assert theirs.weight.requires_grad is False

