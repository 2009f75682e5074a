def lstm_step_backward(dh, dc, cache):
    """Gradients of one LSTM step (see lstm_step_forward). Recompute i, f, g, o from the cached inputs.
    c reaches the loss two ways: directly (dc) and through h. Stack the four gate-gradient blocks in the
    order i, f, g, o, like the rows of the weights.

    Args:
        dh, dc: (B, H) upstream gradients at h and c; do not modify them.
        cache: the tuple (x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, h, c) returned by lstm_step_forward.

    Returns:
        dict with keys "x", "h_prev", "c_prev", "W_ih", "W_hh", "b_ih", "b_hh".
    """
    x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, h, c = cache
    H = h_prev.shape[1]
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh           # the forward's gates, recomputed
    i = 1 / (1 + np.exp(-a[:, :H]))
    f = 1 / (1 + np.exp(-a[:, H:2 * H]))
    g = np.tanh(a[:, 2 * H:3 * H])
    o = 1 / (1 + np.exp(-a[:, 3 * H:]))
    tanh_c = np.tanh(c)
    dc_total = dc + dh * o * (1 - tanh_c ** 2)                # c reaches the loss directly and through h
    da_i = dc_total * g * i * (1 - i)
    da_f = dc_total * c_prev * f * (1 - f)
    da_g = dc_total * i * (1 - g ** 2)
    da_o = dh * tanh_c * o * (1 - o)
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)    # (B, 4H), gate order i, f, g, o
    return {"x": da @ W_ih, "h_prev": da @ W_hh, "c_prev": dc_total * f,
            "W_ih": da.T @ x, "W_hh": da.T @ h_prev, "b_ih": da.sum(axis=0), "b_hh": da.sum(axis=0)}

lstm_step_backward = exercises.check("lstm_step_backward", lstm_step_backward)
