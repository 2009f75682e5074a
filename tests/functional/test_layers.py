"""Linear, embedding and dropout: gradient checks and behaviour."""
import numpy as np
import pytest

from rnnscratch import functional as F
from rnnscratch.gradcheck import check_function, check_gradients

TOL = 1e-6


@pytest.mark.parametrize("x_shape", [(5, 3), (4, 2, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(x_shape, bias, rng):
    inputs = {"x": rng.standard_normal(x_shape), "W": rng.standard_normal((4, 3))}
    if bias:
        inputs["b"] = rng.standard_normal(4)
    report = check_function(F.linear_forward, F.linear_backward, inputs)
    assert set(report) == set(inputs)
    report.assert_ok(TOL)


def test_linear_matches_definition(rng):
    x, W, b = rng.standard_normal((6, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    y, _ = F.linear_forward(x, W, b)
    np.testing.assert_allclose(y, x @ W.T + b)


def test_linear_bad_feature_size(rng):
    with pytest.raises(ValueError, match="x: expected last dimension 3"):
        F.linear_forward(rng.standard_normal((2, 4)), rng.standard_normal((5, 3)))


def test_embedding_gradient_accumulates_repeated_ids(rng):
    W = rng.standard_normal((6, 3))
    ids = np.array([[1, 2, 1], [5, 1, 0]])
    report = check_function(lambda W: F.embedding_forward(ids, W), F.embedding_backward, {"W": W})
    report.assert_ok(TOL)
    _, cache = F.embedding_forward(ids, W)
    d_out = np.ones((2, 3, 3))
    dW = F.embedding_backward(d_out, cache)["W"]
    np.testing.assert_array_equal(dW[1], [3, 3, 3])     # id 1 appears three times
    np.testing.assert_array_equal(dW[3], [0, 0, 0])     # id 3 never appears


def test_embedding_padding_row_gets_no_gradient(rng):
    W = rng.standard_normal((4, 2))
    ids = np.array([0, 0, 2])
    out, cache = F.embedding_forward(ids, W, padding_idx=0)
    np.testing.assert_array_equal(out[0], W[0])
    dW = F.embedding_backward(np.ones((3, 2)), cache)["W"]
    assert np.all(dW[0] == 0) and np.all(dW[2] == 1)


@pytest.mark.parametrize("bad_id", [-1, 4])
def test_embedding_refuses_ids_out_of_range(bad_id, rng):
    with pytest.raises(IndexError, match=f"ids: token id {bad_id} is outside the embedding's range \\[0, 3\\]"):
        F.embedding_forward(np.array([0, bad_id]), rng.standard_normal((4, 2)))


def test_embedding_refuses_float_ids(rng):
    with pytest.raises(TypeError, match="ids: expected an integer array"):
        F.embedding_forward(np.array([0.0, 1.0]), rng.standard_normal((4, 2)))


def test_dropout_gradient_with_fixed_mask(rng):
    x = rng.standard_normal((4, 5))
    mask = F.dropout_mask(x.shape, 0.3, np.random.default_rng(0), x.dtype)
    report = check_function(lambda x: F.dropout_forward(x, 0.3, mask=mask), F.dropout_backward, {"x": x})
    report.assert_ok(TOL)


def test_dropout_statistics_and_eval_mode(rng):
    x = np.ones((200, 500))
    y, cache = F.dropout_forward(x, 0.25, rng=np.random.default_rng(0))
    kept = cache["mask"] > 0
    assert abs(kept.mean() - 0.75) < 0.01                     # keep probability 1 - p
    np.testing.assert_allclose(y[kept], 1 / 0.75)            # inverted: kept units scaled up
    assert abs(y.mean() - 1.0) < 0.01                         # expectation preserved
    y_eval, cache_eval = F.dropout_forward(x, 0.25, training=False)
    assert y_eval is x and F.dropout_backward(x, cache_eval)["x"] is x


def test_dropout_is_reproducible_with_a_seed():
    x = np.ones((10, 10))
    a, _ = F.dropout_forward(x, 0.5, rng=np.random.default_rng(7))
    b, _ = F.dropout_forward(x, 0.5, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("p", [-0.1, 1.0])
def test_dropout_bad_probability(p):
    with pytest.raises(ValueError, match=r"p: expected a probability in \[0, 1\)"):
        F.dropout_forward(np.ones(3), p)


def test_check_gradients_on_a_layer_chain(rng):
    """linear -> tanh -> linear, composed by hand: the pieces' backward passes compose correctly."""
    x, W1, W2 = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((2, 5))
    G = rng.standard_normal((3, 2))

    def loss():
        h, _ = F.linear_forward(x, W1)
        y, _ = F.linear_forward(np.tanh(h), W2)
        return float((G * y).sum())

    h, c1 = F.linear_forward(x, W1)
    y, c2 = F.linear_forward(np.tanh(h), W2)
    g2 = F.linear_backward(G, c2)
    g1 = F.linear_backward(g2["x"] * (1 - np.tanh(h) ** 2), c1)
    check_gradients(loss, {"x": x, "W1": W1, "W2": W2}, {"x": g1["x"], "W1": g1["W"], "W2": g2["W"]}).assert_ok(TOL)
