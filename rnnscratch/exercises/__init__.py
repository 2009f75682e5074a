"""Exercises for the course: a grader that runs a learner's function, compares and names the mistake.

In a notebook::

    from rnnscratch import exercises
    print(exercises.describe("rnn_step_forward"))          # the cell to start from: signature, shapes

    def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        ...

    rnn_step_forward = exercises.check("rnn_step_forward", rnn_step_forward)

:func:`check` prints a short report and returns the learner's function when it passes, the reference
otherwise (so the next cells keep working). :func:`grade` prints nothing and returns a :class:`Result`
(``status``: passed, failed, not done, error; one :class:`OutputResult` per returned value and per argument
changed in place, with its worst relative error and its :class:`Hint`).

Conventions, as in CS231n's assignment 3 with PyTorch's shapes and names:

* a forward exercise returns ``(*outputs, cache)`` where ``cache`` is the documented tuple of its inputs
  then its outputs, e.g. ``(x, h_prev, W_ih, W_hh, b_ih, b_hh, h)``;
* the paired backward receives ``(*upstream gradients, cache)`` with that tuple (the grader builds it, so a
  backward is graded on its own) and returns a dict of gradients keyed by the forward's argument names
  (a tuple in the documented order is accepted too). The learner's functions and the references mix.

The grader runs each function on a few seeded random float64 cases (non-square shapes, B > 1, T > 1,
padding), compares with the package (:mod:`rnnscratch.functional`) and, for gradients, with central
differences (:mod:`rnnscratch.gradcheck`), and names the likely mistake by running the exercise's common
mistakes on the same cases. It never shows the reference's code.
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
