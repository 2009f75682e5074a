"""Softmax cross-entropy and BCE-with-logits: gradients, stability, padding."""
import numpy as np
import pytest

from rnnscratch import functional as F
from rnnscratch.gradcheck import check_gradients

TOL = 1e-6


def _reference_cross_entropy(logits, targets, ignore_index):
    keep = targets != ignore_index
    z = logits[keep]
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(z)), targets[keep]].mean()


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_gradient_with_ignore_index(reduction, rng):
    logits = rng.standard_normal((6, 5))
    targets = np.array([1, -100, 4, 0, -100, 2])
    _, d_logits = F.softmax_cross_entropy(logits, targets, reduction=reduction)
    report = check_gradients(lambda: F.softmax_cross_entropy(logits, targets, reduction=reduction)[0],
                             {"logits": logits}, {"logits": d_logits})
    report.assert_ok(TOL)
    assert np.all(d_logits[[1, 4]] == 0)              # ignored rows get no gradient


def test_cross_entropy_value_matches_the_definition(rng):
    logits = rng.standard_normal((7, 3))
    targets = np.array([0, 2, 1, 1, 0, 5, 2])
    loss, _ = F.softmax_cross_entropy(logits, targets, ignore_index=5)
    assert loss == pytest.approx(_reference_cross_entropy(logits, targets, 5), rel=1e-12)


def test_sequence_cross_entropy_is_the_flat_one_over_every_step(rng):
    logits = rng.standard_normal((4, 3, 5))
    targets = rng.integers(0, 5, size=(4, 3))
    targets[2:, 1] = F.IGNORE_INDEX
    loss, d_logits = F.sequence_cross_entropy(logits, targets)
    assert loss == pytest.approx(_reference_cross_entropy(logits.reshape(12, 5), targets.reshape(12), F.IGNORE_INDEX))
    check_gradients(lambda: F.sequence_cross_entropy(logits, targets)[0], {"logits": logits},
                    {"logits": d_logits}).assert_ok(TOL)
    assert d_logits.shape == (4, 3, 5) and np.all(d_logits[2:, 1] == 0)
    with pytest.raises(ValueError, match=r"targets: expected shape \(4, 3\), got \(3, 4\)"):
        F.sequence_cross_entropy(logits, targets.T)
    with pytest.raises(ValueError, match=r"logits: expected shape \(\?, \?, \?\), got \(12, 5\)"):
        F.sequence_cross_entropy(logits.reshape(12, 5), targets)


def test_cross_entropy_is_finite_for_huge_logits():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3e3]])
    loss, d_logits = F.softmax_cross_entropy(logits, np.array([1, 1]))
    assert np.isfinite(loss) and np.all(np.isfinite(d_logits))
    assert loss == pytest.approx(1e4)                  # first row: -log softmax = 2e4; second: 0
    loss32, d32 = F.softmax_cross_entropy(logits.astype(np.float32), np.array([1, 1]))
    assert np.isfinite(loss32) and np.all(np.isfinite(d32)) and d32.dtype == np.float32


def test_cross_entropy_all_ignored_is_zero_not_nan():
    loss, d = F.softmax_cross_entropy(np.ones((2, 3)), np.array([-100, -100]))
    assert loss == 0.0 and np.all(d == 0)


@pytest.mark.parametrize("bad", [3, -2])
def test_cross_entropy_refuses_targets_out_of_range(bad):
    with pytest.raises(IndexError, match=f"targets\\[1\\] = {bad} is outside \\[0, 2\\]"):
        F.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, bad]))


def test_cross_entropy_shape_errors():
    with pytest.raises(ValueError, match="targets: expected shape \\(2,\\), got \\(3,\\)"):
        F.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="targets: expected an integer array"):
        F.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_with_logits_gradient(reduction, rng):
    logits = rng.standard_normal((4, 3)) * 3
    targets = rng.random((4, 3))
    _, d = F.binary_cross_entropy_with_logits(logits, targets, reduction=reduction)
    check_gradients(lambda: F.binary_cross_entropy_with_logits(logits, targets, reduction=reduction)[0],
                    {"logits": logits}, {"logits": d}).assert_ok(TOL)


def test_bce_matches_the_naive_formula_and_survives_large_logits(rng):
    z = rng.standard_normal(10)
    y = (rng.random(10) > 0.5).astype(float)
    p = 1 / (1 + np.exp(-z))
    naive = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    assert F.binary_cross_entropy_with_logits(z, y)[0] == pytest.approx(naive, rel=1e-12)
    loss, d = F.binary_cross_entropy_with_logits(np.array([1e4, -1e4]), np.array([0.0, 1.0]))
    assert loss == pytest.approx(1e4) and np.all(np.isfinite(d))


def test_bad_reduction():
    with pytest.raises(ValueError, match="reduction: expected one of"):
        F.softmax_cross_entropy(np.zeros((1, 2)), np.array([0]), reduction="none")
