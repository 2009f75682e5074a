def embedding_backward(d_out, cache):
    """Gradient of embedding_forward with respect to the table W. A token that appears several times in
    the batch receives the contribution of every occurrence.

    Args:
        d_out: (T, B, D) upstream gradient.
        cache: the tuple (ids, W, out) returned by embedding_forward.

    Returns:
        dict with key "W" (V, D) (ids are integers: no gradient).
    """
    ids, W, out = cache
    dW = np.zeros_like(W)
    np.add.at(dW, ids, d_out)       # unbuffered: a repeated id adds every one of its rows
    return {"W": dW}

embedding_backward = exercises.check("embedding_backward", embedding_backward)
