r"""LSTM: forward and backward through time, by hand, with PyTorch's gate order (i, f, g, o).

Equations (PyTorch's ``nn.LSTM``; ``a_t`` is split into four ``(B, H)`` blocks in the order i, f, g, o)::

    a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh           (B, 4H)
    i_t = sigmoid(a_i)    input gate
    f_t = sigmoid(a_f)    forget gate
    g_t = tanh(a_g)       candidate cell
    o_t = sigmoid(a_o)    output gate
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

Backward, with ``dh_t`` the total gradient reaching ``h_t`` and ``dc_t`` the one reaching ``c_t`` from t+1::

    dc_t     += dh_t * o_t * (1 - tanh(c_t)^2)
    da_o      = dh_t * tanh(c_t) * o_t (1 - o_t)
    da_i      = dc_t * g_t * i_t (1 - i_t)
    da_f      = dc_t * c_{t-1} * f_t (1 - f_t)
    da_g      = dc_t * i_t * (1 - g_t^2)
    dc_{t-1}  = dc_t * f_t
    dh_{t-1}  = da_t W_hh
    dW_ih = sum_t da_t^T x_t,  dW_hh = sum_t da_t^T h_{t-1},  db_ih = db_hh = sum_t da_t,  dx_t = da_t W_ih

Shapes: ``x (T, B, I)``, ``h, c (B, H)``, ``W_ih (4H, I)``, ``W_hh (4H, H)``, ``b_ih, b_hh (4H,)``.

:func:`lstm_step_forward` and :func:`lstm_step_backward` are these equations line for line, for one
step. The sequence functions compute the same thing fast: everything that does not depend on the
recurrence leaves the loop (one GEMM for all input projections before it, one GEMM per weight
gradient after the backward sweep), the element-wise work runs in place into preallocated
``(T, ...)`` buffers (:func:`lstm_pointwise_forward` / :func:`lstm_pointwise_backward`), and gates are
stored gate-major, ``(T, 4, B, H)``, so each gate is a contiguous ``(B, H)`` block.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import backend
from .._checks import check_shape
from ._sequence import SequenceCache, final_state_gradient, parameter_gradients, prepare_sequence, start_backward
from .activations import sigmoid, sigmoid_
from .workspace import allocator


# -- the textbook step --------------------------------------------------------------------------------
@dataclass
class LSTMStepCache:
    """What one step keeps: inputs, weights, the four activated gates and the new cell state."""
    x: object
    h_prev: object
    c_prev: object
    W_ih: object
    W_hh: object
    i: object
    f: object
    g: object
    o: object
    c: object


def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step, the equations line for line.

    ``x (B, I)``, ``h_prev, c_prev (B, H)``, ``W_ih (4H, I)``, ``W_hh (4H, H)``, ``b_ih, b_hh (4H,)``
    -> ``h, c (B, H)``, cache.
    """
    xp = backend.array_module(x=x, h_prev=h_prev, c_prev=c_prev, W_ih=W_ih, W_hh=W_hh)
    check_shape("x", x, (h_prev.shape[0], W_ih.shape[1]))
    check_shape("c_prev", c_prev, h_prev.shape)
    H = h_prev.shape[1]
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh                          # (B, 4H)
    a_i, a_f, a_g, a_o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    i = sigmoid(a_i)                                                         # input gate
    f = sigmoid(a_f)                                                         # forget gate
    g = xp.tanh(a_g)                                                         # candidate cell
    o = sigmoid(a_o)                                                         # output gate
    c = f * c_prev + i * g
    h = o * xp.tanh(c)
    return h, c, LSTMStepCache(x, h_prev, c_prev, W_ih, W_hh, i, f, g, o, c)


def lstm_step_backward(dh, dc, cache):
    """Gradients of one step from ``dh, dc (B, H)`` (``dc`` may be None: no gradient reaches ``c``).

    Returns a dict with x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh.
    """
    k = cache
    xp = backend.array_module(dh=dh, dc=dc, c=k.c)
    tanh_c = xp.tanh(k.c)
    dc = (0 if dc is None else dc) + dh * k.o * (1 - tanh_c ** 2)
    da_o = dh * tanh_c * k.o * (1 - k.o)
    da_i = dc * k.g * k.i * (1 - k.i)
    da_f = dc * k.c_prev * k.f * (1 - k.f)
    da_g = dc * k.i * (1 - k.g ** 2)
    da = xp.concatenate([da_i, da_f, da_g, da_o], axis=1)                  # (B, 4H), gate order i, f, g, o
    grads = parameter_gradients(da, da, k.x, k.h_prev, k.W_ih)               # dx = da W_ih, dW_ih = da^T x, ...
    grads["h_prev"] = da @ k.W_hh                                           # dh_{t-1} = da W_hh
    grads["c_prev"] = dc * k.f                                              # dc_{t-1} = dc * f
    return grads


