def mean_pool_backward(d_p, cache):
    """Gradient of mean_pool_forward with respect to h (padded steps included: what do they receive?).

    Args:
        d_p: (B, F) upstream gradient.
        cache: the tuple (h, lengths, p) returned by mean_pool_forward.

    Returns:
        dict with key "h" (T, B, F).
    """
    h, lengths, p = cache
    lengths = np.asarray(lengths)
    T = h.shape[0]
    mask = (np.arange(T)[:, None] < lengths[None, :])[:, :, None]     # (T, B, 1)
    share = d_p / lengths[:, None]                                    # each valid step: d_p[b] / L_b
    dh = np.where(mask, share[None], 0.0)                             # padded steps: exactly zero
    return {"h": dh}

mean_pool_backward = exercises.check("mean_pool_backward", mean_pool_backward)
