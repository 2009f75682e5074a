"""The cell registry: every entry is consistent with its functions, and unknown names are refused."""
import numpy as np
import pytest

from rnnscratch.functional.cells import CELL_NAMES, CELLS, get_cell


def test_names_are_the_one_spelling():
    assert CELL_NAMES == ("rnn", "rnn_relu", "lstm", "gru")
    assert all(CELLS[name].name == name for name in CELL_NAMES)


@pytest.mark.parametrize("name", CELL_NAMES)
def test_entry_matches_its_functions(name, rng):
    cell = get_cell(name)
    inputs = cell.random_inputs(rng, 3, 2, 4, 5)
    assert inputs["W_ih"].shape == (cell.num_gates * 5, 4)
    assert ("c0" in inputs) == cell.has_cell_state
    out, *finals, cache = cell.forward(**inputs)
    assert out.shape == (3, 2, 5) and len(finals) == len(cell.state_names)
    state = tuple(inputs[n] for n in cell.initial_names)
    params = tuple(inputs[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh"))
    out2, final2, cache2 = cell.run(inputs["x"], state, params)
    np.testing.assert_array_equal(out, out2)
    grads = cell.run_backward(np.ones_like(out), (None,) * len(state), cache2)
    assert set(grads) == set(inputs)
    kept = cache2.saved_arrays()
    assert kept and all(hasattr(a, "nbytes") for a in kept)
    assert all(a is not inputs["x"] and a is not inputs["W_hh"] for a in kept)


def test_unknown_cell_names_the_choices():
    with pytest.raises(ValueError, match=r"cell: expected one of rnn, rnn_relu, lstm, gru, got 'LSTM'"):
        get_cell("LSTM")
