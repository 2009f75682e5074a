def beam_search_step(scores, log_probs, eos, length, alpha):
    """One step of beam search of width k for B examples. Hypothesis j of example b has the raw score
    scores[b, j] (a sum of log probabilities; -inf marks an empty slot, as at the first step) and the
    next token's log probabilities log_probs[b, j, :]. Its extension by token v scores

        extended[b, j, v] = scores[b, j] + log_probs[b, j, v]

    Rank all k * V extensions of an example together, best first (ties: the lower j * V + v first,
    as argmax, e.g. numpy.argsort(-x, kind="stable")). Then

        * an extension by eos ranked among the best k ends hypothesis j:
          finished[b, j] = extended[b, j, eos] / length ** alpha     (-inf where j does not end here)
        * the best k extensions by a token other than eos stay live: new_scores holds their raw scores,
          parents the hypothesis j each extends, tokens its v; best first.

    Only finished scores are length-normalised; the live scores stay raw sums (the next step adds to them).
    (If fewer than k finite live extensions exist, fill the rest with parent 0, token eos, score -inf.)

    Args:
        scores: (B, k) float.  log_probs: (B, k, V) float.  eos: int, the end-of-sequence id.
        length: int, the extended hypotheses' length in tokens (eos included).  alpha: float >= 0.

    Returns:
        parents (B, k) ints in [0, k), tokens (B, k) ints, new_scores (B, k), finished (B, k).
    """
    B, k, V = log_probs.shape
    extended = (scores[:, :, None] + log_probs).reshape(B, k * V)     # all k * V extensions of each example
    parents = np.zeros((B, k), dtype=np.int64)
    tokens = np.full((B, k), eos, dtype=np.int64)
    new_scores = np.full((B, k), -np.inf)
    finished = np.full((B, k), -np.inf)
    for b in range(B):
        order = np.argsort(-extended[b], kind="stable")                # best first; ties: lower index
        kept = 0
        for rank, i in enumerate(order):
            score, j, v = extended[b, i], i // V, i % V
            if score == -np.inf or kept == k:
                break
            if v == eos:
                if rank < k:                                           # an <eos> among the k best: it ends
                    finished[b, j] = score / length ** alpha
            else:
                parents[b, kept], tokens[b, kept], new_scores[b, kept] = j, v, score
                kept += 1
    return parents, tokens, new_scores, finished

beam_search_step = exercises.check("beam_search_step", beam_search_step)
