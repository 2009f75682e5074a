def dot_attention_backward(d_c, d_a, cache):
    """Gradients of dot-product attention (see dot_attention_forward), given upstream gradients at the
    context c and at the weights a. Backwards through the three stages:

        d_a[t, b, s] += d_c[t, b] . h[s, b]                                 context -> weights
        d_e = a * (d_a - sum_s a * d_a)        (sum over s, per (t, b))     masked softmax
        d_q[t, b] = sum_s d_e[t, b, s] h[s, b]                              scores -> queries
        d_h[s, b] = sum_t d_e[t, b, s] q[t, b]  +  sum_t a[t, b, s] d_c[t, b]
                    (h as the keys)                (h as the values)

    Use the cached weights a (zero at the padding): the padded positions then get no gradient.

    Args:
        d_c: (T, B, H), d_a: (T, B, S) upstream gradients; do not modify them.
        cache: the tuple (q, h, lengths, c, a) returned by dot_attention_forward.

    Returns:
        dict with keys "q" (T, B, H) and "h" (S, B, H).
    """
    q, h, lengths, c, a = cache
    d_a = d_a + np.einsum("tbh,sbh->tbs", d_c, h)                     # a new array: the caller's d_a is kept
    d_e = a * (d_a - (a * d_a).sum(axis=-1, keepdims=True))           # through the masked softmax
    d_q = np.einsum("tbs,sbh->tbh", d_e, h)
    d_h = np.einsum("tbs,tbh->sbh", d_e, q) + np.einsum("tbs,tbh->sbh", a, d_c)   # keys + values
    return {"q": d_q, "h": d_h}

dot_attention_backward = exercises.check("dot_attention_backward", dot_attention_backward)
