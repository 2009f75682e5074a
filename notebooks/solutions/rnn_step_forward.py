def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One step of a vanilla (tanh) RNN, PyTorch's nn.RNN:

        h = tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)

    Args:
        x: (B, I) inputs.  h_prev: (B, H) previous hidden state.
        W_ih: (H, I), W_hh: (H, H) -- PyTorch's layout (out, in).  b_ih, b_hh: (H,).

    Returns:
        h: (B, H) the new hidden state.
        cache: the tuple (x, h_prev, W_ih, W_hh, b_ih, b_hh, h) -- the inputs, then the output;
            rnn_step_backward receives it.
    """
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh      # (B, H) pre-activation
    h = np.tanh(a)
    cache = (x, h_prev, W_ih, W_hh, b_ih, b_hh, h)
    return h, cache

rnn_step_forward = exercises.check("rnn_step_forward", rnn_step_forward)