# -- the sequence: the same equations, fast ------------------------------------------------------------
def lstm_pointwise_forward(gates, c_prev, c, tanh_c, h, xp):
    """The gate non-linearities and the state update for one step, all in place.

    ``gates (4, B, H)`` holds the pre-activations ``[a_i, a_f, a_g, a_o]`` on entry and the activated
    gates ``[i, f, g, o]`` on exit; ``c``, ``tanh_c`` and ``h`` ``(B, H)`` are output buffers.
    Gate-major storage makes every gate one contiguous block: element-wise calls on a contiguous
    ``(B, H)`` array cost about a third of the same call on a column slice of a ``(B, 4H)`` array.
    """
    sigmoid_(gates[:2], xp)                       # i, f
    xp.tanh(gates[2], out=gates[2])               # g
    sigmoid_(gates[3], xp)                        # o
    i, f, g, o = gates
    xp.multiply(f, c_prev, out=c)                 # c_t = f * c_{t-1}
    xp.multiply(i, g, out=h)                      #       (h used as scratch for i * g)
    c += h                                        #     + i * g
    xp.tanh(c, out=tanh_c)
    xp.multiply(o, tanh_c, out=h)                 # h_t = o * tanh(c_t)


def lstm_pointwise_backward(dh, dc, gates, c_prev, tanh_c, da, dc_prev, xp):
    """One step of the element-wise backward, gate-major like the forward.

    ``dh (B, H)``: total gradient at h_t.  ``dc (B, H)``: gradient at c_t arriving from step t+1.
    ``gates (4, B, H)``: the activated ``[i, f, g, o]``.  Writes ``da (4, B, H)`` (gradients of the
    pre-activations) and ``dc_prev (B, H)`` (= dc_{t-1}). Neither ``dh`` nor ``dc`` is modified.
    """
    i, f, g, o = gates
    da_i, da_f, da_g, da_o = da
    dc_t = dc_prev                                # dc_prev's buffer holds dc_t until the last line
    # dc_t = dc + dh * o * (1 - tanh(c)^2)
    xp.multiply(tanh_c, tanh_c, out=dc_t)
    xp.subtract(1, dc_t, out=dc_t)
    dc_t *= o
    dc_t *= dh
    dc_t += dc
    # da_o = dh * tanh(c) * o * (1 - o)
    xp.multiply(dh, tanh_c, out=da_o)
    _times_sigmoid_derivative_(da_o, o, da_g, xp)
    # da_i = dc * g * i * (1 - i)
    xp.multiply(dc_t, g, out=da_i)
    _times_sigmoid_derivative_(da_i, i, da_g, xp)
    # da_f = dc * c_{t-1} * f * (1 - f)
    xp.multiply(dc_t, c_prev, out=da_f)
    _times_sigmoid_derivative_(da_f, f, da_g, xp)
    # da_g = dc * i * (1 - g^2)
    xp.multiply(g, g, out=da_g)
    xp.subtract(1, da_g, out=da_g)
    da_g *= i
    da_g *= dc_t
    # dc_{t-1} = dc * f
    dc_t *= f


def _times_sigmoid_derivative_(d, s, scratch, xp):
    """In place: ``d *= s * (1 - s)`` where ``s = sigmoid(a)``, i.e. ``d * s - (d * s) * s``."""
    d *= s
    xp.multiply(d, s, out=scratch)
    d -= scratch


