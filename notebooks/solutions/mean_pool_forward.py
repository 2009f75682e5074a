def mean_pool_forward(h, lengths):
    """Mean over time of each sequence's valid steps only: p[b] = (1 / L_b) * sum over t < L_b of h[t, b].

    Args:
        h: (T, B, F) outputs of a padded batch; h[t, b] for t >= lengths[b] is padding with arbitrary values.
        lengths: (B,) ints in [1, T], the true length of each sequence.

    Returns:
        p: (B, F).
        cache: the tuple (h, lengths, p); mean_pool_backward receives it.
    """
    lengths = np.asarray(lengths)
    T = h.shape[0]
    mask = (np.arange(T)[:, None] < lengths[None, :])[:, :, None]     # (T, B, 1): True where t < L_b
    p = np.where(mask, h, 0.0).sum(axis=0) / lengths[:, None]         # padding never enters the sum
    cache = (h, lengths, p)
    return p, cache

mean_pool_forward = exercises.check("mean_pool_forward", mean_pool_forward)
