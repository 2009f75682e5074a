def temporal_affine_backward(d_out, cache):
    """Gradients of temporal_affine_forward. W and b are used at every time step and every batch row.

    Args:
        d_out: (T, B, M) upstream gradient.
        cache: the tuple (x, W, b, out) returned by temporal_affine_forward.

    Returns:
        dict with keys "x" (T, B, D), "W" (M, D), "b" (M,).
    """
    x, W, b, out = cache
    T, B, D = x.shape
    M = W.shape[0]
    d_rows, x_rows = d_out.reshape(T * B, M), x.reshape(T * B, D)
    return {"x": (d_rows @ W).reshape(T, B, D),
            "W": d_rows.T @ x_rows,              # (M, T*B) @ (T*B, D): every step and row adds in
            "b": d_rows.sum(axis=0)}

temporal_affine_backward = exercises.check("temporal_affine_backward", temporal_affine_backward)
