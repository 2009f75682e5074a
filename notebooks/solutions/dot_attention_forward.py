def dot_attention_forward(q, h, lengths):
    """Dot-product attention (Luong et al. 2015): the decoder's outputs q attend to the encoder's outputs h,
    which serve as both the keys and the values. For each target step t and example b:

        e[t, b, s] = q[t, b] . h[s, b]                                   scores       (T, B, S)
        a[t, b, :] = softmax of e[t, b, :] over s < lengths[b], 0 at the padding     (T, B, S)
        c[t, b]    = sum_s a[t, b, s] * h[s, b]                          context      (T, B, H)

    (the masked softmax of masked_softmax_forward; no 1/sqrt(H) scaling: that is the Transformer's score).
    numpy.einsum("tbh,sbh->tbs", q, h) computes e; or go batch-major and use batched matrix products.

    Args:
        q: (T, B, H) queries.  h: (S, B, H) encoder outputs; h[s, b] for s >= lengths[b] is padding.
        lengths: (B,) ints in [1, S].

    Returns:
        c: (T, B, H).  a: (T, B, S).
        cache: the tuple (q, h, lengths, c, a); dot_attention_backward receives it.
    """
    S = h.shape[0]
    e = np.einsum("tbh,sbh->tbs", q, h)                               # scores
    real = np.arange(S)[None, :] < np.asarray(lengths)[:, None]       # (B, S)
    z = np.where(real[None], e, -np.inf)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    a = z / z.sum(axis=-1, keepdims=True)                             # weights, 0 at the padding
    c = np.einsum("tbs,sbh->tbh", a, h)                               # context
    return c, a, (q, h, lengths, c, a)

dot_attention_forward = exercises.check("dot_attention_forward", dot_attention_forward)
