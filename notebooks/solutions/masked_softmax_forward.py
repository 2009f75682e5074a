def masked_softmax_forward(e, lengths):
    """Attention weights from scores: a softmax over the source positions s < lengths[b] of each (t, b);
    a padded position s >= lengths[b] gets weight exactly 0, whatever its score holds.

        a[t, b, s] = exp(e[t, b, s] - m) / sum_{r < L_b} exp(e[t, b, r] - m)   for s < L_b,   0 otherwise

    with m the largest score over the real positions (the shift cancels, and exp cannot overflow).
    Replace the padded scores by -inf before the softmax: exp(-inf) = 0.

    Args:
        e: (T, B, S) scores; e[:, b, s] for s >= lengths[b] is padding with arbitrary values.
        lengths: (B,) ints in [1, S], the true length of each source.

    Returns:
        a: (T, B, S); every a[t, b, :] sums to 1.
        cache: the tuple (e, lengths, a); masked_softmax_backward receives it.
    """
    T, B, S = e.shape
    real = np.arange(S)[None, :] < np.asarray(lengths)[:, None]       # (B, S): True at the real positions
    z = np.where(real[None], e, -np.inf)                              # padding: exp(-inf) = 0
    z = z - z.max(axis=-1, keepdims=True)                             # the max of the real scores
    p = np.exp(z)
    a = p / p.sum(axis=-1, keepdims=True)
    return a, (e, lengths, a)

masked_softmax_forward = exercises.check("masked_softmax_forward", masked_softmax_forward)
