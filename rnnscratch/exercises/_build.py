"""Helpers that the topic modules use to declare exercises: random cases, forward/backward pairs,
finite differences, and mistakes written as one named deviation from a textbook implementation.

A forward/backward pair is declared once around the package's own functions, with its conventions:

* ``package(*args) -> (*outputs, package_cache)``, a :mod:`rnnscratch.functional` forward called with the
  exercise's arguments (the exercise keeps the first ``len(outputs)`` outputs); the package cache stays
  opaque: only the package's backward reads it;
* ``package_backward(*d_outputs, package_cache) -> {name: gradient}``.

The learner's forward returns ``(*outputs, cache)`` with ``cache = (*inputs, *outputs)``, a documented
tuple; the learner's backward receives it. The reference backward rebuilds the package cache by calling
the package forward on the inputs found in that tuple, so it never depends on the package cache's layout,
and a learner's forward works with the reference backward (and the other way round).
"""
from __future__ import annotations

from functools import partial

import numpy

from .. import gradcheck
from .grader import Case, Exercise, Mistake


PACKAGE_FORWARD: dict = {}     # forward exercise name -> the package forward it is built on


def label(**dims) -> str:
    return " ".join(f"{k}={v}" for k, v in dims.items())


def normal(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


def cell_parameters(rng, gates, I, H, scale=0.5):
    """``W_ih (G*H, I), W_hh (G*H, H), b_ih, b_hh (G*H,)``: non-symmetric, non-zero biases."""
    return (normal(rng, gates * H, I, scale=scale), normal(rng, gates * H, H, scale=scale),
            normal(rng, gates * H, scale=scale), normal(rng, gates * H, scale=scale))


def mistakes(variant, *entries) -> tuple:
    """Mistakes from ``(id, hint)`` or ``(id, hint, mutated argument)`` entries.

    Each mistake's function is ``variant`` with ``mistake=id``: the textbook implementation with that
    one thing done wrong (``mistake=None`` is the textbook itself; the tests check it passes).
    """
    return tuple(Mistake(entry[0], entry[1], partial(variant, mistake=entry[0]),
                         mutates=entry[2] if len(entry) > 2 else None) for entry in entries)


def with_cache(args, outputs) -> tuple:
    """What a forward exercise returns: ``(*outputs, cache)`` with ``cache = (*args, *outputs)``."""
    return (*outputs, (*args, *outputs))


def _named(fn, name, doc):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _run_package(package, n_outputs, args):
    """``(outputs, package_cache)`` of a package forward ``(*outputs, cache)``, keeping ``n_outputs``."""
    *outputs, cache = package(*args)
    return tuple(outputs[:n_outputs]), cache


def forward_exercise(name, *, topic, summary, args, outputs, doc, make_cases, package, mistakes=(), **options):
    """A forward exercise around the package forward ``package(*args) -> (*outputs, package_cache)``."""
    PACKAGE_FORWARD[name] = package

    def reference(*values):
        return with_cache(values, _run_package(package, len(outputs), values)[0])
    return Exercise(name, topic, summary, tuple(args), (*outputs, "cache"), doc, make_cases,
                    _named(reference, name, doc), tuple(mistakes), cache=(*args, *outputs), **options)


def backward_exercise(name, *, forward: Exercise, summary, grads, doc, package_backward, mistakes=(), wrt=None,
                      upstream=None, **options):
    """The backward paired with ``forward``: ``name(*d_outputs, cache) -> {grad name: array}``, one upstream
    gradient per output of the forward, named ``dh``, ``dc`` for the states and ``d_<output>`` otherwise
    (or ``upstream``, the names in the forward's output order).

    Cases are the forward's cases (those that do not raise) with random upstream gradients; ``wrt``
    (default ``grads``) are the inputs compared with central differences too.
    """
    n_inputs, outputs = len(forward.args), [n for n in forward.returns if n != "cache"]
    upstream = tuple(upstream or (f"d{n}" if n in ("h", "c") else f"d_{n}" for n in outputs))
    package = PACKAGE_FORWARD[forward.name]

    def run(args):
        return _run_package(package, len(outputs), args)

    def reference(*values):
        *d_outputs, cache = values
        return package_backward(*d_outputs, run(cache[:n_inputs])[1])

    def make_cases(rng):
        cases = []
        for case in forward.make_cases(rng):
            if case.raises is not None:
                continue
            outputs = run(case.args)[0]
            d_outputs = tuple(rng.standard_normal(numpy.shape(o)) for o in outputs)
            arrays = {n: case.args[forward.args.index(n)] for n in (wrt or grads)}
            numeric, floor = finite_differences(lambda: run(case.args)[0], d_outputs, arrays)
            cases.append(Case(case.label, (*d_outputs, (*case.args, *outputs)), numeric=numeric,
                              numeric_floor=floor))
        return cases

    return Exercise(name, forward.topic, summary, (*upstream, "cache"), tuple(grads), doc, make_cases,
                    _named(reference, name, doc), tuple(mistakes), returns_dict=True, **options)


def finite_differences(outputs_fn, d_outputs, arrays):
    """Central differences of ``L = sum_k <d_outputs[k], outputs_fn()[k]>`` with respect to each array
    (perturbed in place and restored), and the denominator floor that :mod:`rnnscratch.gradcheck` uses."""
    def scalar():
        return sum(float((g * o).sum()) for g, o in zip(d_outputs, outputs_fn()))

    numeric = {name: gradcheck.numerical_gradient(scalar, x) for name, x in arrays.items()}
    magnitude = sum(float(numpy.abs(g * o).sum()) for g, o in zip(d_outputs, outputs_fn()))
    return numeric, gradcheck.resolution_floor(magnitude, gradcheck.DEFAULT_EPS)


class FixedDraws:
    """A stand-in for a NumPy ``Generator`` that hands the package given uniform draws (``random``) and
    records the probabilities it samples from (``choice``), so that its random functions can serve as
    deterministic references."""

    def __init__(self, uniform=None):
        self.uniform, self.p = uniform, None

    def random(self, shape, dtype=numpy.float64):
        return numpy.asarray(self.uniform, dtype=dtype).reshape(shape)

    def choice(self, n, p=None):
        self.p = numpy.asarray(p, dtype=numpy.float64)
        return 0
