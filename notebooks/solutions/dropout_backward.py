def dropout_backward(d_out, cache):
    """Gradient of dropout_forward: the same mask, scale included, multiplies the upstream gradient.

    Args:
        d_out: upstream gradient, shaped like x; do not modify it.
        cache: the tuple (x, p, u, out) returned by dropout_forward.

    Returns:
        dict with key "x".
    """
    x, p, u, out = cache
    mask = (u >= p) / (1.0 - p)          # the forward's mask, rebuilt from the same draws
    return {"x": d_out * mask}           # a new array: the caller's d_out is left as it was

dropout_backward = exercises.check("dropout_backward", dropout_backward)
