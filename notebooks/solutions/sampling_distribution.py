def sampling_distribution(logits, temperature=1.0, top_k=None):
    """The probabilities that generation samples the next token from (then: rng.choice(V, p=p)):

        keep only the top_k largest logits (when top_k is not None; ties at the cut-off are kept),
        giving the others probability 0, and
        p = softmax(kept logits / temperature)          (stable: shift by the maximum)

    temperature < 1 sharpens, > 1 flattens; temperature == 0 means greedy: p is one-hot at the argmax.

    Args:
        logits: (V,) floats.  temperature: a float >= 0.  top_k: an int in [1, V] or None.

    Returns:
        p: (V,) probabilities that sum to 1.
    """
    z = np.asarray(logits, dtype=np.float64)
    if top_k is not None:
        cutoff = np.sort(z)[-top_k]                       # the k-th largest logit
        z = np.where(z >= cutoff, z, -np.inf)             # the others get probability exp(-inf) = 0
    if temperature == 0:                                  # greedy: all the mass on the argmax
        p = np.zeros(len(z))
        p[np.argmax(z)] = 1.0
        return p
    z = z / temperature
    e = np.exp(z - z.max())
    return e / e.sum()


sampling_distribution = exercises.check("sampling_distribution", sampling_distribution)
