"""Exercises on the gated cells, one step each: LSTM (gate order i, f, g, o) and GRU (PyTorch's variant,
gate order r, z, n, with the reset gate applied to the whole hidden projection).

References: :func:`rnnscratch.functional.lstm_step_forward` / ``_backward`` and ``gru_step_*``.
Common mistakes: the ``_textbook_*`` functions with one named thing done wrong. The backward caches hold
inputs and outputs only, so a backward recomputes its gates from the inputs (one shared helper).
"""
from __future__ import annotations

import numpy

from .. import functional as F
from ..functional.activations import sigmoid
from ._build import backward_exercise, cell_parameters, forward_exercise, label, mistakes, normal
from .grader import Case

TOPIC = "gated"
PARAMETERS = ("W_ih", "W_hh", "b_ih", "b_hh")
SHAPES = [(3, 4, 5), (2, 6, 3), (4, 3, 2)]          # (B, I, H), H != I


def _cases(rng, with_cell):
    cases = []
    for B, I, H in SHAPES:
        states = (normal(rng, B, H), normal(rng, B, H)) if with_cell else (normal(rng, B, H),)
        cases.append(Case(label(B=B, I=I, H=H), (normal(rng, B, I), *states, *cell_parameters(rng, 4 if with_cell else 3, I, H))))
    return cases


def _parameter_gradients(du, dv, x, h_prev, W_ih, W_hh, mistake):
    """Gradients of ``u = x W_ih^T + b_ih`` and ``v = h_prev W_hh^T + b_hh`` from ``du, dv (B, G*H)``."""
    return {"x": du @ W_ih, "h_prev": dv @ (W_hh.T if mistake == "W_hh_not_transposed" else W_hh),
            "W_ih": du.T @ x, "W_hh": dv.T @ h_prev, "b_ih": du.sum(axis=0), "b_hh": dv.sum(axis=0)}


# ----------------------------------------------------------------------------- LSTM

def _lstm_gates(x, h_prev, W_ih, W_hh, b_ih, b_hh, mistake):
    W = W_hh if mistake == "W_hh_not_transposed" else W_hh.T
    blocks = numpy.split(x @ W_ih.T + b_ih + h_prev @ W + b_hh, 4, axis=1)
    i, f, g, o = (blocks[k] for k in ((0, 1, 3, 2) if mistake == "gate_order_ifog" else (0, 1, 2, 3)))
    return sigmoid(i), sigmoid(f), sigmoid(g) if mistake == "sigmoid_candidate" else numpy.tanh(g), sigmoid(o)


def _textbook_lstm(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, mistake=None):
    i, f, g, o = _lstm_gates(x, h_prev, W_ih, W_hh, b_ih, b_hh, mistake)
    c = i * c_prev + f * g if mistake == "forget_and_input_swapped" else f * c_prev + i * g
    h = o * c if mistake == "no_tanh_on_cell" else o * numpy.tanh(c)
    return h, c, (x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, h, c)


def _textbook_lstm_backward(dh, dc, cache, mistake=None):
    x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, h, c = cache
    i, f, g, o = _lstm_gates(x, h_prev, W_ih, W_hh, b_ih, b_hh, "gate_order_ifog" if mistake == "gate_order_ifog" else None)
    tanh_c = numpy.tanh(c)
    if mistake == "dc_ignores_dh":
        dc_t = dc
    elif mistake == "missing_tanh_derivative":
        dc_t = dc + dh * o
    else:
        dc_t = dc + dh * o * (1 - tanh_c ** 2)
    di, df, do = dc_t * g, dc_t * c_prev, dh * tanh_c
    if mistake != "missing_sigmoid_derivative":
        di, df, do = di * i * (1 - i), df * f * (1 - f), do * o * (1 - o)
    dg = dc_t * i * (1 - g ** 2)
    da = numpy.concatenate([di, df, do, dg] if mistake == "gate_order_ifog" else [di, df, dg, do], axis=1)
    grads = _parameter_gradients(da, da, x, h_prev, W_ih, W_hh, mistake)
    grads["c_prev"] = dc_t if mistake == "dc_prev_without_forget" else dc_t * f
    return grads


