def temporal_softmax_loss(logits, targets, ignore_index=-100):
    """Softmax cross-entropy at every time step of a padded batch, averaged over the counted targets
    (PyTorch's reduction="mean"): a target equal to ignore_index (padding) adds nothing to the loss and
    gets a zero gradient.

        log_p = log_softmax(logits)            (stable: shift by the row maximum)
        loss  = -(1 / N) * sum of log_p[t, b, targets[t, b]] over counted (t, b),   N = number counted

    Args:
        logits: (T, B, V) scores.  targets: (T, B) ints in [0, V), or ignore_index.
        ignore_index: the target value that is not counted (PyTorch's default -100; 0 when id 0 is padding).

    Returns:
        loss: a float (nats per counted target).  d_logits: (T, B, V), the gradient of loss with respect
        to logits.
    """
    T, B, V = logits.shape
    z = logits.reshape(T * B, V)
    y = targets.reshape(T * B)
    counted = y != ignore_index                       # (T*B,) the positions that are not padding
    N = counted.sum()
    if N == 0:
        return 0.0, np.zeros_like(logits)
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(T * B)
    safe_y = np.where(counted, y, 0)                  # any valid index; these rows are masked out below
    loss = -(log_p[rows, safe_y] * counted).sum() / N
    d = np.exp(log_p)                                 # p
    d[rows, safe_y] -= 1.0                            # p - one_hot(y)
    d *= counted[:, None] / N                         # padding rows get 0, the others 1 / N
    return float(loss), d.reshape(T, B, V)

temporal_softmax_loss = exercises.check("temporal_softmax_loss", temporal_softmax_loss)
