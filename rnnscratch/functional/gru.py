r"""GRU: forward and backward through time, by hand, in PyTorch's formulation (gate order r, z, n).

Equations (PyTorch's ``nn.GRU``; each weight and bias splits into three ``H``-row blocks r, z, n)::

    r_t = sigmoid(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr)       reset gate
    z_t = sigmoid(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz)       update gate
    n_t = tanh(x_t W_in^T + b_in + r_t * (h_{t-1} W_hn^T + b_hn))   candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

The reset gate multiplies the *whole* hidden projection ``(W_hn h + b_hn)``, bias included; some
textbooks use ``W_hn (r * h)`` instead, which is a different function. Call the input-side
pre-activations ``u = x W_ih^T + b_ih`` and the hidden-side ones ``v = h W_hh^T + b_hh`` (both ``(B, 3H)``).

Backward, with ``dh_t`` the total gradient reaching ``h_t``::

    dn    = dh_t * (1 - z_t)                 dz  = dh_t * (h_{t-1} - n_t)
    du_n  = dn * (1 - n_t^2)                 dv_n = du_n * r_t
    dr    = du_n * v_n
    du_r  = dv_r = dr * r_t (1 - r_t)        du_z = dv_z = dz * z_t (1 - z_t)
    dh_{t-1} = dh_t * z_t + dv_t W_hh
    dW_ih = sum_t du_t^T x_t,  db_ih = sum_t du_t,  dW_hh = sum_t dv_t^T h_{t-1},  db_hh = sum_t dv_t

Shapes: ``x (T, B, I)``, ``h (B, H)``, ``W_ih (3H, I)``, ``W_hh (3H, H)``, ``b_ih, b_hh (3H,)``.

:func:`gru_step_forward` and :func:`gru_step_backward` are these equations line for line, for one step.
The sequence functions compute the same thing fast: one GEMM for all input projections, one GEMM per
weight gradient after the sweep, in-place element-wise work, and, as in the LSTM, the activated gates
stored gate-major, ``(T, 3, B, H)``, so that the element-wise work runs on contiguous ``(B, H)``
blocks; the gradients go back to rows ``(T, B, 3H)`` for the GEMMs.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import backend
from .._checks import check_shape
from ._sequence import SequenceCache, parameter_gradients, prepare_sequence, start_backward
from .activations import sigmoid, sigmoid_
from .workspace import allocator


# -- the textbook step --------------------------------------------------------------------------------
@dataclass
class GRUStepCache:
    """What one step keeps: inputs, weights, the activated gates and the hidden-side ``v_n``."""
    x: object
    h_prev: object
    W_ih: object
    W_hh: object
    r: object
    z: object
    n: object
    v_n: object


def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One GRU step, the equations line for line.

    ``x (B, I)``, ``h_prev (B, H)``, ``W_ih (3H, I)``, ``W_hh (3H, H)``, ``b_ih, b_hh (3H,)`` -> ``h (B, H)``, cache.
    """
    xp = backend.array_module(x=x, h_prev=h_prev, W_ih=W_ih, W_hh=W_hh)
    check_shape("x", x, (h_prev.shape[0], W_ih.shape[1]))
    H = h_prev.shape[1]
    u = x @ W_ih.T + b_ih                                  # input side  (B, 3H): u_r, u_z, u_n
    v = h_prev @ W_hh.T + b_hh                             # hidden side (B, 3H): v_r, v_z, v_n
    u_r, u_z, u_n = u[:, :H], u[:, H:2 * H], u[:, 2 * H:]
    v_r, v_z, v_n = v[:, :H], v[:, H:2 * H], v[:, 2 * H:]
    r = sigmoid(u_r + v_r)                                 # reset gate
    z = sigmoid(u_z + v_z)                                 # update gate
    n = xp.tanh(u_n + r * v_n)                             # candidate
    h = (1 - z) * n + z * h_prev
    return h, GRUStepCache(x, h_prev, W_ih, W_hh, r, z, n, v_n)


