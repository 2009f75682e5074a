"""Sigmoid, softmax, log-softmax and next-token sampling."""
import numpy as np
import pytest

from rnnscratch import functional as F
from rnnscratch.functional.activations import sigmoid, sigmoid_


def test_sigmoid_matches_the_definition_and_never_overflows(rng):
    a = rng.standard_normal(50) * 5
    np.testing.assert_allclose(sigmoid(a), 1 / (1 + np.exp(-a)), rtol=1e-12, atol=1e-15)
    inplace = a.copy()
    sigmoid_(inplace, np)
    np.testing.assert_allclose(inplace, sigmoid(a), rtol=1e-15)
    with np.errstate(over="raise"):
        extremes = sigmoid(np.array([-1000.0, 1000.0], dtype=np.float32))
    np.testing.assert_array_equal(extremes, [0, 1])


def test_softmax_sums_to_one_and_survives_huge_logits(rng):
    z = rng.standard_normal((4, 7))
    p = F.softmax(z, axis=1)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_allclose(p, np.exp(z) / np.exp(z).sum(axis=1, keepdims=True), rtol=1e-12)
    with np.errstate(over="raise"):
        big = F.softmax(np.array([1000.0, 1000.0, 0.0]))
    np.testing.assert_allclose(big, [0.5, 0.5, 0.0], atol=1e-300)


def test_log_softmax_is_the_log_of_softmax(rng):
    z = rng.standard_normal((3, 5)) * 10
    np.testing.assert_allclose(F.log_softmax(z, axis=0), np.log(F.softmax(z, axis=0)), rtol=1e-10, atol=1e-12)


def test_sample_token_greedy_top_k_and_seed():
    logits = np.array([0.1, 3.0, 2.9, -1.0])
    assert F.sample_token(logits, temperature=0) == 1
    draws = {F.sample_token(logits, 1.0, top_k=2, rng=np.random.default_rng(s)) for s in range(200)}
    assert draws == {1, 2}                                 # only the two largest can come out
    a = [F.sample_token(logits, 1.0, rng=np.random.default_rng(7)) for _ in range(3)]
    b = [F.sample_token(logits, 1.0, rng=np.random.default_rng(7)) for _ in range(3)]
    assert a == b


def test_sample_token_frequencies_follow_softmax_over_temperature():
    logits, temperature = np.array([1.0, 0.0, -1.0]), 2.0
    rng = np.random.default_rng(0)
    counts = np.bincount([F.sample_token(logits, temperature, rng=rng) for _ in range(20000)], minlength=3)
    np.testing.assert_allclose(counts / counts.sum(), F.softmax(logits / temperature), atol=0.015)


@pytest.mark.parametrize("kwargs, message", [
    (dict(temperature=-1), "temperature: expected >= 0"),
    (dict(top_k=0), r"top_k: expected an int in \[1, 3\]"),
    (dict(top_k=4), r"top_k: expected an int in \[1, 3\]"),
])
def test_sample_token_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        F.sample_token(np.zeros(3), **kwargs)
