def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step, PyTorch's nn.LSTM. The pre-activation a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    (B, 4H) splits into four (B, H) blocks in the order i, f, g, o:

        i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
        c = f * c_prev + i * g
        h = o * tanh(c)

    Args:
        x: (B, I).  h_prev, c_prev: (B, H).
        W_ih: (4H, I), W_hh: (4H, H), b_ih, b_hh: (4H,) -- PyTorch's layout, gate blocks i, f, g, o.

    Returns:
        h, c: (B, H) each.
        cache: the tuple (x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, h, c); lstm_step_backward receives it.
    """
    H = h_prev.shape[1]
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh          # (B, 4H)
    i = 1 / (1 + np.exp(-a[:, :H]))                          # input gate
    f = 1 / (1 + np.exp(-a[:, H:2 * H]))                     # forget gate
    g = np.tanh(a[:, 2 * H:3 * H])                           # candidate
    o = 1 / (1 + np.exp(-a[:, 3 * H:]))                      # output gate
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return h, c, (x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, h, c)

lstm_step_forward = exercises.check("lstm_step_forward", lstm_step_forward)