def gru_step_backward(dh, cache):
    """Gradients of one step from ``dh (B, H)``: dict with x, h_prev, W_ih, W_hh, b_ih, b_hh."""
    k = cache
    xp = backend.array_module(dh=dh, n=k.n)
    dn = dh * (1 - k.z)
    dz = dh * (k.h_prev - k.n)
    du_n = dn * (1 - k.n ** 2)
    dv_n = du_n * k.r
    dr = du_n * k.v_n
    du_r = dr * k.r * (1 - k.r)                            # = dv_r
    du_z = dz * k.z * (1 - k.z)                            # = dv_z
    du = xp.concatenate([du_r, du_z, du_n], axis=1)        # (B, 3H), gate order r, z, n
    dv = xp.concatenate([du_r, du_z, dv_n], axis=1)
    grads = parameter_gradients(du, dv, k.x, k.h_prev, k.W_ih)   # dx = du W_ih, dW_ih = du^T x, dW_hh = dv^T h, ...
    grads["h_prev"] = dh * k.z + dv @ k.W_hh
    return grads


# -- the sequence: the same equations, fast ------------------------------------------------------------
@dataclass
class GRUCache(SequenceCache):
    """:class:`~rnnscratch.functional._sequence.SequenceCache` plus the activated gates, gate-major
    ``(T, 3, B, H)`` = [r, z, n], and ``v_n (T, B, H)`` (the hidden side's candidate projection)."""
    gates: object = None
    v_n: object = None


def gru_preactivate(u, v, gates, v_n, xp):
    """Prepare one step from the row pre-activations ``u, v (B, 3H)`` (input and hidden side).

    Writes ``u_r + v_r, u_z + v_z`` into ``gates[:2]`` and ``v_n`` (both contiguous: gates are stored
    gate-major ``(3, B, H)``, like the LSTM's), and returns the ``u_n`` block (a view).
    """
    B, G3 = u.shape
    H = G3 // 3
    xp.add(u.reshape(B, 3, H)[:, :2].transpose(1, 0, 2), v.reshape(B, 3, H)[:, :2].transpose(1, 0, 2),
           out=gates[:2])
    xp.copyto(v_n, v[:, 2 * H:])
    return u[:, 2 * H:]


def gru_pointwise_forward(gates, u_n, v_n, h_prev, h, xp):
    """Element-wise part of one step, in place.

    ``gates (3, B, H)`` holds the r and z pre-activations in ``gates[:2]`` on entry and the activated
    ``[r, z, n]`` on exit. ``u_n``, ``v_n (B, H)``: input- and hidden-side candidate projections.
    Writes ``h_t`` into ``h (B, H)``.
    """
    sigmoid_(gates[:2], xp)
    r, z, n = gates
    xp.multiply(r, v_n, out=n)                    # r * (W_hn h + b_hn)
    n += u_n                                      #   + W_in x + b_in
    xp.tanh(n, out=n)
    xp.subtract(h_prev, n, out=h)                 # h_t = n + z * (h_{t-1} - n)
    h *= z
    h += n


def gru_pointwise_backward(dh, gates, v_n, h_prev, du, dv_n, dh_direct, xp):
    """Element-wise backward of one step, gate-major like the forward.

    ``dh (B, H)``: total gradient at h_t (not modified).  ``gates (3, B, H)``: activated ``[r, z, n]``.
    ``v_n (B, H)``: the hidden-side candidate projection ``h_{t-1} W_hn^T + b_hn``.
    Writes ``du (3, B, H)`` (input-side pre-activation gradients; the hidden side's r and z parts are the
    same), ``dv_n (B, H)`` (the hidden side's candidate part) and ``dh_direct = dh * z``.
    """
    r, z, n = gates
    du_r, du_z, du_n = du
    # du_n = dh * (1 - z) * (1 - n^2)
    xp.multiply(n, n, out=du_n)
    xp.subtract(1, du_n, out=du_n)
    du_n *= dh
    xp.multiply(du_n, z, out=dv_n)                #   (dv_n as scratch)
    du_n -= dv_n
    # du_z = dh * (h_{t-1} - n) * z (1 - z)
    xp.subtract(h_prev, n, out=du_z)
    du_z *= dh
    du_z *= z
    xp.multiply(du_z, z, out=dv_n)
    du_z -= dv_n
    # du_r = du_n * v_n * r (1 - r)
    xp.multiply(du_n, v_n, out=du_r)
    du_r *= r
    xp.multiply(du_r, r, out=dv_n)
    du_r -= dv_n
    # the hidden side's candidate gradient is scaled by r; the direct path to h_{t-1} by z
    xp.multiply(du_n, r, out=dv_n)
    xp.multiply(dh, z, out=dh_direct)


