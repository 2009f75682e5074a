"""What the three recurrent cells share: argument checks, the length mask, in-place sigmoid.

Kept apart from the equations so that ``rnn.py``, ``lstm.py`` and ``gru.py`` read as math.
"""
from __future__ import annotations

from .. import backend
from .._checks import check_integer_array, check_same_float_dtype, check_shape


def sigmoid_(a, xp):
    """In place: ``a = sigmoid(a)``, written as ``0.5 * (1 + tanh(a / 2))``.

    The tanh form never overflows (``1 / (1 + exp(-a))`` warns for a < -88 in float32) and costs
    the same four element-wise passes.
    """
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def prepare_sequence(x, h0, W_ih, W_hh, b_ih, b_hh, num_gates, lengths=None, c0=None):
    """Validate a sequence call and return ``(xp, T, B, H, h0, c0, mask)``.

    Shapes: ``x (T, B, I)``, ``h0, c0 (B, H)`` or None (zeros), ``W_ih (G*H, I)``, ``W_hh (G*H, H)``,
    ``b_ih, b_hh (G*H,)`` with G = ``num_gates`` (1 RNN, 4 LSTM, 3 GRU), ``lengths (B,)`` ints in [1, T].
    ``mask`` is a ``(T, B, 1)`` bool array (True where step t is inside sequence b) or None when every
    sequence has the full length T, so the common case pays nothing for variable-length support.
    """
    xp = backend.array_module(x=x, h0=h0, c0=c0, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh, lengths=lengths)
    check_shape("W_hh", W_hh, (None, None))
    H = W_hh.shape[1]
    check_shape("W_hh", W_hh, (num_gates * H, H))
    check_shape("x", x, (None, None, None))
    T, B, I = x.shape
    if T < 1:
        raise ValueError(f"x: expected at least one time step, got shape {tuple(x.shape)}")
    check_shape("W_ih", W_ih, (num_gates * H, I))
    check_shape("b_ih", b_ih, (num_gates * H,))
    check_shape("b_hh", b_hh, (num_gates * H,))
    check_same_float_dtype(x=x, h0=h0, c0=c0, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh)
    if h0 is None:
        h0 = xp.zeros((B, H), dtype=x.dtype)
    check_shape("h0", h0, (B, H))
    if num_gates == 4:
        if c0 is None:
            c0 = xp.zeros((B, H), dtype=x.dtype)
        check_shape("c0", c0, (B, H))
    mask = None if lengths is None else length_mask(lengths, T, B, xp)
    return xp, T, B, H, h0, c0, mask


def length_mask(lengths, T, B, xp):
    """``(T, B, 1)`` bool mask, True where ``t < lengths[b]``; None when all lengths equal T."""
    check_shape("lengths", lengths, (B,))
    check_integer_array("lengths", lengths)
    host = backend.to_numpy(lengths)
    if host.min() < 1 or host.max() > T:
        bad = int(host.min()) if host.min() < 1 else int(host.max())
        raise ValueError(f"lengths: every length must be in [1, T={T}], got {bad}")
    if host.min() == T:
        return None
    lengths = xp.asarray(lengths)
    return (xp.arange(T)[:, None] < lengths[None, :])[:, :, None]


def masked_upstream(d_out, mask, xp):
    """Upstream gradient with padded steps zeroed (their outputs are constant zeros)."""
    if mask is None:
        return d_out
    return xp.where(mask, d_out, 0)


def final_state_gradient(name, d_state, like, xp):
    """A private, writable copy of the gradient arriving at the final state (zeros when None).

    The backward sweep accumulates into this buffer, so it must never be the caller's array.
    """
    if d_state is None:
        return xp.zeros_like(like)
    check_shape(name, d_state, like.shape)
    return d_state.copy()


def start_backward(d_out, d_final, name_final, cache):
    """Common prologue of a sequence backward: ``(xp, d_out, dh)``.

    ``d_out`` is checked and masked at padded steps; ``dh`` is a private copy of the final-state
    gradient that the sweep will accumulate into.
    """
    hs, mask = cache["hs"], cache["mask"]
    xp = backend.array_module(hs=hs, d_out=d_out, **{name_final: d_final})
    if d_out is not None:
        check_shape("d_out", d_out, hs[1:].shape)
        d_out = masked_upstream(d_out, mask, xp)
    return xp, d_out, final_state_gradient(name_final, d_final, hs[-1], xp)


def parameter_gradients(du, dv, x, h_prev, W_ih):
    """Every gradient that is a sum over time steps, one matrix product each, after the sweep.

    ``du (..., G*H)``: gradients of the input-side pre-activations ``x W_ih^T + b_ih`` at every step;
    ``dv``: those of the hidden-side ``h W_hh^T + b_hh`` (the same array for RNN and LSTM, where both
    sides enter one sum). ``x (..., I)`` and ``h_prev (..., H)`` are every step's inputs and previous
    states; ``...`` is ``(T, B)`` for a sequence or ``(B,)`` for one step. Returns x, W_ih, W_hh, b_ih, b_hh.
    """
    GH = du.shape[-1]
    du2, dv2 = du.reshape(-1, GH), dv.reshape(-1, GH)
    db_ih = du2.sum(axis=0)
    return {
        "x": (du2 @ W_ih).reshape(x.shape),                       # dx_t = du_t W_ih
        "W_ih": du2.T @ x.reshape(-1, x.shape[-1]),               # sum_t du_t^T x_t
        "W_hh": dv2.T @ h_prev.reshape(-1, h_prev.shape[-1]),     # sum_t dv_t^T h_{t-1}
        "b_ih": db_ih,
        "b_hh": db_ih.copy() if dv is du else dv2.sum(axis=0),
    }
