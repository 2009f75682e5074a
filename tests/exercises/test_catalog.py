"""Every exercise: its reference passes, its textbook passes, and each common mistake is recognised."""
import functools
import inspect

import pytest

from rnnscratch import exercises
from rnnscratch.exercises.catalog import EXERCISES

MISTAKES = [(name, m) for name, ex in EXERCISES.items() for m in ex.mistakes]


def test_at_least_22_exercises_each_with_three_mistakes():
    assert len(EXERCISES) >= 22
    assert exercises.list_exercises() == list(EXERCISES)
    for name, ex in EXERCISES.items():
        assert len(ex.mistakes) >= 3, name
        assert len({m.id for m in ex.mistakes}) == len(ex.mistakes), name


@pytest.mark.parametrize("name", list(EXERCISES))
def test_reference_passes(name):
    result = exercises.grade(name, EXERCISES[name].reference)
    assert result.passed, str(result)
    assert len(result.cases) >= 3
    assert all(o.rel_error <= result.tolerance for o in result.outputs if o.rel_error is not None)


@pytest.mark.parametrize("name", list(EXERCISES))
def test_textbook_without_mistake_passes(name):
    """The wrong variants are the textbook with one thing changed: with nothing changed it passes."""
    variant = EXERCISES[name].mistakes[0].fn
    assert isinstance(variant, functools.partial)
    result = exercises.grade(name, functools.partial(variant.func, mistake=None))
    assert result.passed, str(result)


@pytest.mark.parametrize("name, mistake", MISTAKES, ids=[f"{n}-{m.id}" for n, m in MISTAKES])
def test_mistake_is_recognised(name, mistake):
    result = exercises.grade(name, mistake.fn)
    assert not result.passed
    assert result.status in ("failed", "error")
    assert mistake.id in result.hint_ids, str(result)
    assert mistake.hint.split()[0] in str(result)
    if mistake.mutates:
        assert f"argument {mistake.mutates}" in [o.name for o in result.outputs]


@pytest.mark.parametrize("name", list(EXERCISES))
def test_describe_gives_a_stub_that_is_not_done(name):
    stub = exercises.describe(name)
    namespace = {}
    exec(stub, namespace)                                   # noqa: S102 - our own stub text
    fn = namespace[name]
    assert list(inspect.signature(fn).parameters) == list(EXERCISES[name].args)
    assert exercises.grade(name, fn).status == "not done"


def test_list_exercises_by_topic():
    assert exercises.list_exercises("rnn") == ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward"]
    assert set(exercises.list_exercises("gated")) == {"lstm_step_forward", "lstm_step_backward",
                                                     "gru_step_forward", "gru_step_backward"}


def test_the_seq2seq_topic_comes_last_in_course_order():
    assert exercises.list_exercises("seq2seq") == ["teacher_forcing_batch", "beam_search_step",
                                                   "masked_softmax_forward", "masked_softmax_backward",
                                                   "dot_attention_forward", "dot_attention_backward"]
    assert exercises.list_exercises()[-6:] == exercises.list_exercises("seq2seq")
