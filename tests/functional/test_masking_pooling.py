"""The length mask and pooling over time: padding never counts, in the forward or the backward."""
import numpy as np
import pytest

from rnnscratch import functional as F
from rnnscratch.functional.masking import length_mask
from rnnscratch.functional.pooling import POOLINGS
from rnnscratch.gradcheck import check_function


def test_length_mask_marks_the_real_steps():
    mask = length_mask(np.array([3, 1, 2]), 3, 3, np)
    assert mask.shape == (3, 3, 1) and mask.dtype == bool
    np.testing.assert_array_equal(mask[:, :, 0], [[1, 1, 1], [1, 0, 1], [1, 0, 0]])


def test_length_mask_full_lengths_cost_nothing_unless_asked():
    assert length_mask(np.array([4, 4]), 4, 2, np) is None
    assert length_mask(None, 4, 2, np) is None
    assert length_mask(None, 4, 2, np, none_when_full=False).all()
    assert length_mask(np.array([4, 4]), 4, 2, np, none_when_full=False).shape == (4, 2, 1)


@pytest.mark.parametrize("lengths, message", [
    (np.array([0, 2]), r"lengths: every length must be in \[1, T=3\], got 0"),
    (np.array([4, 2]), r"lengths: every length must be in \[1, T=3\], got 4"),
    (np.array([1, 2, 3]), r"lengths: expected shape \(2,\), got \(3,\)"),
    (np.array([1.0, 2.0]), "lengths: expected an integer array"),
])
def test_length_mask_refuses_bad_lengths(lengths, message):
    with pytest.raises((ValueError, TypeError), match=message):
        length_mask(lengths, 3, 2, np)


@pytest.mark.parametrize("mode", POOLINGS)
def test_pooling_gradcheck_with_padding(mode, rng):
    lengths = np.array([5, 2, 3])
    check_function(lambda h: F.temporal_pool_forward(h, lengths, mode), F.temporal_pool_backward,
                   {"h": rng.standard_normal((5, 3, 4))}).assert_ok(1e-6)


def test_padding_never_wins_the_max_nor_enters_the_mean(rng):
    h = rng.standard_normal((4, 2, 3))
    h[2:, 1] = 1e6                                    # huge values in sequence 1's padding
    lengths = np.array([4, 2])
    pooled, _ = F.temporal_pool_forward(h, lengths, "max")
    np.testing.assert_array_equal(pooled[1], h[:2, 1].max(axis=0))
    mean, cache = F.temporal_pool_forward(h, lengths, "mean")
    np.testing.assert_allclose(mean[1], h[:2, 1].mean(axis=0))
    dh = F.temporal_pool_backward(np.ones((2, 3)), cache)["h"]
    assert np.all(dh[2:, 1] == 0)


def test_pooling_refuses_bad_mode_and_lengths(rng):
    with pytest.raises(ValueError, match="mode: expected one of"):
        F.temporal_pool_forward(rng.standard_normal((2, 1, 1)), None, "sum")
    with pytest.raises(ValueError, match="lengths: every length"):
        F.temporal_pool_forward(rng.standard_normal((2, 1, 1)), np.array([3]), "mean")
