def truncated_bptt_windows(T, k1, k2):
    """Truncated BPTT with the (k1, k2) schedule of Williams & Peng (1990): every k1 steps, update with
    gradients that flow back k2 >= k1 steps. Window i covers the new steps [loss_start, end) with
    loss_start = i * k1 and end = loss_start + k1 (at most T); its forward and backward start k2 - k1 steps
    earlier, at start = loss_start + k1 - k2 (at least 0). Every step is in exactly one window's loss.

        T=10, k1=2, k2=5:  (0, 0, 2), (0, 2, 4), (1, 4, 6), (3, 6, 8), (5, 8, 10)

    Args:
        T: sequence length.  k1: steps between updates.  k2: steps of backpropagation (k2 >= k1).

    Returns:
        windows: a list of (start, loss_start, end) tuples, in order.
    """
    windows = []
    for loss_start in range(0, T, k1):          # a last, shorter window when k1 does not divide T
        start = max(0, loss_start + k1 - k2)    # k2 - k1 steps of history before the new steps
        end = min(loss_start + k1, T)
        windows.append((start, loss_start, end))
    return windows

truncated_bptt_windows = exercises.check("truncated_bptt_windows", truncated_bptt_windows)