def to_gate_major(a, out, xp):
    """Copy ``(B, 4H)`` rows into ``out``, ``(4, B, H)`` gate blocks."""
    B, G4 = a.shape
    xp.copyto(out, a.reshape(B, 4, G4 // 4).transpose(1, 0, 2))


def to_rows(da, out, xp):
    """Copy ``(4, B, H)`` gate blocks into ``out``, ``(B, 4H)`` rows (the layout the weight GEMMs need)."""
    _, B, H = da.shape
    xp.copyto(out.reshape(B, 4, H), da.transpose(1, 0, 2))


@dataclass
class LSTMCache(SequenceCache):
    """:class:`~rnnscratch.functional._sequence.SequenceCache` plus ``cs (T+1, B, H)`` (cs[0] = c0),
    ``tanh_cs (T, B, H)`` and the activated gates, gate-major ``(T, 4, B, H)`` = [i, f, g, o]."""
    cs: object = None
    tanh_cs: object = None
    gates: object = None


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh, lengths=None, workspace=None):
    """Run the LSTM over a whole sequence.

    Args:
        x: ``(T, B, I)``.
        h0, c0: ``(B, H)`` initial states, or None for zeros.
        W_ih, W_hh, b_ih, b_hh: parameters, ``W_ih (4H, I)``, ``W_hh (4H, H)``, ``b_ih, b_hh (4H,)``, gate order
            i, f, g, o.
        lengths: optional ``(B,)`` true lengths; past its end a sequence's (h, c) are carried
            unchanged and its output is zero, as with PyTorch's packed sequences.
        workspace: optional :class:`~rnnscratch.functional.workspace.Workspace` whose internal buffers
            are reused (the cache is then valid until the next call with the same workspace).

    Returns:
        ``out (T, B, H)``, ``h_n (B, H)``, ``c_n (B, H)``, cache.
    """
    xp, T, B, H, h0, c0, mask = prepare_sequence(x, h0, W_ih, W_hh, b_ih, b_hh, 4, lengths, c0, has_cell_state=True)
    I = x.shape[2]
    # hs[t + 1] = h_t and cs[t + 1] = c_t, so "the previous state" of every step is hs[:-1], cs[:-1].
    empty = allocator(workspace, xp)
    hs = xp.empty((T + 1, B, H), dtype=x.dtype)                     # returned (out, h_n): never reused
    cs = empty("cs", (T + 1, B, H), x.dtype)
    tanh_cs = empty("tanh_cs", (T, B, H), x.dtype)
    hs[0], cs[0] = h0, c0
    x_proj = empty("x_proj", (T, B, 4 * H), x.dtype)
    xp.matmul(x.reshape(T * B, I), W_ih.T, out=x_proj.reshape(T * B, 4 * H))   # every x_t W_ih^T, one GEMM
    bias = b_ih + b_hh
    gates = empty("gates", (T, 4, B, H), x.dtype)                   # gate-major: gates[t, k] is (B, H)
    a = empty("a", (B, 4 * H), x.dtype)
    W_hh_T = W_hh.T
    for t in range(T):
        xp.matmul(hs[t], W_hh_T, out=a)                   # h_{t-1} W_hh^T
        a += bias
        a += x_proj[t]                                    # a_t, in rows ...
        to_gate_major(a, gates[t], xp)                # ... stored as four contiguous gate blocks
        lstm_pointwise_forward(gates[t], cs[t], cs[t + 1], tanh_cs[t], hs[t + 1], xp)
        if mask is not None:                              # finished sequences keep their state
            xp.copyto(hs[t + 1], hs[t], where=~mask[t])
            xp.copyto(cs[t + 1], cs[t], where=~mask[t])
    out = hs[1:] if mask is None else xp.where(mask, hs[1:], 0)
    cache = LSTMCache(x, hs, W_ih, W_hh, mask, workspace, cs=cs, tanh_cs=tanh_cs, gates=gates)
    return out, hs[T], cs[T].copy(), cache


def lstm_backward(d_out, d_h_n, d_c_n, cache):
    """Backpropagation through time.

    Args:
        d_out: ``(T, B, H)`` gradient at every output (None for zeros).
        d_h_n, d_c_n: ``(B, H)`` gradients at the final states (None for zeros).
        cache: from :func:`lstm_forward`.

    Returns:
        dict: ``x (T, B, I)``, ``h0 (B, H)``, ``c0 (B, H)``, ``W_ih``, ``W_hh``, ``b_ih``, ``b_hh``.
    """
    hs, cs, tanh_cs, gates = cache.hs, cache.cs, cache.tanh_cs, cache.gates
    W_hh, mask = cache.W_hh, cache.mask
    xp, d_out, dh = start_backward(d_out, d_h_n, cache)
    dc = final_state_gradient("d_c_n", d_c_n, cs[-1], xp)
    T, _, B, H = gates.shape
    empty = allocator(cache.workspace, xp)
    da = empty("da", (T, B, 4 * H), gates.dtype)            # rows, for the weight GEMMs after the sweep
    da_t = empty("da_t", (4, B, H), gates.dtype)            # this step's, gate-major like the forward
    dh_prev, dc_prev = xp.empty_like(dh), xp.empty_like(dc)
    for t in reversed(range(T)):
        if d_out is not None:
            dh += d_out[t]
        lstm_pointwise_backward(dh, dc, gates[t], cs[t], tanh_cs[t], da_t, dc_prev, xp)
        to_rows(da_t, da[t], xp)
        if mask is not None:                      # padded step: the state was copied, so no
            da[t] *= mask[t]                      # gradient enters the cell ...
            xp.copyto(dc_prev, dc, where=~mask[t])
        xp.matmul(da[t], W_hh, out=dh_prev)       # dh_{t-1} = da_t W_hh
        if mask is not None:
            xp.copyto(dh_prev, dh, where=~mask[t])   # ... and both gradients pass straight through
        dh, dh_prev = dh_prev, dh                 # swap buffers: no allocation inside the loop
        dc, dc_prev = dc_prev, dc
    grads = parameter_gradients(da, da, cache.x, hs[:-1], cache.W_ih)
    grads["h0"], grads["c0"] = dh, dc
    return grads