def _to_rows(du, dv_n, du_rows, dv_rows, xp):
    """Gate-major ``du (3, B, H)`` and ``dv_n`` -> the row layouts ``(B, 3H)`` the weight GEMMs need."""
    _, B, H = du.shape
    xp.copyto(du_rows.reshape(B, 3, H), du.transpose(1, 0, 2))
    xp.copyto(dv_rows[:, :2 * H], du_rows[:, :2 * H])
    xp.copyto(dv_rows[:, 2 * H:], dv_n)


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh, lengths=None, workspace=None):
    """Run the GRU over a whole sequence.

    Args:
        x: ``(T, B, I)``.
        h0: ``(B, H)`` or None for zeros.
        W_ih, W_hh, b_ih, b_hh: parameters, ``W_ih (3H, I)``, ``W_hh (3H, H)``, ``b_ih, b_hh (3H,)``, gate order
            r, z, n.
        lengths: optional ``(B,)`` true lengths (state carried, output zero past the end).
        workspace: optional ``Workspace`` whose internal buffers are reused between calls.

    Returns:
        ``out (T, B, H)``, ``h_n (B, H)``, cache.
    """
    xp, T, B, H, h0, _, mask = prepare_sequence(x, h0, W_ih, W_hh, b_ih, b_hh, 3, lengths)
    I = x.shape[2]
    hs = xp.empty((T + 1, B, H), dtype=x.dtype)       # hs[t + 1] = h_t
    hs[0] = h0
    empty = allocator(workspace, xp)
    u = empty("u", (T, B, 3 * H), x.dtype)
    xp.matmul(x.reshape(T * B, I), W_ih.T, out=u.reshape(T * B, 3 * H))   # every input projection, one GEMM
    u += b_ih
    gates = empty("gates", (T, 3, B, H), x.dtype)     # gate-major: gates[t, k] is (B, H)
    v_n = empty("v_n", (T, B, H), x.dtype)            # kept for the backward's dr = du_n * v_n
    v = empty("v", (B, 3 * H), x.dtype)
    W_hh_T = W_hh.T
    for t in range(T):
        xp.matmul(hs[t], W_hh_T, out=v)
        v += b_hh                                     # v_t = h_{t-1} W_hh^T + b_hh
        u_n = gru_preactivate(u[t], v, gates[t], v_n[t], xp)
        gru_pointwise_forward(gates[t], u_n, v_n[t], hs[t], hs[t + 1], xp)
        if mask is not None:
            xp.copyto(hs[t + 1], hs[t], where=~mask[t])
    out = hs[1:] if mask is None else xp.where(mask, hs[1:], 0)
    return out, hs[T], GRUCache(x, hs, W_ih, W_hh, mask, workspace, gates=gates, v_n=v_n)


def gru_backward(d_out, d_h_n, cache):
    """Backpropagation through time.

    Args:
        d_out: ``(T, B, H)`` gradient at every output (None for zeros).
        d_h_n: ``(B, H)`` gradient at the final state (None for zeros).
        cache: from :func:`gru_forward`.

    Returns:
        dict: ``x (T, B, I)``, ``h0 (B, H)``, ``W_ih``, ``W_hh``, ``b_ih``, ``b_hh``.
    """
    hs, gates, v_n = cache.hs, cache.gates, cache.v_n
    W_hh, mask = cache.W_hh, cache.mask
    xp, d_out, dh = start_backward(d_out, d_h_n, cache)
    T, _, B, H = gates.shape
    empty = allocator(cache.workspace, xp)
    du, dv = empty("du", (T, B, 3 * H), gates.dtype), empty("dv", (T, B, 3 * H), gates.dtype)   # rows
    du_t, dv_n = empty("du_t", (3, B, H), gates.dtype), empty("dv_n", (B, H), gates.dtype)
    dh_prev, recurrent = xp.empty_like(dh), empty("recurrent", (B, H), gates.dtype)
    for t in reversed(range(T)):
        if d_out is not None:
            dh += d_out[t]
        gru_pointwise_backward(dh, gates[t], v_n[t], hs[t], du_t, dv_n, dh_prev, xp)
        _to_rows(du_t, dv_n, du[t], dv[t], xp)
        if mask is not None:                          # padded step: no gradient enters the cell,
            du[t] *= mask[t]
            dv[t] *= mask[t]
            xp.copyto(dh_prev, dh, where=~mask[t])    # it passes straight through to h_{t-1}
        dh_prev += xp.matmul(dv[t], W_hh, out=recurrent)
        dh, dh_prev = dh_prev, dh                     # swap buffers: no allocation inside the loop
    grads = parameter_gradients(du, dv, cache.x, hs[:-1], cache.W_ih)
    grads["h0"] = dh
    return grads
