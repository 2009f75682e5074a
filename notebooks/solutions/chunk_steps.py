def chunk_steps(lengths, k):
    """Truncated BPTT for a many-to-one model cuts a padded batch into chunks of k steps; chunk c covers the
    steps [c k, c k + k). Sequence b (of true length L_b) has

        steps[c, b] = min(max(L_b - c k, 0), k)

    steps in chunk c: k in full chunks, fewer in its last one, 0 once it has ended (then it sits out the
    chunk's update). There are C = ceil(max_b L_b / k) chunks: the last one is the longest sequence's.

        lengths = [5, 2, 4], k = 2:  steps = [[2, 2, 2], [2, 0, 2], [1, 0, 0]]

    Args:
        lengths: (B,) ints >= 1.  k: the chunk length, an int >= 1.

    Returns:
        steps: (C, B) ints.
    """
    L = np.asarray(lengths)
    C = -(-int(L.max()) // k)                          # ceil(max L / k) without floats
    starts = np.arange(C)[:, None] * k                 # (C, 1): the first step of each chunk
    return np.clip(L[None, :] - starts, 0, k)          # steps left after the start, at most k, at least 0

chunk_steps = exercises.check("chunk_steps", chunk_steps)
