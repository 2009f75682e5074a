def clip_grad_norm(grads, max_norm):
    """Gradient clipping by global norm (PyTorch's clip_grad_norm_, which min-char-rnn's successors use):

        total_norm = sqrt(sum over every array g in grads of sum(g ** 2))     (ONE norm for all of them)
        if total_norm > max_norm: every array is multiplied by max_norm / total_norm

    (PyTorch divides by total_norm + 1e-6; either passes.)

    Args:
        grads: a list of gradient arrays (different shapes); do not modify them.
        max_norm: a positive float.

    Returns:
        grads: a new list of arrays (the clipped gradients).
        total_norm: the global norm before clipping (a float, for logging).
    """
    total_norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
    scale = min(1.0, max_norm / (total_norm + 1e-6))
    return [g * scale for g in grads], total_norm


clip_grad_norm = exercises.check("clip_grad_norm", clip_grad_norm)
