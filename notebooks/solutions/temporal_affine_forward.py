def temporal_affine_forward(x, W, b):
    """An affine map applied at every time step (and every batch row): out[t, n] = x[t, n] @ W.T + b.
    (Reshape x to (T*B, D), one matrix product, reshape back.)

    Args:
        x: (T, B, D) inputs.  W: (M, D) -- PyTorch's Linear layout (out, in).  b: (M,).

    Returns:
        out: (T, B, M).
        cache: the tuple (x, W, b, out); temporal_affine_backward receives it.
    """
    T, B, D = x.shape
    out = (x.reshape(T * B, D) @ W.T + b).reshape(T, B, W.shape[0])
    cache = (x, W, b, out)
    return out, cache

temporal_affine_forward = exercises.check("temporal_affine_forward", temporal_affine_forward)
