"""Exercises on the vanilla (Elman) RNN: one step and a whole sequence, forward and backward.

References: :func:`rnnscratch.functional.rnn_step_forward` and friends (tanh).
Common mistakes: :func:`_step`, :func:`_step_backward`, :func:`_sequence`, :func:`_sequence_backward`
are the textbook with one named thing done wrong (``mistake=None``: nothing wrong).
"""
from __future__ import annotations

import numpy

from .. import functional as F
from ..functional.activations import sigmoid
from ._build import backward_exercise, cell_parameters, forward_exercise, label, mistakes, normal
from .grader import Case

TOPIC = "rnn"
PARAMETERS = ("W_ih", "W_hh", "b_ih", "b_hh")
STEP_SHAPES = [(3, 4, 5), (2, 6, 3), (4, 3, 2)]            # (B, I, H), always H != I
SEQUENCE_SHAPES = [(4, 3, 2, 5), (3, 2, 5, 3), (5, 4, 3, 2)]   # (T, B, I, H)


# ----------------------------------------------------------------------------- cases and package calls

def _step_cases(rng):
    return [Case(label(B=B, I=I, H=H), (normal(rng, B, I), normal(rng, B, H), *cell_parameters(rng, 1, I, H)))
            for B, I, H in STEP_SHAPES]


def _sequence_cases(rng):
    return [Case(label(T=T, B=B, I=I, H=H), (normal(rng, T, B, I), normal(rng, B, H), *cell_parameters(rng, 1, I, H)))
            for T, B, I, H in SEQUENCE_SHAPES]


# ----------------------------------------------------------------------------- common mistakes

def _step(x, h_prev, W_ih, W_hh, b_ih, b_hh, mistake=None):
    W = W_hh if mistake == "W_hh_not_transposed" else W_hh.T
    a = x @ W_ih.T + b_ih + h_prev @ W + (0.0 if mistake == "missing_hidden_bias" else b_hh)
    if mistake == "missing_tanh":
        h = a
    elif mistake == "sigmoid_instead_of_tanh":
        h = sigmoid(a)
    else:
        h = numpy.tanh(a)
    return h, (x, h_prev, W_ih, W_hh, b_ih, b_hh, h)


def _step_backward(dh, cache, mistake=None):
    x, h_prev, W_ih, W_hh, b_ih, b_hh, h = cache
    if mistake == "mutates_upstream":
        da = dh
        da *= 1 - h * h
    elif mistake == "missing_tanh_derivative":
        da = dh
    elif mistake == "tanh_derivative_of_output":
        da = dh * (1 - numpy.tanh(h) ** 2)
    else:
        da = dh * (1 - h * h)
    db = da.mean(axis=0) if mistake == "bias_mean_over_batch" else da.sum(axis=0)
    return {"x": da @ W_ih,
            "h_prev": da @ (W_hh.T if mistake == "W_hh_not_transposed" else W_hh),
            "W_ih": x.T @ da if mistake == "dW_transposed" else da.T @ x,
            "W_hh": da.T @ h_prev, "b_ih": db, "b_hh": db.copy()}


def _sequence(x, h0, W_ih, W_hh, b_ih, b_hh, mistake=None):
    h, out = h0, []
    for t in range(x.shape[0]):
        h_in = h0 if mistake == "state_not_carried" else h
        h_next, _ = _step(x[t], h_in, W_ih, W_hh, b_ih, b_hh, mistake=mistake)
        out.append(h if mistake == "off_by_one_output" else h_next)
        h = h_next
    out = numpy.stack(out)
    return out, (x, h0, W_ih, W_hh, b_ih, b_hh, out)


