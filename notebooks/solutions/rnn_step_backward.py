def rnn_step_backward(dh, cache):
    """Gradients of one RNN step (see rnn_step_forward), given dh = dL/dh. Go back through the tanh first,
    to the pre-activation a; tanh' can be written with the output h, which the cache holds.

    Args:
        dh: (B, H) upstream gradient; do not modify it.
        cache: the tuple (x, h_prev, W_ih, W_hh, b_ih, b_hh, h) returned by rnn_step_forward.

    Returns:
        dict with keys "x" (B, I), "h_prev" (B, H), "W_ih" (H, I), "W_hh" (H, H), "b_ih" (H,), "b_hh" (H,).
    """
    x, h_prev, W_ih, W_hh, b_ih, b_hh, h = cache
    da = dh * (1 - h ** 2)                   # through tanh; a new array, dh is left alone
    return {"x": da @ W_ih,                  # (B, H) @ (H, I)
            "h_prev": da @ W_hh,             # the forward used W_hh.T, the backward uses W_hh
            "W_ih": da.T @ x,                # (H, B) @ (B, I): the shape of W_ih
            "W_hh": da.T @ h_prev,
            "b_ih": da.sum(axis=0),          # summed over the batch
            "b_hh": da.sum(axis=0)}

rnn_step_backward = exercises.check("rnn_step_backward", rnn_step_backward)
