def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Run a vanilla tanh RNN over a sequence: h_t = tanh(x[t] @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh),
    starting from h_{-1} = h0. (Use your rnn_step_forward in a loop.)

    Args:
        x: (T, B, I) inputs, time first.  h0: (B, H) initial state.
        W_ih: (H, I), W_hh: (H, H), b_ih, b_hh: (H,).

    Returns:
        out: (T, B, H) every hidden state: out[t] = h_t (out[-1] is the final state).
        cache: the tuple (x, h0, W_ih, W_hh, b_ih, b_hh, out); rnn_backward receives it.
    """
    T = x.shape[0]
    h = h0
    states = []
    for t in range(T):
        h, _ = rnn_step_forward(x[t], h, W_ih, W_hh, b_ih, b_hh)   # h_t from x_t and h_{t-1}
        states.append(h)
    out = np.stack(states)                                          # (T, B, H)
    cache = (x, h0, W_ih, W_hh, b_ih, b_hh, out)
    return out, cache

rnn_forward = exercises.check("rnn_forward", rnn_forward)