def _sequence_backward(d_out, cache, mistake=None):
    x, h0, W_ih, W_hh, b_ih, b_hh, out = cache
    previous = out if mistake == "off_by_one_in_time" else numpy.concatenate([h0[None], out[:-1]])
    grads = {name: numpy.zeros_like(p) for name, p in zip(PARAMETERS, (W_ih, W_hh, b_ih, b_hh))}
    dx, dh_next = numpy.zeros_like(x), numpy.zeros_like(h0)
    for t in reversed(range(x.shape[0])):
        if mistake == "mutates_upstream":
            dh = d_out[t]
            dh += dh_next
        elif mistake == "dh_not_accumulated":
            dh = d_out[t]
        else:
            dh = d_out[t] + dh_next
        step = _step_backward(dh, (x[t], previous[t], W_ih, W_hh, b_ih, b_hh, out[t]),
                              mistake="W_hh_not_transposed" if mistake == "W_hh_not_transposed" else None)
        for name in PARAMETERS:
            grads[name] = step[name] if mistake == "weights_from_one_step" else grads[name] + step[name]
        dx[t], dh_next = step["x"], step["h_prev"]
    return {"x": dx, "h0": dh_next, **grads}


# ----------------------------------------------------------------------------- hints

W_HH_LAYOUT = ("W_hh is stored (out, in) like PyTorch's, so the recurrent term is h_prev @ W_hh.T. A square W_hh "
               "accepts either product without a shape error.")
W_HH_TRANSPOSE = ("the forward multiplies h_prev @ W_hh.T, so the gradient flowing back to h_prev is da @ W_hh "
                  "(the transpose of the forward's factor). A square W_hh hides this from shape errors.")
TANH_DERIVATIVE = ("the gradient must go through tanh before it reaches the pre-activation: "
                   "da = dh * tanh'(a), with tanh'(a) = 1 - h**2 in terms of the output h.")

rnn_step_forward = forward_exercise(
    "rnn_step_forward", topic=TOPIC, summary="one step of a vanilla RNN",
    args=("x", "h_prev", *PARAMETERS), outputs=("h",), make_cases=_step_cases, package=F.rnn_step_forward,
    doc="""
One step of a vanilla (tanh) RNN, PyTorch's nn.RNN:

    h = tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)

Args:
    x: (B, I) inputs.  h_prev: (B, H) previous hidden state.
    W_ih: (H, I), W_hh: (H, H) -- PyTorch's layout (out, in).  b_ih, b_hh: (H,).

Returns:
    h: (B, H) the new hidden state.
    cache: the tuple (x, h_prev, W_ih, W_hh, b_ih, b_hh, h) -- the inputs, then the output;
        rnn_step_backward receives it.
""",
    mistakes=mistakes(
        _step,
        ("W_hh_not_transposed", W_HH_LAYOUT),
        ("missing_hidden_bias", "PyTorch's RNN has two biases, b_ih and b_hh; both are added."),
        ("missing_tanh", "the new state is tanh of the pre-activation; without it the RNN is linear."),
        ("sigmoid_instead_of_tanh", "the vanilla RNN uses tanh (outputs in (-1, 1)), not the sigmoid."),
    ))

rnn_step_backward = backward_exercise(
    "rnn_step_backward", forward=rnn_step_forward, summary="gradients of one RNN step",
    grads=("x", "h_prev", *PARAMETERS), package_backward=F.rnn_step_backward,
    doc="""
Gradients of one RNN step (see rnn_step_forward), given dh = dL/dh. Go back through the tanh first,
to the pre-activation a; tanh' can be written with the output h, which the cache holds.

Args:
    dh: (B, H) upstream gradient; do not modify it.
    cache: the tuple (x, h_prev, W_ih, W_hh, b_ih, b_hh, h) returned by rnn_step_forward.

Returns:
    dict with keys "x" (B, I), "h_prev" (B, H), "W_ih" (H, I), "W_hh" (H, H), "b_ih" (H,), "b_hh" (H,).
""",
    mistakes=mistakes(
        _step_backward,
        ("W_hh_not_transposed", W_HH_TRANSPOSE),
        ("missing_tanh_derivative", TANH_DERIVATIVE),
        ("tanh_derivative_of_output", "tanh' is 1 - h**2 where h = tanh(a) is already the output; "
                                      "1 - tanh(h)**2 applies tanh a second time."),
        ("bias_mean_over_batch", "a bias is shared by every row of the batch: its gradient is the sum over "
                                 "the batch, not the mean."),
        ("dW_transposed", "a gradient has the shape of its parameter: W_ih is (H, I), so dW_ih = da.T @ x, "
                          "not x.T @ da."),
        ("mutates_upstream", "dh is the caller's array: `da = dh; da *= ...` changes it in place (and a "
                             "sequence backward that reuses it goes wrong). Write da = dh * (...).", "dh"),
    ))

