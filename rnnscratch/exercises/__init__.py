"""Exercises for the course: a grader that runs a learner's function, compares and names the mistake.

In a notebook::

    from rnnscratch import exercises
    print(exercises.describe("rnn_step_forward"))          # the cell to start from: signature, shapes

    def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        ...

    rnn_step_forward = exercises.check("rnn_step_forward", rnn_step_forward)

:func:`check` prints a short report and returns the learner's function when it passes, the reference
otherwise (so the next cells keep working). :func:`grade` prints nothing and returns a :class:`Result`.
"""
from __future__ import annotations

import difflib

from . import grader
from .catalog import EXERCISES
from .grader import Hint, OutputResult, Result

__all__ = ["check", "grade", "list_exercises", "describe", "Result", "OutputResult", "Hint"]


def _exercise(name):
    try:
        return EXERCISES[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), list(EXERCISES), n=3)
        suggestion = f"; did you mean {', '.join(close)}?" if close else "; see list_exercises()"
        raise KeyError(f"no exercise named {name!r}{suggestion}") from None


def grade(name: str, fn, *, seed: int = 0) -> Result:
    """Grade ``fn`` against exercise ``name`` on seeded random cases; print nothing, raise nothing that
    ``fn`` raises. Raises ``KeyError`` only for an unknown exercise name."""
    return grader.grade(_exercise(name), fn, seed=seed)


def check(name: str, fn, *, seed: int = 0, file=None):
    """Grade, print the report, and return ``fn`` if it passed, else the reference implementation.

    Never raises: an unknown name is reported and ``fn`` is returned unchanged.
    """
    try:
        exercise = _exercise(name)
    except KeyError as error:
        print(error.args[0], file=file)
        return fn
    result = grader.grade(exercise, fn, seed=seed)
    grader.print_report(result, fallback=not result.passed, file=file)
    return fn if result.passed else exercise.reference


def list_exercises(topic: str | None = None) -> list:
    """Exercise names in course order (only ``topic``'s when given)."""
    return [n for n, ex in EXERCISES.items() if topic is None or ex.topic == topic]


def describe(name: str) -> str:
    """The cell to start from: the signature, the docstring (shapes, returns) and ``raise NotImplementedError``."""
    return _exercise(name).stub()