lstm_step_forward = forward_exercise(
    "lstm_step_forward", topic=TOPIC, summary="one LSTM step (PyTorch's gate order i, f, g, o)",
    args=("x", "h_prev", "c_prev", *PARAMETERS), outputs=("h", "c"), make_cases=lambda rng: _cases(rng, True),
    package=F.lstm_step_forward,
    doc="""
One LSTM step, PyTorch's nn.LSTM. The pre-activation a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
(B, 4H) splits into four (B, H) blocks in the order i, f, g, o:

    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
    c = f * c_prev + i * g
    h = o * tanh(c)

Args:
    x: (B, I).  h_prev, c_prev: (B, H).
    W_ih: (4H, I), W_hh: (4H, H), b_ih, b_hh: (4H,) -- PyTorch's layout, gate blocks i, f, g, o.

Returns:
    h, c: (B, H) each.
    cache: the tuple (x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, h, c); lstm_step_backward receives it.
""",
    mistakes=mistakes(
        _textbook_lstm,
        ("gate_order_ifog", "PyTorch orders the four blocks i, f, g, o (the candidate g third, the output gate "
                            "last); some courses use i, f, o, g."),
        ("sigmoid_candidate", "the candidate g uses tanh (values in (-1, 1)); the three gates use the sigmoid."),
        ("forget_and_input_swapped", "the forget gate scales the old cell (f * c_prev) and the input gate the "
                                     "candidate (i * g)."),
        ("no_tanh_on_cell", "the output is h = o * tanh(c): the cell passes through tanh before the output gate."),
        ("W_hh_not_transposed", "W_hh is stored (4H, H), so the recurrent term is h_prev @ W_hh.T."),
    ))

lstm_step_backward = backward_exercise(
    "lstm_step_backward", forward=lstm_step_forward, summary="gradients of one LSTM step",
    grads=("x", "h_prev", "c_prev", *PARAMETERS), package_backward=F.lstm_step_backward,
    doc="""
Gradients of one LSTM step (see lstm_step_forward). Recompute i, f, g, o from the cached inputs.
c reaches the loss two ways: directly (dc) and through h. Stack the four gate-gradient blocks in the
order i, f, g, o, like the rows of the weights.

Args:
    dh, dc: (B, H) upstream gradients at h and c; do not modify them.
    cache: the tuple (x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, h, c) returned by lstm_step_forward.

Returns:
    dict with keys "x", "h_prev", "c_prev", "W_ih", "W_hh", "b_ih", "b_hh".
""",
    mistakes=mistakes(
        _textbook_lstm_backward,
        ("dc_ignores_dh", "c reaches the loss two ways: directly (dc) and through h = o * tanh(c). Add "
                          "dh * o * (1 - tanh(c)**2) to dc before using it."),
        ("missing_tanh_derivative", "h = o * tanh(c): the path from h to c goes through tanh, so multiply by "
                                    "1 - tanh(c)**2."),
        ("missing_sigmoid_derivative", "the gates i, f, o are sigmoids: their pre-activation gradients carry the "
                                       "factor s * (1 - s)."),
        ("dc_prev_without_forget", "c = f * c_prev + ...: the gradient reaching c_prev is dc_t * f."),
        ("gate_order_ifog", "PyTorch orders the blocks i, f, g, o, in the recomputed gates and in da alike."),
        ("W_hh_not_transposed", "the forward multiplies h_prev @ W_hh.T, so dh_prev = da @ W_hh."),
    ))


# ----------------------------------------------------------------------------- GRU

def _gru_parts(x, h_prev, W_ih, W_hh, b_ih, b_hh, mistake):
    """``r, z`` and the candidate's input and hidden projections ``u_n, v_n``."""
    order = (1, 0, 2) if mistake == "gate_order_zrn" else (0, 1, 2)
    u = numpy.split(x @ W_ih.T + b_ih, 3, axis=1)
    v = numpy.split(h_prev @ (W_hh if mistake == "W_hh_not_transposed" else W_hh.T) + b_hh, 3, axis=1)
    (u_r, u_z, u_n), (v_r, v_z, v_n) = [u[k] for k in order], [v[k] for k in order]
    return sigmoid(u_r + v_r), sigmoid(u_z + v_z), u_n, v_n


def _textbook_gru(x, h_prev, W_ih, W_hh, b_ih, b_hh, mistake=None):
    r, z, u_n, v_n = _gru_parts(x, h_prev, W_ih, W_hh, b_ih, b_hh, mistake)
    H = h_prev.shape[1]
    b_hn = b_hh[2 * H:]
    if mistake == "reset_inside_product":
        n = numpy.tanh(u_n + (r * h_prev) @ W_hh[2 * H:].T + b_hn)
    elif mistake == "reset_skips_bias":
        n = numpy.tanh(u_n + r * (v_n - b_hn) + b_hn)
    else:
        n = numpy.tanh(u_n + r * v_n)
    h = z * n + (1 - z) * h_prev if mistake == "update_gate_swapped" else (1 - z) * n + z * h_prev
    return h, (x, h_prev, W_ih, W_hh, b_ih, b_hh, h)