rnn_forward = forward_exercise(
    "rnn_forward", topic=TOPIC, summary="a vanilla RNN over a whole sequence",
    args=("x", "h0", *PARAMETERS), outputs=("out",), make_cases=_sequence_cases, package=F.rnn_forward,
    doc="""
Run a vanilla tanh RNN over a sequence: h_t = tanh(x[t] @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh),
starting from h_{-1} = h0. (Use your rnn_step_forward in a loop.)

Args:
    x: (T, B, I) inputs, time first.  h0: (B, H) initial state.
    W_ih: (H, I), W_hh: (H, H), b_ih, b_hh: (H,).

Returns:
    out: (T, B, H) every hidden state: out[t] = h_t (out[-1] is the final state).
    cache: the tuple (x, h0, W_ih, W_hh, b_ih, b_hh, out); rnn_backward receives it.
""",
    mistakes=mistakes(
        _sequence,
        ("state_not_carried", "each step must start from the state the previous step produced, not from h0."),
        ("off_by_one_output", "out[t] is the state after reading x[t] (h_t), not the one before it (h_{t-1})."),
        ("W_hh_not_transposed", W_HH_LAYOUT),
        ("missing_tanh", "each state is tanh of its pre-activation."),
    ))

rnn_backward = backward_exercise(
    "rnn_backward", forward=rnn_forward, summary="backpropagation through time for a vanilla RNN",
    grads=("x", "h0", *PARAMETERS),
    package_backward=lambda d_out, cache: F.rnn_backward(d_out, None, cache),
    doc="""
Backpropagation through time (see rnn_forward), from the last step to the first (your
rnn_step_backward does each step). d_out[t] is the gradient from the loss at step t only; h_t also
influenced every later step. The previous state of step 0 is h0.

Args:
    d_out: (T, B, H) upstream gradient; do not modify it.
    cache: the tuple (x, h0, W_ih, W_hh, b_ih, b_hh, out) returned by rnn_forward.

Returns:
    dict with keys "x" (T, B, I), "h0" (B, H), "W_ih" (H, I), "W_hh" (H, H), "b_ih" (H,), "b_hh" (H,).
""",
    mistakes=mistakes(
        _sequence_backward,
        ("dh_not_accumulated", "the gradient reaching h_t has two parts: d_out[t] from the loss at step t, and "
                               "the dh_prev computed at step t+1. Add them before going back through step t."),
        ("off_by_one_in_time", "step t multiplies h_{t-1}, so dW_hh sums da_t.T @ h_{t-1}: use h0 for t = 0 and "
                               "out[t-1] after, not out[t]."),
        ("weights_from_one_step", "W_ih, W_hh and the biases are used at every step: their gradients are sums "
                                  "over all T steps (+=), not the value of one step."),
        ("W_hh_not_transposed", W_HH_TRANSPOSE),
        ("mutates_upstream", "d_out[t] is a view into the caller's d_out, not a copy: adding into it in place "
                             "(+=) changes d_out. Add with + into a new array instead.", "d_out"),
    ))

EXERCISES = [rnn_step_forward, rnn_step_backward, rnn_forward, rnn_backward]
