"""The grader's behaviour towards a learner: never crash, report, fall back to the reference."""
import inspect
import warnings

import numpy as np
import pytest

from rnnscratch import exercises
from rnnscratch import functional as F
from rnnscratch.exercises.catalog import EXERCISES


def not_done(*args):
    raise NotImplementedError


def test_not_done_is_reported_and_check_returns_the_reference(capsys):
    returned = exercises.check("rnn_step_forward", not_done)
    out = capsys.readouterr().out
    assert "rnn_step_forward: not done yet" in out
    assert "returning the reference" in out
    assert returned is EXERCISES["rnn_step_forward"].reference
    assert exercises.grade("rnn_step_forward", not_done).status == "not done"


def test_any_other_error_is_reported_in_one_line_not_raised(capsys):
    def broken(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        a = x @ W_ih.T
        raise ValueError("first line\nsecond line")

    returned = exercises.check("rnn_step_forward", broken)
    out = capsys.readouterr().out
    assert "raised ValueError: first line" in out and "second line" not in out
    assert "of broken" in out                              # where, in the learner's code
    assert returned is EXERCISES["rnn_step_forward"].reference
    result = exercises.grade("rnn_step_forward", broken)
    assert result.status == "error" and result.error.startswith("ValueError: first line")


def test_a_passing_function_is_returned_as_it_is(capsys):
    def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        h = np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
        return h, (x, h_prev, W_ih, W_hh, b_ih, b_hh, h)

    assert exercises.check("rnn_step_forward", rnn_step_forward) is rnn_step_forward
    assert "rnn_step_forward: passed" in capsys.readouterr().out


def test_fallbacks_work_with_the_learners_functions(rng, capsys):
    """A learner's forward feeds the reference backward (and the reverse): the cache is a documented tuple."""
    def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        h = np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
        return h, (x, h_prev, W_ih, W_hh, b_ih, b_hh, h)

    forward = exercises.check("rnn_step_forward", rnn_step_forward)
    backward = exercises.check("rnn_step_backward", not_done)
    capsys.readouterr()
    args = (rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((4, 3)),
            rng.standard_normal((4, 4)), rng.standard_normal(4), rng.standard_normal(4))
    dh = rng.standard_normal((2, 4))
    h, cache = forward(*args)
    grads = backward(dh, cache)
    expected = F.rnn_step_backward(dh, F.rnn_step_forward(*args)[1])
    for name in expected:
        np.testing.assert_allclose(grads[name], expected[name])


def test_report_never_contains_the_reference_source():
    for name, ex in EXERCISES.items():
        sources = [inspect.getsource(ex.reference)] + [inspect.getsource(m.fn.func) for m in ex.mistakes[:1]]
        code_lines = {line.strip() for src in sources for line in src.splitlines()
                      if len(line.strip()) > 12 and not line.strip().startswith(("#", '"', "'"))}
        for fn in [not_done] + [m.fn for m in ex.mistakes]:
            report = str(exercises.grade(name, fn))
            leaked = [line for line in code_lines if line in report]
            assert not leaked, (name, leaked)


def test_changing_an_argument_is_reported(capsys):
    def softmax(z):
        z -= z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    result = exercises.grade("softmax", softmax)
    assert result.status == "failed"
    assert [o.name for o in result.outputs if not o.passed] == ["argument z"]
    assert result.hint_ids == ["shift_in_place"]


def test_an_undeclared_change_gets_the_generic_hint():
    def perplexity(mean_loss):
        return np.exp(mean_loss), mean_loss / np.log(2)

    def log_softmax(z):
        z[...] = F.log_softmax(z)
        return z.copy()

    assert exercises.grade("perplexity", perplexity).passed
    result = exercises.grade("log_softmax", log_softmax)
    assert result.hint_ids == ["mutates_argument"]


def test_missing_return_and_wrong_structure():
    result = exercises.grade("rnn_step_forward", lambda *args: None)
    assert result.status == "failed" and result.hint_ids == ["return_value"]
    assert "is a `return` missing?" in str(result)
    result = exercises.grade("rnn_step_forward", lambda x, *rest: np.tanh(x))
    assert "expected a tuple (h, cache)" in str(result)


def test_gradients_may_be_a_tuple_in_the_documented_order():
    def rnn_step_backward(dh, cache):
        x, h_prev, W_ih, W_hh, b_ih, b_hh, h = cache
        da = dh * (1 - h ** 2)
        return da @ W_ih, da @ W_hh, da.T @ x, da.T @ h_prev, da.sum(0), da.sum(0)

    result = exercises.grade("rnn_step_backward", rnn_step_backward)
    assert result.passed, str(result)
    assert all(o.numeric_error is not None and o.numeric_error < 1e-6 for o in result.outputs)


def test_a_wrong_cache_gets_the_cache_hint():
    def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        h = np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
        return h, (x, h_prev, W_ih, W_hh, h)

    result = exercises.grade("rnn_step_forward", rnn_step_forward)
    assert [o.name for o in result.outputs if not o.passed] == ["cache"]
    assert result.hint_ids == ["cache_layout"]
    assert "(x, h_prev, W_ih, W_hh, b_ih, b_hh, h)" in str(result)


def test_generic_hints_transposed_scaled_signature():
    def affine_backward(d_out, cache):
        x, W, b, _ = cache
        rows, d_rows = x.reshape(-1, x.shape[-1]), d_out.reshape(-1, W.shape[0])
        return {"x": d_out @ W, "W": (d_rows.T @ rows).T, "b": 3 * d_rows.sum(0)}

    result = exercises.grade("temporal_affine_backward", affine_backward)
    hints = {o.name: o.hint.id for o in result.outputs if o.hint}
    assert hints["b"] == "scaled"
    assert hints["W"] in ("dW_transposed", "transposed")
    result = exercises.grade("perplexity", lambda a, b: (a, b))
    assert result.status == "error" and result.hint_ids == ["signature"]


def test_unknown_name_and_not_a_function(capsys):
    fn = lambda x: x                                      # noqa: E731
    assert exercises.check("rnn_step_froward", fn) is fn
    assert "did you mean rnn_step_forward" in capsys.readouterr().out
    with pytest.raises(KeyError):
        exercises.grade("nope", fn)
    assert exercises.grade("softmax", 42).status == "error"


def test_cases_are_deterministic_and_the_seed_changes_them():
    fn = EXERCISES["rnn_backward"].mistakes[0].fn
    first, again = exercises.grade("rnn_backward", fn), exercises.grade("rnn_backward", fn)
    assert str(first) == str(again)
    other = exercises.grade("rnn_backward", fn, seed=1)
    assert other.hint_ids == first.hint_ids
    assert [o.rel_error for o in other.outputs] != [o.rel_error for o in first.outputs]


def test_overflow_warnings_stay_inside_the_grader():
    def softmax(z):
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = exercises.grade("softmax", softmax)
    assert result.hint_ids == ["no_max_shift"]
    assert "NaN or inf" in str(result)


def test_a_hint_is_a_named_mistake_per_output():
    """Two independent mistakes in one function: each wrong output gets its own hint."""
    def rnn_step_backward(dh, cache):
        x, h_prev, W_ih, W_hh, b_ih, b_hh, h = cache
        da = dh * (1 - h ** 2)
        db = da.mean(axis=0)
        return {"x": da @ W_ih, "h_prev": da @ W_hh.T, "W_ih": da.T @ x, "W_hh": da.T @ h_prev,
                "b_ih": db, "b_hh": db}

    result = exercises.grade("rnn_step_backward", rnn_step_backward)
    hints = {o.name: o.hint.id for o in result.outputs if o.hint}
    assert hints == {"h_prev": "W_hh_not_transposed", "b_ih": "bias_mean_over_batch", "b_hh": "bias_mean_over_batch"}


def test_float32_results_fail_with_a_precision_hint():
    def clip_grad_value(grads, clip_value):
        return [np.clip(g, -clip_value, clip_value).astype(np.float32) for g in grads]

    result = exercises.grade("clip_grad_value", clip_grad_value)
    assert not result.passed and result.hint_ids == ["low_precision"]
    assert "float32" in str(result)
