r"""Vanilla (Elman) RNN: forward and backward through time, by hand.

Equations (PyTorch's ``nn.RNN``; ``act`` is tanh or relu)::

    a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh          (B, H)
    h_t = act(a_t)

Backward, with ``dh_t`` the total gradient reaching ``h_t`` (from the output at t and from t+1)::

    da_t      = dh_t * act'(a_t)      tanh' = 1 - h_t^2,  relu' = [h_t > 0]
    dh_{t-1}  = da_t W_hh             (the transpose of the forward's W_hh^T)
    dW_ih     = sum_t da_t^T x_t      dW_hh = sum_t da_t^T h_{t-1}
    db_ih     = db_hh = sum_t da_t    dx_t  = da_t W_ih

Shapes: ``x (T, B, I)``, ``h (B, H)``, ``W_ih (H, I)``, ``W_hh (H, H)``, ``b_ih, b_hh (H,)``.

The step functions are the equations above, line for line, for one time step. The sequence functions
are the same equations unrolled, with the work that does not depend on the recurrence taken out of
the loop: all T input projections are one ``(T*B, I) x (I, H)`` product before the loop, and each
weight gradient is one product over all T*B rows after the backward sweep.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import backend
from .._checks import check_shape
from ._sequence import SequenceCache, parameter_gradients, prepare_sequence, start_backward
from .workspace import allocator

NONLINEARITIES = ("tanh", "relu")


def _check_nonlinearity(nonlinearity):
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity: expected one of {NONLINEARITIES}, got {nonlinearity!r}")


# -- the textbook step --------------------------------------------------------------------------------
@dataclass
class RNNStepCache:
    """What one step keeps: its inputs, weights and output ``h`` (act' is computed from h)."""
    x: object
    h_prev: object
    W_ih: object
    W_hh: object
    h: object
    nonlinearity: str


def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh, nonlinearity="tanh"):
    """One step: ``a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh``, ``h = act(a)``.

    ``x (B, I)``, ``h_prev (B, H)``, ``W_ih (H, I)``, ``W_hh (H, H)``, ``b_ih, b_hh (H,)`` -> ``h (B, H)``, cache.
    """
    _check_nonlinearity(nonlinearity)
    xp = backend.array_module(x=x, h_prev=h_prev, W_ih=W_ih, W_hh=W_hh)
    check_shape("x", x, (h_prev.shape[0], W_ih.shape[1]))
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    h = xp.tanh(a) if nonlinearity == "tanh" else xp.maximum(a, 0)
    return h, RNNStepCache(x, h_prev, W_ih, W_hh, h, nonlinearity)


def rnn_step_backward(dh, cache):
    """Gradients of one step given ``dh (B, H)``: a dict with x, h_prev, W_ih, W_hh, b_ih, b_hh."""
    k = cache
    da = dh * (1 - k.h ** 2) if k.nonlinearity == "tanh" else dh * (k.h > 0)    # da = dh * act'(a)
    grads = parameter_gradients(da, da, k.x, k.h_prev, k.W_ih)   # dx = da W_ih, dW_ih = da^T x, dW_hh = da^T h_prev, db = sum da
    grads["h_prev"] = da @ k.W_hh                                # dh_{t-1} = da W_hh (W_hh, not its transpose)
    return grads


# -- the sequence: the same equations, fast ------------------------------------------------------------
def _activate_(a, nonlinearity, xp):
    """In place: ``a = act(a)``."""
    if nonlinearity == "tanh":
        return xp.tanh(a, out=a)
    return xp.maximum(a, 0, out=a)


def _activation_backward(dh, h, nonlinearity, out, xp):
    """``out = dh * act'(a)``, with the derivative written in terms of the output ``h = act(a)``."""
    if nonlinearity == "tanh":
        xp.multiply(h, h, out=out)          # h^2
        xp.subtract(1, out, out=out)        # 1 - h^2
        return xp.multiply(out, dh, out=out)
    return xp.multiply(dh, h > 0, out=out)


