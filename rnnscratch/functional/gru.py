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
"""
from __future__ import annotations

from .. import backend
from .._checks import check_shape
from ._sequence import allocator, parameter_gradients, prepare_sequence, sigmoid_, start_backward


def gru_pointwise_forward(u, v, h_prev, gates, h, xp):
    """Element-wise part of one step. ``u, v (B, 3H)``: input- and hidden-side pre-activations.

    Writes the activated gates ``[r, z, n]`` into ``gates (B, 3H)`` and ``h_t`` into ``h (B, H)``.
    """
    H = h_prev.shape[-1]
    rz = xp.add(u[:, :2 * H], v[:, :2 * H], out=gates[:, :2 * H])
    sigmoid_(rz, xp)
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    xp.multiply(r, v[:, 2 * H:], out=n)           # r * (W_hn h + b_hn)
    n += u[:, 2 * H:]                             #   + W_in x + b_in
    xp.tanh(n, out=n)
    xp.subtract(h_prev, n, out=h)                 # h_t = n + z * (h_{t-1} - n)
    h *= z
    h += n


def gru_pointwise_backward(dh, gates, v_n, h_prev, du, dv, xp):
    """Element-wise backward of one step.

    ``dh (B, H)``: total gradient at h_t (not modified).  ``gates (B, 3H)``: activated ``[r, z, n]``.
    ``v_n (B, H)``: the hidden-side candidate projection ``h_{t-1} W_hn^T + b_hn``.
    Writes ``du, dv (B, 3H)`` and returns the direct part of ``dh_{t-1}``, ``dh * z``, as a new array.
    """
    H = dh.shape[-1]
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    du_r, du_z, du_n = du[:, :H], du[:, H:2 * H], du[:, 2 * H:]
    # du_n = dh * (1 - z) * (1 - n^2)
    xp.multiply(n, n, out=du_n)
    xp.subtract(1, du_n, out=du_n)
    du_n *= dh
    du_n -= du_n * z
    # du_z = dh * (h_{t-1} - n) * z (1 - z)
    xp.subtract(h_prev, n, out=du_z)
    du_z *= dh
    du_z *= z
    du_z -= du_z * z
    # du_r = du_n * v_n * r (1 - r)
    xp.multiply(du_n, v_n, out=du_r)
    du_r *= r
    du_r -= du_r * r
    # the hidden side sees the same r, z gradients; its candidate part is scaled by r
    dv[:, :2 * H] = du[:, :2 * H]
    xp.multiply(du_n, r, out=dv[:, 2 * H:])
    return dh * z


def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One GRU step. ``x (B, I)``, ``h_prev (B, H)`` -> ``h (B, H)``, cache."""
    xp = backend.array_module(x=x, h_prev=h_prev, W_ih=W_ih, W_hh=W_hh)
    check_shape("x", x, (h_prev.shape[0], W_ih.shape[1]))
    u = x @ W_ih.T + b_ih
    v = h_prev @ W_hh.T + b_hh
    gates = xp.empty_like(u)
    h = xp.empty_like(h_prev)
    gru_pointwise_forward(u, v, h_prev, gates, h, xp)
    H = h_prev.shape[1]
    cache = {"x": x, "h_prev": h_prev, "W_ih": W_ih, "W_hh": W_hh, "gates": gates, "v_n": v[:, 2 * H:]}
    return h, cache


def gru_step_backward(dh, cache):
    """Gradients of one step from ``dh (B, H)``: dict with x, h_prev, W_ih, W_hh, b_ih, b_hh."""
    gates = cache["gates"]
    xp = backend.array_module(dh=dh, gates=gates)
    du, dv = xp.empty_like(gates), xp.empty_like(gates)
    dh_prev = gru_pointwise_backward(dh, gates, cache["v_n"], cache["h_prev"], du, dv, xp)
    dh_prev += dv @ cache["W_hh"]
    grads = parameter_gradients(du, dv, cache["x"], cache["h_prev"], cache["W_ih"])
    grads["h_prev"] = dh_prev
    return grads


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh, lengths=None, workspace=None):
    """Run the GRU over a whole sequence.

    Args:
        x: ``(T, B, I)``.  h0: ``(B, H)`` or None for zeros.
        W_ih ``(3H, I)``, W_hh ``(3H, H)``, b_ih, b_hh ``(3H,)``: parameters, gate order r, z, n.
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
    gates = empty("gates", (T, B, 3 * H), x.dtype)
    v_n = empty("v_n", (T, B, H), x.dtype)            # kept for the backward's dr = du_n * v_n
    v = empty("v", (B, 3 * H), x.dtype)
    W_hh_T = W_hh.T
    for t in range(T):
        xp.matmul(hs[t], W_hh_T, out=v)
        v += b_hh                                     # v_t = h_{t-1} W_hh^T + b_hh
        v_n[t] = v[:, 2 * H:]
        gru_pointwise_forward(u[t], v, hs[t], gates[t], hs[t + 1], xp)
        if mask is not None:
            xp.copyto(hs[t + 1], hs[t], where=~mask[t])
    out = hs[1:] if mask is None else xp.where(mask, hs[1:], 0)
    cache = {"x": x, "hs": hs, "gates": gates, "v_n": v_n, "W_ih": W_ih, "W_hh": W_hh, "mask": mask,
             "workspace": workspace}
    return out, hs[T], cache


def gru_backward(d_out, d_h_n, cache):
    """Backpropagation through time.

    Args:
        d_out: ``(T, B, H)`` gradient at every output (None for zeros).
        d_h_n: ``(B, H)`` gradient at the final state (None for zeros).
        cache: from :func:`gru_forward`.

    Returns:
        dict: ``x (T, B, I)``, ``h0 (B, H)``, ``W_ih``, ``W_hh``, ``b_ih``, ``b_hh``.
    """
    hs, gates, v_n = cache["hs"], cache["gates"], cache["v_n"]
    W_hh, mask = cache["W_hh"], cache["mask"]
    xp, d_out, dh = start_backward(d_out, d_h_n, "d_h_n", cache)
    empty = allocator(cache["workspace"], xp)
    du, dv = empty("du", gates.shape, gates.dtype), empty("dv", gates.shape, gates.dtype)
    for t in reversed(range(len(gates))):
        if d_out is not None:
            dh += d_out[t]
        dh_prev = gru_pointwise_backward(dh, gates[t], v_n[t], hs[t], du[t], dv[t], xp)
        if mask is not None:                          # padded step: no gradient enters the cell,
            du[t] *= mask[t]
            dv[t] *= mask[t]
            xp.copyto(dh_prev, dh, where=~mask[t])    # it passes straight through to h_{t-1}
        dh_prev += dv[t] @ W_hh
        dh = dh_prev
    grads = parameter_gradients(du, dv, cache["x"], hs[:-1], cache["W_ih"])
    grads["h0"] = dh
    return grads
