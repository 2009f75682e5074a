"""The cell registry seen by the tests: every test over cells runs on every registered cell alike."""
from dataclasses import dataclass

from rnnscratch.functional.cells import CELLS as REGISTRY
from rnnscratch.functional.cells import Cell as RegistryEntry


@dataclass(frozen=True)
class Cell:
    """A registry entry (its attributes read through) plus input makers for the tests."""
    spec: RegistryEntry

    def __getattr__(self, name):
        return getattr(self.spec, name)

    def make_inputs(self, rng, T, B, I, H, scale=0.5, dtype="float64"):
        """Random float inputs, keyed by the sequence forward's argument names."""
        inputs = self.spec.random_inputs(rng, T, B, I, H, scale)
        return {k: v.astype(dtype) for k, v in inputs.items()}

    def step_inputs(self, seq_inputs, t=0):
        """The step function's arguments for step t of a sequence's inputs."""
        step = {k: v for k, v in seq_inputs.items() if k.startswith(("W_", "b_"))}
        step["x"] = seq_inputs["x"][t].copy()
        step["h_prev"] = seq_inputs["h0"]
        if self.has_cell_state:
            step["c_prev"] = seq_inputs["c0"]
        return step


CELLS = [Cell(spec) for spec in REGISTRY.values()]
CELL_IDS = [c.name for c in CELLS]
