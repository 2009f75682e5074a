def gru_step_backward(dh, cache):
    """Gradients of one GRU step (see gru_step_forward). Recompute r, z, n and v_n = h_prev @ W_hn.T + b_hn
    from the cached inputs. h_prev reaches h two ways: directly (through z) and through the three hidden
    projections. The input side u and the hidden side v differ only in the candidate block, where r
    multiplied v_n; stack the blocks in the order r, z, n, like the rows of the weights.

    Args:
        dh: (B, H) upstream gradient; do not modify it.
        cache: the tuple (x, h_prev, W_ih, W_hh, b_ih, b_hh, h) returned by gru_step_forward.

    Returns:
        dict with keys "x", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh".
    """
    x, h_prev, W_ih, W_hh, b_ih, b_hh, h = cache
    H = h_prev.shape[1]
    u = x @ W_ih.T + b_ih                                    # the forward, recomputed
    v = h_prev @ W_hh.T + b_hh
    r = 1 / (1 + np.exp(-(u[:, :H] + v[:, :H])))
    z = 1 / (1 + np.exp(-(u[:, H:2 * H] + v[:, H:2 * H])))
    v_n = v[:, 2 * H:]
    n = np.tanh(u[:, 2 * H:] + r * v_n)
    dn = dh * (1 - z)                                        # h = (1 - z) * n + z * h_prev
    dz = dh * (h_prev - n)
    du_n = dn * (1 - n ** 2)                                 # through tanh
    dv_n = du_n * r                                          # r multiplied the hidden side of the candidate
    du_r = du_n * v_n * r * (1 - r)                          # = dv_r
    du_z = dz * z * (1 - z)                                  # = dv_z
    du = np.concatenate([du_r, du_z, du_n], axis=1)          # (B, 3H), gate order r, z, n
    dv = np.concatenate([du_r, du_z, dv_n], axis=1)
    return {"x": du @ W_ih, "h_prev": dh * z + dv @ W_hh,
            "W_ih": du.T @ x, "W_hh": dv.T @ h_prev, "b_ih": du.sum(axis=0), "b_hh": dv.sum(axis=0)}

gru_step_backward = exercises.check("gru_step_backward", gru_step_backward)
