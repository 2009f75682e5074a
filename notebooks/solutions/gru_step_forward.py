def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One GRU step, PyTorch's nn.GRU. Each weight and bias splits into three H-row blocks in the order r, z, n;
    write u = x @ W_ih.T + b_ih and v = h_prev @ W_hh.T + b_hh (B, 3H) and split both:

        r = sigmoid(u_r + v_r)          reset gate
        z = sigmoid(u_z + v_z)          update gate
        n = tanh(u_n + r * v_n)         candidate: r multiplies the whole (h_prev @ W_hn.T + b_hn), bias included
        h = (1 - z) * n + z * h_prev

    Args:
        x: (B, I).  h_prev: (B, H).  W_ih: (3H, I), W_hh: (3H, H), b_ih, b_hh: (3H,).

    Returns:
        h: (B, H).
        cache: the tuple (x, h_prev, W_ih, W_hh, b_ih, b_hh, h); gru_step_backward receives it.
    """
    H = h_prev.shape[1]
    u = x @ W_ih.T + b_ih                                    # input side  (B, 3H)
    v = h_prev @ W_hh.T + b_hh                               # hidden side (B, 3H)
    r = 1 / (1 + np.exp(-(u[:, :H] + v[:, :H])))             # reset gate
    z = 1 / (1 + np.exp(-(u[:, H:2 * H] + v[:, H:2 * H])))   # update gate
    n = np.tanh(u[:, 2 * H:] + r * v[:, 2 * H:])             # candidate
    h = (1 - z) * n + z * h_prev
    return h, (x, h_prev, W_ih, W_hh, b_ih, b_hh, h)

gru_step_forward = exercises.check("gru_step_forward", gru_step_forward)
