def masked_softmax_backward(d_a, cache):
    """Gradient of the masked softmax (see masked_softmax_forward) with respect to the scores. For each
    (t, b) the softmax's Jacobian gives

        d_e[t, b, s] = a[t, b, s] * (d_a[t, b, s] - sum_r a[t, b, r] * d_a[t, b, r])

    Use the weights a from the cache: they are 0 at the padding, so the padded scores get exactly zero
    gradient (they did not influence anything).

    Args:
        d_a: (T, B, S) upstream gradient at the weights; do not modify it.
        cache: the tuple (e, lengths, a) returned by masked_softmax_forward.

    Returns:
        dict with key "e": (T, B, S).
    """
    e, lengths, a = cache
    weighted = (a * d_a).sum(axis=-1, keepdims=True)                  # sum_r a_r d_a_r for each (t, b)
    return {"e": a * (d_a - weighted)}                                # zero wherever a is: the padding

masked_softmax_backward = exercises.check("masked_softmax_backward", masked_softmax_backward)
