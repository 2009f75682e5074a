def max_pool_backward(d_p, cache):
    """Gradient of max_pool_forward with respect to h: which entries of h did each p[b, f] depend on?

    Args:
        d_p: (B, F) upstream gradient.
        cache: the tuple (h, lengths, p) returned by max_pool_forward.

    Returns:
        dict with key "h" (T, B, F).
    """
    h, lengths, p = cache
    lengths = np.asarray(lengths)
    T, B, F = h.shape
    mask = (np.arange(T)[:, None] < lengths[None, :])[:, :, None]
    winner = np.where(mask, h, -np.inf).argmax(axis=0)                # (B, F): the step t* of each max
    dh = np.zeros_like(h)
    dh[winner, np.arange(B)[:, None], np.arange(F)[None, :]] = d_p    # only the winner receives the gradient
    return {"h": dh}

max_pool_backward = exercises.check("max_pool_backward", max_pool_backward)
