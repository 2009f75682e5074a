def teacher_forcing_batch(targets, bos, eos, pad):
    """The two arrays a decoder trained with teacher forcing reads and learns, time-major like every
    sequence in this package. For a target y_1 ... y_n (token ids, without <bos>/<eos>):

        tgt_in  = <bos> y_1 ... y_n          what the decoder reads: the target shifted right
        tgt_out = y_1 ... y_n <eos>          what it must predict at each step

    so at step t the decoder reads y_{t-1} (the true previous token) and predicts y_t. Both have n + 1
    entries; T = the longest target + 1. Pad tgt_in with `pad` after each sequence's end, and tgt_out
    with IGNORE_INDEX = -100, the label no loss counts (a padded label must never be learned).

    Args:
        targets: a list of B lists of token ids (a list may be empty: then tgt_in = <bos>, tgt_out = <eos>).
        bos, eos, pad: the ids of <bos>, <eos> and the padding.

    Returns:
        tgt_in, tgt_out: (T, B) int arrays.
    """
    B = len(targets)
    T = max(len(t) for t in targets) + 1                  # every sequence gains <bos> (input) or <eos> (label)
    tgt_in = np.full((T, B), pad, dtype=np.int64)
    tgt_out = np.full((T, B), -100, dtype=np.int64)       # IGNORE_INDEX: no loss counts it
    for b, t in enumerate(targets):
        tgt_in[:len(t) + 1, b] = [bos] + list(t)          # shifted right: step t reads y_{t-1}
        tgt_out[:len(t) + 1, b] = list(t) + [eos]         # and predicts y_t, then <eos>
    return tgt_in, tgt_out

teacher_forcing_batch = exercises.check("teacher_forcing_batch", teacher_forcing_batch)
