def dropout_forward(x, p, u):
    """Inverted dropout in training mode: drop each entry with probability p and scale the kept ones by
    1 / (1 - p), so that the expected output equals x (and evaluation needs no rescaling).

    The random draws are given, so the result is deterministic: entry k is kept when u[k] >= p.

    Args:
        x: array of any shape.  p: drop probability in [0, 1).  u: uniform draws in [0, 1), shaped like x.

    Returns:
        out: like x.
        cache: the tuple (x, p, u, out); dropout_backward receives it.
    """
    mask = (u >= p) / (1.0 - p)          # kept with probability 1 - p, scaled so that E[out] = x
    out = x * mask
    cache = (x, p, u, out)
    return out, cache

dropout_forward = exercises.check("dropout_forward", dropout_forward)
