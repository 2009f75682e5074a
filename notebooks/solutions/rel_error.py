def rel_error(a, b):
    """The largest entry-wise relative error between two arrays of the same shape:

        max over entries of |a - b| / max(|a| + |b|, 1e-12)

    The floor keeps an entry that is 0 in both arrays from giving 0 / 0. Correct float64 gradients give
    about 1e-8 or less; a wrong one gives errors near 1.

    Args:
        a, b: arrays of the same shape.

    Returns:
        error: a float.
    """
    errors = np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)
    return float(errors.max())

rel_error = exercises.check("rel_error", rel_error)