def _textbook_gru_backward(dh, cache, mistake=None):
    x, h_prev, W_ih, W_hh, b_ih, b_hh, h = cache
    r, z, u_n, v_n = _gru_parts(x, h_prev, W_ih, W_hh, b_ih, b_hh, None)
    n = numpy.tanh(u_n + r * v_n)
    if mistake == "update_gate_swapped":
        dn, dz, direct = dh * z, dh * (n - h_prev), dh * (1 - z)
    else:
        dn, dz, direct = dh * (1 - z), dh * (h_prev - n), dh * z
    da_n = dn * (1 - n ** 2)
    dr = da_n * (v_n - b_hh[2 * h.shape[1]:] if mistake == "reset_gradient_without_bias" else v_n)
    if mistake != "missing_sigmoid_derivative":
        dr, dz = dr * r * (1 - r), dz * z * (1 - z)
    dv_n = da_n if mistake == "candidate_not_gated_by_r" else da_n * r
    du, dv = numpy.concatenate([dr, dz, da_n], axis=1), numpy.concatenate([dr, dz, dv_n], axis=1)
    grads = _parameter_gradients(du, dv, x, h_prev, W_ih, W_hh, mistake)
    if mistake != "dh_prev_missing_direct_path":
        grads["h_prev"] = grads["h_prev"] + direct
    return grads


gru_step_forward = forward_exercise(
    "gru_step_forward", topic=TOPIC, summary="one GRU step (PyTorch's variant, gate order r, z, n)",
    args=("x", "h_prev", *PARAMETERS), outputs=("h",), make_cases=lambda rng: _cases(rng, False),
    package=F.gru_step_forward,
    doc="""
One GRU step, PyTorch's nn.GRU. Each weight and bias splits into three H-row blocks in the order r, z, n;
write u = x @ W_ih.T + b_ih and v = h_prev @ W_hh.T + b_hh (B, 3H) and split both:

    r = sigmoid(u_r + v_r)          reset gate
    z = sigmoid(u_z + v_z)          update gate
    n = tanh(u_n + r * v_n)         candidate: r multiplies the whole (h_prev @ W_hn.T + b_hn), bias included
    h = (1 - z) * n + z * h_prev

Args:
    x: (B, I).  h_prev: (B, H).  W_ih: (3H, I), W_hh: (3H, H), b_ih, b_hh: (3H,).

Returns:
    h: (B, H).
    cache: the tuple (x, h_prev, W_ih, W_hh, b_ih, b_hh, h); gru_step_backward receives it.
""",
    mistakes=mistakes(
        _textbook_gru,
        ("reset_inside_product", "PyTorch's GRU applies r after the product: n = tanh(u_n + r * (h_prev @ W_hn.T + "
                                 "b_hn)). The original paper's (r * h_prev) @ W_hn.T is a different function."),
        ("reset_skips_bias", "r multiplies the whole hidden projection, b_hn included: r * (h_prev @ W_hn.T + b_hn)."),
        ("update_gate_swapped", "in PyTorch z keeps the old state: h = (1 - z) * n + z * h_prev."),
        ("gate_order_zrn", "PyTorch orders the blocks r, z, n (reset first)."),
        ("W_hh_not_transposed", "W_hh is stored (3H, H), so the hidden projection is h_prev @ W_hh.T."),
    ))

gru_step_backward = backward_exercise(
    "gru_step_backward", forward=gru_step_forward, summary="gradients of one GRU step",
    grads=("x", "h_prev", *PARAMETERS), package_backward=F.gru_step_backward,
    doc="""
Gradients of one GRU step (see gru_step_forward). Recompute r, z, n and v_n = h_prev @ W_hn.T + b_hn
from the cached inputs. h_prev reaches h two ways: directly (through z) and through the three hidden
projections. The input side u and the hidden side v differ only in the candidate block, where r
multiplied v_n; stack the blocks in the order r, z, n, like the rows of the weights.

Args:
    dh: (B, H) upstream gradient; do not modify it.
    cache: the tuple (x, h_prev, W_ih, W_hh, b_ih, b_hh, h) returned by gru_step_forward.

Returns:
    dict with keys "x", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh".
""",
    mistakes=mistakes(
        _textbook_gru_backward,
        ("dh_prev_missing_direct_path", "h = (1 - z) * n + z * h_prev uses h_prev directly too: dh_prev gets dh * z "
                                        "besides dv @ W_hh."),
        ("reset_gradient_without_bias", "dr = du_n * v_n with v_n = h_prev @ W_hn.T + b_hn, bias included: r "
                                        "multiplied all of it."),
        ("candidate_not_gated_by_r", "the hidden side of the candidate was multiplied by r, so its gradient is "
                                     "dv_n = du_n * r (and dW_hn, db_hn, dh_prev follow from it)."),
        ("missing_sigmoid_derivative", "r and z are sigmoids: their pre-activation gradients carry s * (1 - s)."),
        ("update_gate_swapped", "in PyTorch h = (1 - z) * n + z * h_prev: dn = dh * (1 - z), dz = dh * (h_prev - n)."),
        ("W_hh_not_transposed", "the forward multiplies h_prev @ W_hh.T, so the recurrent part of dh_prev is "
                                "dv @ W_hh."),
    ))

EXERCISES = [lstm_step_forward, lstm_step_backward, gru_step_forward, gru_step_backward]
