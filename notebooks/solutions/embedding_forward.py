def embedding_forward(ids, W):
    """Embedding lookup: out[t, n] = W[ids[t, n]], one row of the table per token.

    Args:
        ids: (T, B) integer token ids.  W: (V, D) the table, one row per token.

    Returns:
        out: (T, B, D).
        cache: the tuple (ids, W, out); embedding_backward receives it.

    Raise IndexError for an id outside [0, V). NumPy raises for ids >= V by itself, but a negative id
    silently picks a row from the end of the table (and CuPy wraps every out-of-range index).
    """
    if (ids < 0).any() or (ids >= W.shape[0]).any():
        raise IndexError(f"token ids must lie in [0, {W.shape[0]})")
    out = W[ids]                                      # (T, B, D): one row per id
    cache = (ids, W, out)
    return out, cache

embedding_forward = exercises.check("embedding_forward", embedding_forward)
