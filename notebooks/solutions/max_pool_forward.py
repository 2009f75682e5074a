def max_pool_forward(h, lengths):
    """Max over time of each sequence's valid steps only, feature by feature: p[b, f] = max over t < L_b of h[t, b, f].
    Padding must never win, even when every valid value is negative.

    Args:
        h: (T, B, F) outputs of a padded batch; h[t, b] for t >= lengths[b] is padding with arbitrary values.
        lengths: (B,) ints in [1, T], the true length of each sequence.

    Returns:
        p: (B, F).
        cache: the tuple (h, lengths, p); max_pool_backward receives it.
    """
    lengths = np.asarray(lengths)
    T = h.shape[0]
    mask = (np.arange(T)[:, None] < lengths[None, :])[:, :, None]     # (T, B, 1): True where t < L_b
    p = np.where(mask, h, -np.inf).max(axis=0)                        # padding is -inf: it can never win
    cache = (h, lengths, p)
    return p, cache

max_pool_forward = exercises.check("max_pool_forward", max_pool_forward)
