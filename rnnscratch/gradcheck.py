r"""Finite-difference gradient checks: the proof behind every hand-written backward pass.

Central differences in float64::

    df/dx_i  ~  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

compared entry by entry with the analytic gradient through the relative error
``|a - n| / max(|a| + |n|, tiny)``. In float64 a correct backward gives about 1e-8 or less; a wrong
one gives errors near 1.

Three levels of use:

* :func:`rel_error` and :func:`numerical_gradient` — the two lines of a notebook cell;
* :func:`check_gradients` — any scalar function of named arrays, with their analytic gradients;
* :func:`check_function` — a ``forward(**inputs) -> (*outputs, cache)`` / ``backward(*d_outputs, cache)``
  pair from :mod:`rnnscratch.functional`; the scalar is ``sum_k <G_k, output_k>`` for fixed random
  ``G_k``, so every output and every input is exercised.

Large arrays are checked at a random sample of entries (``max_entries``), so checking a real layer
costs seconds, not hours.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy

from . import backend

__all__ = ["rel_error", "numerical_gradient", "check_gradients", "check_function", "check_module",
           "ArrayCheck", "GradcheckReport"]

DEFAULT_TOLERANCE = 1e-6
DEFAULT_EPS = 1e-5           # central-difference step: round-off and truncation balance near here
ROUNDOFF = float(numpy.finfo(numpy.float64).eps)


def resolution_floor(magnitude, eps) -> float:
    """Default ``tiny``: the smallest gradient entry that central differences can judge relatively.

    ``magnitude`` is the size of what ``f`` adds up: ``|f|`` when nothing more is known, or the sum of
    the absolute values of its terms, which is larger when they cancel (and round-off follows the
    terms, not their sum). The numeric derivative carries round-off of about
    ``ROUNDOFF * magnitude / eps`` (about 2e-11 for a magnitude of 1 and ``eps = 1e-5``). Entries
    smaller than a million times that are compared through the absolute difference instead
    (``|a - n| / tiny``), so an entry that is zero in truth cannot fail on round-off alone, while any
    real error above ~1e-10 (times the magnitude) still fails a 1e-6 tolerance.
    """
    return 1e6 * ROUNDOFF * max(1.0, abs(float(magnitude))) / eps


def rel_error(a, b, tiny=1e-12) -> float:
    """Largest entry-wise relative error ``|a - b| / max(|a| + |b|, tiny)`` (0.0 for empty arrays)."""
    a = numpy.asarray(backend.to_numpy(a), dtype=numpy.float64)
    b = numpy.asarray(backend.to_numpy(b), dtype=numpy.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(numpy.max(numpy.abs(a - b) / numpy.maximum(numpy.abs(a) + numpy.abs(b), tiny)))


def _require_float64(name, x):
    if getattr(x, "dtype", None) != numpy.float64:
        raise TypeError(f"gradcheck: '{name}' must be float64 (got {getattr(x, 'dtype', type(x).__name__)}); "
                        "central differences in float32 carry errors around 1e-3 and prove nothing")


def _numeric_entries(f, x, flat_indices, eps):
    """Central differences of the scalar ``f()`` with respect to ``x`` at the given flat indices.

    ``x`` is perturbed in place, one entry at a time, and restored to its exact old value.
    """
    flat = x.reshape(-1)
    values = numpy.empty(len(flat_indices))
    for k, i in enumerate(flat_indices):
        i = int(i)
        old = flat[i].item()
        flat[i] = old + eps
        f_plus = float(f())
        flat[i] = old - eps
        f_minus = float(f())
        flat[i] = old
        values[k] = (f_plus - f_minus) / (2 * eps)
    return values


def numerical_gradient(f, x, eps=DEFAULT_EPS):
    """Full numerical gradient of the scalar ``f()`` with respect to the float64 array ``x``.

    ``f`` takes no arguments and must read ``x`` (which is perturbed in place and restored).
    Returns a host NumPy array shaped like ``x``.
    """
    _require_float64("x", x)
    _require_contiguous("x", x)
    return _numeric_entries(f, x, range(x.size), eps).reshape(x.shape)


def _require_contiguous(name, x):
    if not x.flags.c_contiguous:
        raise ValueError(f"gradcheck: '{name}' must be C-contiguous so entries can be perturbed in place")


@dataclass
class ArrayCheck:
    """The outcome for one array: how many entries were compared and the worst relative error."""
    name: str
    shape: tuple
    checked: int
    max_rel_error: float
    worst_index: tuple
    analytic: float
    numeric: float

    def row(self) -> str:
        return (f"{self.name:<12} {str(self.shape):<16} {self.checked:>7}  {self.max_rel_error:10.2e}  "
                f"at {str(self.worst_index):<14} analytic {self.analytic: .6e}  numeric {self.numeric: .6e}")


class GradcheckReport(dict):
    """``{array name: ArrayCheck}``, printable as a table, with a pass/fail verdict."""

    def __init__(self, *args, tiny=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.tiny = tiny

    @property
    def max_rel_error(self) -> float:
        return max((c.max_rel_error for c in self.values()), default=0.0)

    def passed(self, tol: float = DEFAULT_TOLERANCE) -> bool:
        return self.max_rel_error < tol

    def assert_ok(self, tol: float = DEFAULT_TOLERANCE) -> "GradcheckReport":
        """Raise ``AssertionError`` with the whole table if any array's error reaches ``tol``."""
        if not self.passed(tol):
            raise AssertionError(f"gradient check failed (tolerance {tol:.0e}):\n{self}")
        return self

    def __str__(self) -> str:
        header = f"{'array':<12} {'shape':<16} {'checked':>7}  {'max rel err':>10}   (denominator floor {self.tiny:.1e})"
        return "\n".join([header] + [c.row() for c in self.values()])