@dataclass
class RNNCache(SequenceCache):
    """:class:`~rnnscratch.functional._sequence.SequenceCache` plus the nonlinearity."""
    nonlinearity: str = "tanh"


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh, nonlinearity="tanh", lengths=None, workspace=None):
    """Run the RNN over a whole sequence.

    Args:
        x: ``(T, B, I)`` inputs.
        h0: ``(B, H)`` initial state, or None for zeros.
        W_ih, W_hh, b_ih, b_hh: parameters, ``W_ih (H, I)``, ``W_hh (H, H)``, ``b_ih (H,)``, ``b_hh (H,)``.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        lengths: optional ``(B,)`` true lengths of a padded batch. Past its end a sequence's state is
            carried unchanged and its output is zero (PyTorch's packed-sequence semantics).
        workspace: optional ``Workspace`` whose internal buffers are reused between calls.

    Returns:
        ``out (T, B, H)`` (all hidden states), ``h_n (B, H)`` (each sequence's last state), cache.
    """
    _check_nonlinearity(nonlinearity)
    xp, T, B, H, h0, _, mask = prepare_sequence(x, h0, W_ih, W_hh, b_ih, b_hh, 1, lengths)
    I = x.shape[2]
    # hs[0] = h0 and hs[t + 1] = h_t: the states the backward needs as "h_{t-1}" are then hs[:-1].
    hs = xp.empty((T + 1, B, H), dtype=x.dtype)
    hs[0] = h0
    # All T input projections at once, biases folded in: a_t = x_t W_ih^T + b_ih + b_hh (+ h part).
    x_proj = allocator(workspace, xp)("x_proj", (T, B, H), x.dtype)
    xp.matmul(x.reshape(T * B, I), W_ih.T, out=x_proj.reshape(T * B, H))
    x_proj += b_ih + b_hh
    W_hh_T = W_hh.T
    for t in range(T):
        a_t = xp.matmul(hs[t], W_hh_T, out=hs[t + 1])     # h_{t-1} W_hh^T, written where h_t goes
        a_t += x_proj[t]
        _activate_(a_t, nonlinearity, xp)                 # h_t = act(a_t), in place
        if mask is not None:                              # finished sequences keep their state
            xp.copyto(hs[t + 1], hs[t], where=~mask[t])
    out = hs[1:] if mask is None else xp.where(mask, hs[1:], 0)
    return out, hs[T], RNNCache(x, hs, W_ih, W_hh, mask, workspace, nonlinearity)


def rnn_backward(d_out, d_h_n, cache):
    """Backpropagation through time.

    Args:
        d_out: ``(T, B, H)`` gradient of the loss with respect to every output (None for zeros).
        d_h_n: ``(B, H)`` gradient with respect to the final state (None for zeros).
        cache: from :func:`rnn_forward`.

    Returns:
        dict of gradients: ``x (T, B, I)``, ``h0 (B, H)``, ``W_ih``, ``W_hh``, ``b_ih``, ``b_hh``.
    """
    hs, W_hh, mask = cache.hs, cache.W_hh, cache.mask
    xp, d_out, dh = start_backward(d_out, d_h_n, cache)          # dh: running dL/dh_t
    da = allocator(cache.workspace, xp)("da", hs[1:].shape, hs.dtype)      # dL/da_t for every step
    for t in reversed(range(len(da))):
        if d_out is not None:
            dh += d_out[t]
        _activation_backward(dh, hs[t + 1], cache.nonlinearity, da[t], xp)
        if mask is not None:                                    # padded step: the state was copied,
            da[t] *= mask[t]                                    # so no gradient enters the cell ...
        dh_prev = da[t] @ W_hh                                  # dh_{t-1} = da_t W_hh
        if mask is not None:
            xp.copyto(dh_prev, dh, where=~mask[t])              # ... and dh passes straight through
        dh = dh_prev
    grads = parameter_gradients(da, da, cache.x, hs[:-1], cache.W_ih)
    grads["h0"] = dh
    return grads
