r"""Losses that return their own gradient: ``loss, d_logits = f(logits, targets)``.

Both are computed from log-sum-exp / softplus forms that stay finite for logits of any magnitude.
"""
from __future__ import annotations

from .. import backend
from .._checks import check_integer_array, check_shape
from .activations import log_softmax

REDUCTIONS = ("mean", "sum")
IGNORE_INDEX = -100
"""The target value that no loss counts (padding), PyTorch's default ``ignore_index``."""


def _check_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction: expected one of {REDUCTIONS}, got {reduction!r}")


def softmax_cross_entropy(logits, targets, ignore_index=IGNORE_INDEX, reduction="mean"):
    r"""Softmax cross-entropy over classes, with padding targets ignored.

    .. math::
        \log p_{n,c} = z_{n,c} - \max_k z_{n,k} - \log \sum_k e^{z_{n,k} - \max_k z_{n,k}}

        L = -\frac{1}{|\{n: y_n \ne \text{ignore}\}|} \sum_{n: y_n \ne \text{ignore}} \log p_{n, y_n},
        \qquad \frac{\partial L}{\partial z_{n,c}} = \frac{p_{n,c} - [c = y_n]}{\text{count}}

    Args:
        logits: ``(N, C)`` floats.  targets: ``(N,)`` ints in ``[0, C)`` or equal to ``ignore_index``.
        reduction: ``"mean"`` over counted targets (PyTorch's default) or ``"sum"``.

    Returns:
        ``(loss, d_logits)``: a Python float and an ``(N, C)`` array. When every target is ignored the
        loss is 0.0 with a zero gradient (PyTorch returns nan; a batch of pure padding should not kill
        a training run).
    """
    _check_reduction(reduction)
    xp = backend.array_module(logits=logits, targets=targets)
    check_shape("logits", logits, (None, None))
    N, C = logits.shape
    check_shape("targets", targets, (N,))
    check_integer_array("targets", targets)
    counted = targets != ignore_index
    # Validate here: CuPy would wrap an out-of-range target around instead of raising.
    out_of_range = counted & ((targets < 0) | (targets >= C))
    if bool(out_of_range.any()):
        n = int(xp.argmax(out_of_range))
        raise IndexError(f"targets: targets[{n}] = {int(targets[n])} is outside [0, {C - 1}] "
                         f"and is not ignore_index={ignore_index}")
    count = int(counted.sum())
    if count == 0:
        return 0.0, xp.zeros_like(logits)
    log_probs = log_softmax(logits, axis=1)
    rows = xp.arange(N)
    safe_targets = xp.where(counted, targets, 0)
    picked = log_probs[rows, safe_targets] * counted
    scale = 1.0 / count if reduction == "mean" else 1.0
    loss = -float(picked.sum()) * scale
    d_logits = xp.exp(log_probs)
    d_logits[rows, safe_targets] -= 1.0
    d_logits *= (counted * scale)[:, None].astype(logits.dtype)
    return loss, d_logits


def sequence_cross_entropy(logits, targets, ignore_index=IGNORE_INDEX, reduction="mean"):
    """:func:`softmax_cross_entropy` at every step of a sequence: ``logits (T, B, C)``, ``targets (T, B)``.

    The mean is over every counted (non-``ignore_index``) step of every sequence, so padding weighs
    nothing. Returns ``(loss, d_logits (T, B, C))``.
    """
    check_shape("logits", logits, (None, None, None))
    T, B, C = logits.shape
    check_shape("targets", targets, (T, B))
    loss, d_logits = softmax_cross_entropy(logits.reshape(T * B, C), targets.reshape(T * B), ignore_index, reduction)
    return loss, d_logits.reshape(T, B, C)


def binary_cross_entropy_with_logits(logits, targets, reduction="mean"):
    r"""Sigmoid + binary cross-entropy in one stable expression.

    .. math::
        \ell = \max(z, 0) - z y + \log(1 + e^{-|z|}), \qquad \partial\ell/\partial z = \sigma(z) - y

    ``logits`` and ``targets`` (floats in [0, 1]) have the same shape; the mean is over all entries.
    Returns ``(loss, d_logits)``.
    """
    _check_reduction(reduction)
    xp = backend.array_module(logits=logits, targets=targets)
    check_shape("targets", targets, logits.shape)
    targets = targets.astype(logits.dtype, copy=False)
    losses = xp.maximum(logits, 0) - logits * targets + xp.log1p(xp.exp(-xp.abs(logits)))
    scale = 1.0 / logits.size if reduction == "mean" else 1.0
    sigmoid = 0.5 * (1.0 + xp.tanh(0.5 * logits))
    return float(losses.sum()) * scale, (sigmoid - targets) * logits.dtype.type(scale)