def check_gradients(f, arrays, analytic, eps=DEFAULT_EPS, max_entries=200, seed=0, tiny=None) -> GradcheckReport:
    """Compare ``analytic[name]`` with central differences of the scalar ``f()`` for each array.

    Args:
        f: zero-argument callable returning the scalar loss; it must read the arrays in ``arrays``
            (they are perturbed in place and restored exactly).
        arrays: ``{name: float64 array}`` with respect to which to differentiate.
        analytic: ``{name: gradient}`` of the same shapes, from the backward pass under test.
        max_entries: arrays larger than this are checked at that many random entries.
        tiny: floor of the relative error's denominator; default :func:`resolution_floor` of ``f()``.
    """
    rng = numpy.random.default_rng(seed)
    if tiny is None:
        tiny = resolution_floor(f(), eps)
    report = GradcheckReport(tiny=tiny)
    for name, x in arrays.items():
        _require_float64(name, x)
        _require_contiguous(name, x)
        if name not in analytic:
            raise KeyError(f"gradcheck: no analytic gradient for '{name}' (have {sorted(analytic)})")
        grad = backend.to_numpy(analytic[name]).astype(numpy.float64)
        if grad.shape != tuple(x.shape):
            raise ValueError(f"gradcheck: analytic gradient of '{name}' has shape {grad.shape}, "
                             f"the array has {tuple(x.shape)}")
        if x.size <= max_entries:
            idx = numpy.arange(x.size)
        else:
            idx = numpy.sort(rng.choice(x.size, size=max_entries, replace=False))
        numeric = _numeric_entries(f, x, idx, eps)
        a = grad.reshape(-1)[idx]
        errors = numpy.abs(a - numeric) / numpy.maximum(numpy.abs(a) + numpy.abs(numeric), tiny)
        worst = int(numpy.argmax(errors)) if errors.size else 0
        report[name] = ArrayCheck(
            name=name, shape=tuple(x.shape), checked=int(idx.size),
            max_rel_error=float(errors[worst]) if errors.size else 0.0,
            worst_index=tuple(int(j) for j in numpy.unravel_index(idx[worst], x.shape)) if errors.size else (),
            analytic=float(a[worst]) if errors.size else 0.0,
            numeric=float(numeric[worst]) if errors.size else 0.0,
        )
    return report


