def rnn_backward(d_out, cache):
    """Backpropagation through time (see rnn_forward), from the last step to the first (your
    rnn_step_backward does each step). d_out[t] is the gradient from the loss at step t only; h_t also
    influenced every later step. The previous state of step 0 is h0.

    Args:
        d_out: (T, B, H) upstream gradient; do not modify it.
        cache: the tuple (x, h0, W_ih, W_hh, b_ih, b_hh, out) returned by rnn_forward.

    Returns:
        dict with keys "x" (T, B, I), "h0" (B, H), "W_ih" (H, I), "W_hh" (H, H), "b_ih" (H,), "b_hh" (H,).
    """
    x, h0, W_ih, W_hh, b_ih, b_hh, out = cache
    T = x.shape[0]
    grads = {"x": np.zeros_like(x), "W_ih": np.zeros_like(W_ih), "W_hh": np.zeros_like(W_hh),
             "b_ih": np.zeros_like(b_ih), "b_hh": np.zeros_like(b_hh)}
    dh_next = np.zeros_like(h0)                           # the gradient arriving from step t+1
    for t in reversed(range(T)):
        dh = d_out[t] + dh_next                           # both paths into h_t (a new array)
        h_prev = h0 if t == 0 else out[t - 1]
        step = rnn_step_backward(dh, (x[t], h_prev, W_ih, W_hh, b_ih, b_hh, out[t]))
        grads["x"][t] = step["x"]
        for name in ("W_ih", "W_hh", "b_ih", "b_hh"):
            grads[name] = grads[name] + step[name]        # shared weights: sum over the steps
        dh_next = step["h_prev"]
    grads["h0"] = dh_next
    return grads

rnn_backward = exercises.check("rnn_backward", rnn_backward)
