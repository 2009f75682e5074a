"""The registry of recurrent cells: one entry per cell, read by every other layer.

A cell is its functional file (``rnn.py``, ``lstm.py``, ``gru.py``: step and sequence forward/backward)
plus one :class:`Cell` entry here. Modules (:mod:`rnnscratch.nn`), checkpointed BPTT, the models, the
self-check, the benchmark, the command line's ``--model`` choices and the test tables all look cells
up here, so adding a cell (a peephole LSTM, say) touches its file, one entry below and its tests.

Names are one spelling everywhere (API, CLI, checkpoints, tests): ``rnn`` (tanh), ``rnn_relu``,
``lstm``, ``gru``.

Every entry also offers a uniform calling convention for code that treats all cells alike: the
recurrent *state* is a tuple, ``(h,)`` or ``(h, c)`` for a cell with a cell state::

    out, final_state, cache = cell.run(x, state, params, lengths=None, workspace=None)
    grads = cell.run_backward(d_out, d_final_state, cache)

with ``params = (W_ih, W_hh, b_ih, b_hh)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable

from .gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward


@dataclass(frozen=True)
class Cell:
    """Everything the package needs to know about one recurrent cell.

    Attributes:
        name: the one spelling used everywhere.
        num_gates: G, the number of ``H``-row blocks in ``W_ih (G*H, I)``, ``W_hh (G*H, H)``, biases ``(G*H,)``.
        has_cell_state: True when the state is ``(h, c)`` (LSTM) rather than ``h``.
        step_forward, step_backward: the textbook step, ``(x, h_prev[, c_prev], W_ih, W_hh, b_ih, b_hh)
            -> h[, c], cache`` and ``(dh[, dc], cache) -> grads``.
        forward, backward: the whole sequence (BPTT), ``(x, h0[, c0], W_ih, W_hh, b_ih, b_hh, lengths=None,
            workspace=None) -> out, h_n[, c_n], cache`` and ``(d_out, d_h_n[, d_c_n], cache) -> grads``.
        torch_class, torch_kwargs: what the PyTorch parity tests compare it with (``torch.nn.<class>(**kwargs)``).
        summary: one line for help texts.
    """
    name: str
    num_gates: int
    has_cell_state: bool
    step_forward: Callable
    step_backward: Callable
    forward: Callable
    backward: Callable
    torch_class: str
    torch_kwargs: dict = field(default_factory=dict)
    summary: str = ""

    @property
    def state_names(self):
        """``("h",)`` or ``("h", "c")``: the parts of the recurrent state, in order."""
        return ("h", "c") if self.has_cell_state else ("h",)

    @property
    def initial_names(self):
        """``("h0",)`` or ``("h0", "c0")``: the forward's initial-state arguments, also the backward's keys."""
        return tuple(name + "0" for name in self.state_names)

    def run(self, x, state, params, lengths=None, workspace=None):
        """The sequence forward with the state as a tuple: ``-> out (T, B, H), final state tuple, cache``."""
        out, *final, cache = self.forward(x, *state, *params, lengths=lengths, workspace=workspace)
        return out, tuple(final), cache

    def run_backward(self, d_out, d_state, cache):
        """The sequence backward with the final state's gradient as a tuple (entries may be None)."""
        return self.backward(d_out, *d_state, cache)

    def random_inputs(self, rng, T, B, I, H, scale=0.5):
        """Random float64 arguments of :attr:`forward`, keyed by name: x, h0 (, c0), W_ih, W_hh, b_ih, b_hh.

        Weights ~ N(0, scale^2) and small biases, so gates are neither dead nor saturated: what a gradient
        check needs. ``rng`` is a NumPy ``Generator``.
        """
        G = self.num_gates
        inputs = {
            "x": rng.standard_normal((T, B, I)),
            "h0": rng.standard_normal((B, H)) * 0.5,
            "W_ih": rng.standard_normal((G * H, I)) * scale,
            "W_hh": rng.standard_normal((G * H, H)) * scale,
            "b_ih": rng.standard_normal(G * H) * 0.1,
            "b_hh": rng.standard_normal(G * H) * 0.1,
        }
        if self.has_cell_state:             # drawn last, so every other array is the same for every cell
            inputs["c0"] = rng.standard_normal((B, H)) * 0.5
        return inputs


_ENTRIES = (
    Cell("rnn", 1, False, partial(rnn_step_forward, nonlinearity="tanh"), rnn_step_backward,
         partial(rnn_forward, nonlinearity="tanh"), rnn_backward, "RNN", {"nonlinearity": "tanh"},
         "Elman RNN, h = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)"),
    Cell("rnn_relu", 1, False, partial(rnn_step_forward, nonlinearity="relu"), rnn_step_backward,
         partial(rnn_forward, nonlinearity="relu"), rnn_backward, "RNN", {"nonlinearity": "relu"},
         "Elman RNN with a ReLU"),
    Cell("lstm", 4, True, lstm_step_forward, lstm_step_backward, lstm_forward, lstm_backward, "LSTM", {},
         "long short-term memory, gates i, f, g, o"),
    Cell("gru", 3, False, gru_step_forward, gru_step_backward, gru_forward, gru_backward, "GRU", {},
         "gated recurrent unit, gates r, z, n (PyTorch's variant)"),
)

CELLS = {cell.name: cell for cell in _ENTRIES}
CELL_NAMES = tuple(CELLS)


def get_cell(name) -> Cell:
    """The registry entry called ``name``; a clear error naming the choices otherwise."""
    try:
        return CELLS[name]
    except (KeyError, TypeError):
        raise ValueError(f"cell: expected one of {', '.join(CELL_NAMES)}, got {name!r}") from None