def check_function(forward, backward, inputs, wrt=None, seed=0, **options) -> GradcheckReport:
    """Gradient-check a ``forward`` / ``backward`` pair of pure functions.

    ``forward(**inputs)`` returns ``(*outputs, cache)``; ``backward(*d_outputs, cache)`` returns a dict
    of gradients keyed by input name. The checked scalar is ``L = sum_k sum(G_k * output_k)`` with
    fixed standard-normal ``G_k`` (seeded), so ``dL/d output_k = G_k`` is what backward receives.

    ``wrt``: names to check (default: every input that backward returned a gradient for).
    Other keyword options go to :func:`check_gradients`.
    """
    rng = numpy.random.default_rng(seed + 1)
    *outputs, cache = forward(**inputs)
    upstream = []
    for out in outputs:
        xp = backend.array_module(out=out)
        upstream.append(xp.asarray(rng.standard_normal(out.shape)))
    grads = backward(*upstream, cache)
    names = [n for n in inputs if n in grads] if wrt is None else list(wrt)
    if not names:
        raise ValueError("check_function: backward returned no gradient for any input")

    def scalar():
        *outs, _ = forward(**inputs)
        return sum(float((g * o).sum()) for g, o in zip(upstream, outs))

    _default_floor(options, upstream, outputs)
    return check_gradients(scalar, {n: inputs[n] for n in names}, grads, seed=seed, **options)


def _default_floor(options, upstream, outputs):
    """Set ``options["tiny"]`` (unless given) for ``L = sum_k sum(G_k * output_k)``: from the total size
    ``sum_k sum |G_k * output_k|`` of its terms, since they can cancel to a small L whose round-off
    is still that of the terms (a true gradient of 1e-5 once failed on round-off under |L|'s floor)."""
    if options.get("tiny") is None:
        magnitude = sum(float(abs(g * o).sum()) for g, o in zip(upstream, outputs))
        options["tiny"] = resolution_floor(magnitude, options.get("eps", DEFAULT_EPS))


def _flatten(outputs):
    """Arrays of a (possibly nested) tuple of outputs, in order; None entries dropped."""
    if outputs is None:
        return []
    if isinstance(outputs, (tuple, list)):
        return [a for o in outputs for a in _flatten(o)]
    return [outputs]


def check_module(module, forward, backward, inputs=None, seed=0, **options) -> GradcheckReport:
    """Gradient-check a module: every parameter, and every input that ``backward`` returns a gradient for.

    ``forward(**inputs)`` returns the outputs (an array or a nested tuple such as ``(out, (h, c))``);
    ``backward(*d_outputs)`` receives one upstream gradient per flattened output and returns a dict of
    input gradients (empty when inputs are token ids). Parameters are compared as ``p.grad`` against
    central differences of ``p.data``. Put the module in eval mode, or fix its randomness, first.
    """
    inputs = inputs or {}
    rng = numpy.random.default_rng(seed + 1)
    outputs = _flatten(forward(**inputs))
    upstream = [backend.array_module(out=out).asarray(rng.standard_normal(out.shape)) for out in outputs]
    module.zero_grad()
    input_grads = backward(*upstream)
    if input_grads is None:
        input_grads = {}
    if not isinstance(input_grads, dict):
        raise TypeError(f"check_module: backward must return a dict of input gradients (or None), "
                        f"got {type(input_grads).__name__}")
    params = dict(module.named_parameters())
    arrays = {name: p.data for name, p in params.items()}
    analytic = {name: p.grad.copy() for name, p in params.items()}
    for name, grad in input_grads.items():
        arrays[name], analytic[name] = inputs[name], grad

    def scalar():
        return sum(float((g * o).sum()) for g, o in zip(upstream, _flatten(forward(**inputs))))

    _default_floor(options, upstream, outputs)
    return check_gradients(scalar, arrays, analytic, seed=seed, **options)
