def clip_grad_value(grads, clip_value):
    """Gradient clipping by value (min-char-rnn's np.clip): every entry of every array is clamped into
    [-clip_value, clip_value].

    Args:
        grads: a list of gradient arrays; do not modify them.  clip_value: a positive float.

    Returns:
        grads: a new list of clipped arrays.
    """
    return [np.clip(g, -clip_value, clip_value) for g in grads]


clip_grad_value = exercises.check("clip_grad_value", clip_grad_value)
