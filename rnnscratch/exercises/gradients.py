"""Exercises on checking gradients: the relative error and the central-difference gradient.

References: :func:`rnnscratch.gradcheck.rel_error` and :func:`rnnscratch.gradcheck.numerical_gradient`.
"""
from __future__ import annotations

import numpy

from .. import gradcheck
from ._build import label, mistakes, normal
from .grader import Case, Exercise

TOPIC = "gradients"


# ----------------------------------------------------------------------------- relative error

def _rel_error_cases(rng):
    a = normal(rng, 3, 4)
    zeros = normal(rng, 2, 5)
    zeros[0, :2] = 0.0                                   # entries that are 0 in both arrays
    other = zeros + 1e-3 * normal(rng, 2, 5)
    other[0, :2] = 0.0
    one_sided = normal(rng, 6)
    one_sided[2] = 0.0                                   # 0 in the first array only
    return [Case(label(shape=(3, 4)) + ", b = a + 1e-6 noise", (a, a + 1e-6 * normal(rng, 3, 4))),
            Case(label(shape=(2, 5)) + ", zeros in both", (zeros, other)),
            Case(label(shape=(6,)) + ", a zero in a only", (one_sided, one_sided + 0.1 * normal(rng, 6)))]


def _textbook_rel_error(a, b, mistake=None):
    if mistake == "norm_ratio":
        return float(numpy.linalg.norm(a - b) / (numpy.linalg.norm(a) + numpy.linalg.norm(b)))
    if mistake == "relative_to_first_only":
        errors = numpy.abs(a - b) / numpy.abs(a)
    else:
        denominator = numpy.abs(a) + numpy.abs(b)
        errors = numpy.abs(a - b) / (denominator if mistake == "no_floor" else numpy.maximum(denominator, 1e-12))
    return float(errors.mean() if mistake == "mean_instead_of_max" else errors.max())


rel_error = Exercise(
    "rel_error", TOPIC, "the relative error that gradient checks report", ("a", "b"), ("error",),
    """
The largest entry-wise relative error between two arrays of the same shape:

    max over entries of |a - b| / max(|a| + |b|, 1e-12)

The floor keeps an entry that is 0 in both arrays from giving 0 / 0. Correct float64 gradients give
about 1e-8 or less; a wrong one gives errors near 1.

Args:
    a, b: arrays of the same shape.

Returns:
    error: a float.
""",
    _rel_error_cases, lambda a, b: gradcheck.rel_error(a, b),
    mistakes(_textbook_rel_error,
             ("mean_instead_of_max", "report the worst entry (the maximum): one wrong entry among many must show."),
             ("relative_to_first_only", "divide by |a| + |b| (floored), not by |a| alone: it is symmetric, and an entry "
                                        "that is 0 in a must not give inf."),
             ("no_floor", "entries that are 0 in both arrays give 0 / 0 = NaN: floor the denominator with "
                          "np.maximum(|a| + |b|, 1e-12)."),
             ("norm_ratio", "this is the entry-wise error (max over entries), not a ratio of norms, which a few "
                            "wrong entries among many large ones would hide.")))


# ----------------------------------------------------------------------------- central differences

def _numeric_cases(rng):
    A, M, c = normal(rng, 3, 4), normal(rng, 5, 5), normal(rng, 5)

    def waves(x):
        return float((numpy.sin(3 * x) * A).sum())

    def quadratic(x):
        return float(0.5 * x @ M @ x + c @ x + (x ** 3).sum())

    def log_sum_exp(x):
        return float(numpy.log(numpy.exp(x).sum()) * 2.0)

    return [Case("f(x) = sum(sin(3 x) * A), x (3, 4)", (waves, normal(rng, 3, 4), 1e-5)),
            Case("f(x) = x.M.x / 2 + c.x + sum(x^3), x (5,)", (quadratic, normal(rng, 5), 1e-5)),
            Case("f(x) = 2 log(sum(exp(x))), x (2, 3), eps=1e-4", (log_sum_exp, normal(rng, 2, 3), 1e-4))]


def _reference_numerical_gradient(f, x, eps=gradcheck.DEFAULT_EPS):
    return gradcheck.numerical_gradient(lambda: f(x), x, eps)


def _textbook_numerical_gradient(f, x, eps=gradcheck.DEFAULT_EPS, mistake=None):
    grad = numpy.zeros_like(x)
    flat, out = x.reshape(-1), grad.reshape(-1)
    if mistake == "perturbs_all_entries":
        base = x.copy()
        f_plus, f_minus = f(base + eps), f(base - eps)
        return numpy.full_like(x, (f_plus - f_minus) / (2 * eps))
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = f(x)
        flat[i] = old if mistake == "forward_difference" else old - eps
        f_minus = f(x)
        if mistake != "not_restored":
            flat[i] = old
        if mistake == "forward_difference":
            out[i] = (f_plus - f_minus) / eps
        else:
            out[i] = (f_plus - f_minus) / (eps if mistake == "missing_factor_two" else 2 * eps)
    return grad


numerical_gradient = Exercise(
    "numerical_gradient", TOPIC, "the central-difference gradient of a scalar function", ("f", "x", "eps"), ("grad",),
    """
The numerical gradient of a scalar function by central differences, one entry at a time:

    grad[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

where e_i is 1 at entry i and 0 elsewhere. Perturb x in place (np.nditer or x.reshape(-1) for any
shape) and put each entry back to its exact old value: x must be unchanged when you return.

Args:
    f: a function of one array returning a float.  x: float64 array of any shape.  eps: the step.

Returns:
    grad: shaped like x.
""",
    _numeric_cases, _reference_numerical_gradient,
    mistakes(_textbook_numerical_gradient,
             ("forward_difference", "(f(x + eps) - f(x)) / eps has an error proportional to eps; the central "
                                    "difference (f(x + eps) - f(x - eps)) / (2 eps) has one proportional to eps**2."),
             ("missing_factor_two", "the two evaluations are 2 eps apart: divide by 2 * eps."),
             ("perturbs_all_entries", "perturb one entry at a time: moving all of x at once measures a directional "
                                      "derivative, not the gradient."),
             ("not_restored", "put each entry back to its old value after its two evaluations: the caller's x must be "
                              "unchanged, and the next entries are measured at the wrong point otherwise.", "x")),
    defaults={"eps": gradcheck.DEFAULT_EPS}, tolerance=1e-6)

EXERCISES = [rel_error, numerical_gradient]
