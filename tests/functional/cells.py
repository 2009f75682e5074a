"""One table describing the three recurrent cells, so every test runs on all of them alike."""
from dataclasses import dataclass
from functools import partial
from typing import Callable

from rnnscratch import functional as F
from rnnscratch.selfcheck import recurrent_inputs


@dataclass(frozen=True)
class Cell:
    name: str
    num_gates: int
    has_cell_state: bool
    forward: Callable
    backward: Callable
    step_forward: Callable
    step_backward: Callable

    def make_inputs(self, rng, T, B, I, H, scale=0.5, dtype="float64"):
        """Random float inputs, keyed by the sequence forward's argument names."""
        inputs = recurrent_inputs(rng, self.num_gates, T, B, I, H, self.has_cell_state, scale)
        return {k: v.astype(dtype) for k, v in inputs.items()}

    def step_inputs(self, seq_inputs, t=0):
        """The step function's arguments for step t of a sequence's inputs."""
        step = {k: v for k, v in seq_inputs.items() if k.startswith(("W_", "b_"))}
        step["x"] = seq_inputs["x"][t].copy()
        step["h_prev"] = seq_inputs["h0"]
        if self.has_cell_state:
            step["c_prev"] = seq_inputs["c0"]
        return step


CELLS = [
    Cell("rnn_tanh", 1, False, partial(F.rnn_forward, nonlinearity="tanh"), F.rnn_backward,
         partial(F.rnn_step_forward, nonlinearity="tanh"), F.rnn_step_backward),
    Cell("rnn_relu", 1, False, partial(F.rnn_forward, nonlinearity="relu"), F.rnn_backward,
         partial(F.rnn_step_forward, nonlinearity="relu"), F.rnn_step_backward),
    Cell("lstm", 4, True, F.lstm_forward, F.lstm_backward, F.lstm_step_forward, F.lstm_step_backward),
    Cell("gru", 3, False, F.gru_forward, F.gru_backward, F.gru_step_forward, F.gru_step_backward),
]
CELL_IDS = [c.name for c in CELLS]
