r"""The grader: run a learner's function on random cases, compare, name the likely mistake.

For one exercise and one seed, the grader

1. builds a few random float64 cases (non-square shapes, B > 1, T > 1, padding where it applies);
2. calls the learner's function on a private copy of each case's arguments, catching every exception
   (``NotImplementedError`` means "not done yet"), and notes any argument changed in place;
3. compares every returned value with the reference (built on :mod:`rnnscratch.functional`) and, for
   gradients, with central differences (:mod:`rnnscratch.gradcheck`), as the worst relative error
   over the cases;
4. for each value that is wrong, runs the exercise's *common mistakes* (wrong variants kept in the
   topic modules) on the same cases: the first whose value equals the learner's gives the hint.
   An exception is matched the same way (same type and message on the same case), and a changed
   argument by the mistake that changes it.

The report shows names, errors and hints only; never the reference's code nor a mistake's code.
"""
from __future__ import annotations

import math
import os
import sys
import textwrap
import traceback
import warnings
import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy

from .. import gradcheck

TINY = 1e-8                 # floor of the relative error's denominator against the reference
MATCH_TOLERANCE = 1e-6      # a learner's value "is" a mistake's value within this relative error
SAME_ARGUMENT = {"rtol": 1e-12, "atol": 1e-15}   # an argument restored to round-off is unchanged
REPORT_WIDTH = 110


@dataclass(frozen=True)
class Hint:
    """A named likely mistake: ``id`` for programs and tests, ``text`` for the learner."""
    id: str
    text: str


@dataclass(frozen=True)
class Mistake:
    """A common mistake: its hint and a wrong implementation with the learner's signature.

    ``mutates``: the argument this mistake changes in place. Such a mistake is recognised by that
    argument changing, not by its return value.
    """
    id: str
    hint: str
    fn: Callable
    mutates: str | None = None


@dataclass
class Case:
    """One call: positional ``args`` named by the exercise, and what the grader knows about it.

    ``raises``: the exception type the call must raise (e.g. IndexError for an out-of-range id).
    ``numeric``: central-difference gradients by output name, compared with ``numeric_floor``.
    """
    label: str
    args: tuple
    raises: type | None = None
    numeric: dict = field(default_factory=dict)
    numeric_floor: float = 0.0


@dataclass(frozen=True)
class Exercise:
    """One exercise: what the learner writes and how it is graded.

    ``args``: parameter names in order (with ``defaults`` for the signature shown).
    ``returns``: names of the returned values; with ``returns_dict`` a dict keyed by them (a tuple in
    that order is accepted too). ``cache``: the entries of the ``cache`` tuple a forward returns: its
    inputs then its outputs, by name. ``list_outputs``: outputs that are lists of arrays.
    ``reference``: learner-shaped, built on the package. ``make_cases(rng) -> [Case]``.
    """
    name: str
    topic: str
    summary: str
    args: tuple
    returns: tuple
    doc: str
    make_cases: Callable
    reference: Callable
    mistakes: tuple = ()
    defaults: dict = field(default_factory=dict)
    returns_dict: bool = False
    cache: tuple = ()
    list_outputs: frozenset = frozenset()
    tolerance: float = 1e-7

    def signature(self) -> str:
        params = [f"{a}={self.defaults[a]!r}" if a in self.defaults else a for a in self.args]
        return f"{self.name}({', '.join(params)})"

    def stub(self) -> str:
        """The cell a learner starts from: signature, docstring, ``raise NotImplementedError``."""
        body = "\n".join(("    " + line).rstrip() for line in self.doc.strip("\n").splitlines())
        return f'def {self.signature()}:\n    """{body.lstrip()}\n    """\n    raise NotImplementedError\n'


# ----------------------------------------------------------------------------- results

@dataclass
class OutputResult:
    """One returned value (or a changed argument): verdict, worst errors over the cases, hint."""
    name: str
    passed: bool
    rel_error: float | None = None       # vs the reference, worst over the cases
    numeric_error: float | None = None   # vs central differences, worst over the cases
    problem: str | None = None
    hint: Hint | None = None


STATUSES = ("passed", "failed", "not done", "error")


@dataclass
class Result:
    """What :func:`grade` returns; ``str(result)`` is the printed report."""
    exercise: str
    status: str
    cases: list
    outputs: list = field(default_factory=list)
    error: str | None = None
    error_hint: Hint | None = None
    tolerance: float = 1e-7

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def hints(self) -> list:
        """Distinct hints, in report order."""
        found = [o.hint for o in self.outputs if o.hint] + ([self.error_hint] if self.error_hint else [])
        return list(dict.fromkeys(found))

    @property
    def hint_ids(self) -> list:
        return [h.id for h in self.hints]

    def report(self) -> str:
        return format_report(self)

    __str__ = report


# ----------------------------------------------------------------------------- running a function

@dataclass
class Outcome:
    """What one call did: its named values, or the exception it raised; the arguments it changed."""
    values: dict | None = None
    error: BaseException | None = None
    where: str | None = None
    mutated: tuple = ()
    unpack_problem: str | None = None

    @property
    def error_key(self):
        return None if self.error is None else (type(self.error), str(self.error))


def snapshot(value):
    """A copy of every array inside ``value`` (tuples, lists, dicts followed); other objects shared."""
    if isinstance(value, numpy.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        return type(value)(snapshot(v) for v in value)
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    return value


def unchanged(before, after) -> bool:
    """``after`` holds the same values as ``before`` (round-off of an exact restore allowed)."""
    if isinstance(before, numpy.ndarray):
        return (isinstance(after, numpy.ndarray) and before.shape == after.shape
                and bool(numpy.allclose(before, after, equal_nan=True, **SAME_ARGUMENT)))
    if isinstance(before, (tuple, list)):
        return (type(after) is type(before) and len(after) == len(before)
                and all(unchanged(b, a) for b, a in zip(before, after)))
    if isinstance(before, dict):
        return (isinstance(after, dict) and before.keys() == after.keys()
                and all(unchanged(before[k], after[k]) for k in before))
    return before is after or before == after


_NOT_LEARNER = tuple(os.path.dirname(os.path.dirname(m.__file__)) + os.sep for m in (numpy, traceback)) + (
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,)   # site-packages, stdlib, rnnscratch


def _learner_frame(error) -> str | None:
    """``"line N of fn"`` for the innermost frame outside NumPy, the standard library and this package."""
    where = None
    for frame, line in traceback.walk_tb(error.__traceback__):
        if not os.path.abspath(frame.f_code.co_filename).startswith(_NOT_LEARNER):
            where = f"line {line} of {frame.f_code.co_name}"
    return where


def call(fn, exercise: Exercise, case: Case) -> Outcome:
    """Call ``fn`` on a private copy of the case's arguments; never raises (but KeyboardInterrupt)."""
    args = snapshot(case.args)
    with numpy.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            returned = fn(*args)
        except Exception as error:          # noqa: BLE001 - the learner's code may raise anything
            return Outcome(error=error, where=_learner_frame(error))
    mutated = tuple(name for name, before, after in zip(exercise.args, case.args, args)
                    if not unchanged(before, after))
    try:
        return Outcome(values=unpack(returned, exercise), mutated=mutated)
    except _UnpackError as problem:
        return Outcome(mutated=mutated, unpack_problem=str(problem))


class _UnpackError(Exception):
    pass


def describe_value(value) -> str:
    if isinstance(value, numpy.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def unpack(returned, exercise: Exercise) -> dict:
    """The learner's return value as ``{output name: value}``."""
    names = exercise.returns
    if returned is None:
        raise _UnpackError("returned None: is a `return` missing?")
    if exercise.returns_dict:
        if isinstance(returned, dict):
            missing = [n for n in names if n not in returned]
            if missing:
                raise _UnpackError(f"the returned dict has no key {', '.join(map(repr, missing))} "
                                   f"(expected keys {', '.join(names)})")
            return {n: returned[n] for n in names}
        if isinstance(returned, (tuple, list)) and len(returned) == len(names):
            return dict(zip(names, returned))
        raise _UnpackError(f"expected a dict with keys {', '.join(names)}; got {describe_value(returned)}")
    if len(names) == 1:
        return {names[0]: returned}
    if isinstance(returned, (tuple, list)) and len(returned) == len(names):
        return dict(zip(names, returned))
    raise _UnpackError(f"expected a tuple ({', '.join(names)}); got {describe_value(returned)}")


# ----------------------------------------------------------------------------- comparing values

def distance(value, expected, tiny=TINY):
    """``(relative error, problem)`` of ``value`` against ``expected``: ``(inf, why)`` when they cannot be
    compared (shape, NaN/inf where the other is finite, not numbers)."""
    try:
        a = numpy.asarray(value, dtype=numpy.float64)
    except (TypeError, ValueError):
        return math.inf, f"got {describe_value(value)}, expected numbers"
    e = numpy.asarray(expected, dtype=numpy.float64)
    if a.shape != e.shape:
        problem = f"shape {a.shape}, expected {e.shape}"
        if a.ndim > 1 and a.shape == e.shape[::-1]:
            problem += " (transposed)"
        return math.inf, problem
    finite_a, finite_e = numpy.isfinite(a), numpy.isfinite(e)
    if (finite_a != finite_e).any():
        return math.inf, ("NaN or inf where the reference is finite" if (finite_e & ~finite_a).any()
                          else "finite where the reference is NaN or inf")
    return gradcheck.rel_error(a[finite_a], e[finite_e], tiny=tiny), None


def low_precision(value) -> str | None:
    """The name of a float dtype narrower than float64 inside ``value`` (an array or a list of them)."""
    values = value if isinstance(value, (list, tuple)) else [value]
    for v in values:
        dtype = getattr(v, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype.itemsize < 8:
            return str(dtype)
    return None


def list_distance(value, expected):
    """:func:`distance` for a list of arrays: the worst entry, and the first problem."""
    if not isinstance(value, (list, tuple)) or len(value) != len(expected):
        return math.inf, f"expected a list of {len(expected)} arrays; got {describe_value(value)}"
    results = [distance(v, e) for v, e in zip(value, expected)]
    problems = [f"entry {k}: {why}" for k, (_, why) in enumerate(results) if why]
    return max((err for err, _ in results), default=0.0), (problems[0] if problems else None)


def output_distance(exercise, name, value, expected):
    if name in exercise.list_outputs:
        return list_distance(value, expected)
    return distance(value, expected)


def cache_distance(exercise, cache, case_args, values):
    """The cache must be ``(inputs..., outputs...)``: inputs as given, outputs as the learner returned."""
    names = exercise.cache
    layout = f"({', '.join(names)})"
    if not isinstance(cache, (tuple, list)) or len(cache) != len(names):
        return math.inf, f"expected the tuple {layout}; got {describe_value(cache)}"
    wrong = []
    for name, entry in zip(names, cache):
        want = case_args[exercise.args.index(name)] if name in exercise.args else values[name]
        if numpy.isscalar(want) or isinstance(want, numpy.ndarray):
            err, _ = distance(entry, want)
        else:
            err = 0.0 if entry is want else math.inf
        if not err <= MATCH_TOLERANCE:
            wrong.append(name)
    if wrong:
        return math.inf, f"entries {', '.join(wrong)} of {layout} do not hold those values"
    return 0.0, None


# ----------------------------------------------------------------------------- grading

_PREPARED: dict = {}


@dataclass
class _Prepared:
    cases: list
    expected: list                          # the reference's Outcome per case
    mistakes: dict = field(default_factory=dict)   # mistake id -> [Outcome per case], filled lazily


def exercise_rng(name: str, seed: int):
    """One generator per (exercise, seed): the same cases on every call, different across exercises."""
    return numpy.random.default_rng([seed, zlib.crc32(name.encode())])


def prepare(exercise: Exercise, seed: int = 0) -> _Prepared:
    key = (exercise.name, seed)
    if key not in _PREPARED:
        cases = exercise.make_cases(exercise_rng(exercise.name, seed))
        expected = [call(exercise.reference, exercise, case) for case in cases]
        for case, outcome in zip(cases, expected):
            if case.raises is None and outcome.values is None:
                raise RuntimeError(f"exercise {exercise.name}: the reference failed on {case.label}: "
                                   f"{outcome.error!r} {outcome.unpack_problem or ''}")
        _PREPARED[key] = _Prepared(cases, expected)
    return _PREPARED[key]


def mistake_outcomes(exercise, prepared, mistake) -> list:
    if mistake.id not in prepared.mistakes:
        prepared.mistakes[mistake.id] = [call(mistake.fn, exercise, c) for c in prepared.cases]
    return prepared.mistakes[mistake.id]


def one_line(error: BaseException) -> str:
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__


def grade(exercise: Exercise, fn, seed: int = 0) -> Result:
    """Grade ``fn`` on the exercise's cases; never raises for anything ``fn`` does."""
    prepared = prepare(exercise, seed)
    labels = [c.label for c in prepared.cases]
    result = Result(exercise.name, "passed", labels, tolerance=exercise.tolerance)
    if not callable(fn):
        result.status, result.error = "error", f"expected a function, got {describe_value(fn)}"
        return result
    outcomes = []
    for case in prepared.cases:
        outcome = call(fn, exercise, case)
        outcomes.append(outcome)
        if isinstance(outcome.error, NotImplementedError):
            result.status = "not done"
            return result
        if outcome.error is not None and not (case.raises and isinstance(outcome.error, case.raises)):
            result.status = "error"
            result.error = one_line(outcome.error) + f"  [{outcome.where + ', ' if outcome.where else ''}case {case.label}]"
            result.error_hint = _error_hint(exercise, prepared, len(outcomes) - 1, outcome)
            return result
    result.outputs = _judge_outputs(exercise, prepared, outcomes)
    if not all(o.passed for o in result.outputs):
        result.status = "failed"
        _attach_hints(exercise, prepared, outcomes, result.outputs)
    return result


def _judge_outputs(exercise, prepared, outcomes) -> list:
    """One row per returned value (worst errors over the cases), then one per argument changed in place."""
    unpack_problem = next((o.unpack_problem for o in outcomes if o.unpack_problem), None)
    if unpack_problem:
        return [OutputResult("return value", False, problem=unpack_problem,
                             hint=Hint("return_value", f"{exercise.name} must return {_returns_phrase(exercise)}; "
                                       f"see describe({exercise.name!r})."))]
    rows = [_judge_cache(exercise, prepared, outcomes) if name == "cache" else _judge_value(exercise, prepared, outcomes, name)
            for name in exercise.returns]
    changed = [a for a in exercise.args if any(a in o.mutated for o in outcomes)]
    return rows + [OutputResult(f"argument {a}", False, problem="changed in place") for a in changed]


def _judge_value(exercise, prepared, outcomes, name) -> OutputResult:
    row = OutputResult(name, True, rel_error=0.0)
    for case, outcome, expected in zip(prepared.cases, outcomes, prepared.expected):
        if case.raises is not None:
            if outcome.error is None and name == exercise.returns[0]:
                row.rel_error = math.inf
                row.problem = row.problem or f"returned a value where {case.raises.__name__} was expected ({case.label})"
            continue
        err, problem = output_distance(exercise, name, outcome.values[name], expected.values[name])
        if name in case.numeric:
            numeric_err, numeric_problem = distance(outcome.values[name], case.numeric[name],
                                                    tiny=max(TINY, case.numeric_floor))
            row.numeric_error = max(row.numeric_error or 0.0, numeric_err)
            problem = problem or numeric_problem
        row.rel_error = max(row.rel_error, err)
        row.problem = row.problem or problem
        narrow = low_precision(outcome.values[name])
        if narrow:
            row.problem, row.hint = f"{narrow} values", Hint("low_precision", (
                f"{name} is {narrow}: compute in float64 (the inputs' dtype). Gradient checks need its precision, "
                f"and {narrow} round-off alone is about 1e-7 relative."))
    row.passed = row.rel_error <= exercise.tolerance and not row.hint and (
        row.numeric_error is None or row.numeric_error <= gradcheck.DEFAULT_TOLERANCE)
    return row


def _judge_cache(exercise, prepared, outcomes) -> OutputResult:
    """The cache is right or not (no relative error): the documented tuple holding the right values."""
    for case, outcome in zip(prepared.cases, outcomes):
        if case.raises is None:
            err, problem = cache_distance(exercise, outcome.values["cache"], case.args, outcome.values)
            if err > MATCH_TOLERANCE:
                return OutputResult("cache", False, problem=problem)
    return OutputResult("cache", True)


def _returns_phrase(exercise) -> str:
    if exercise.returns_dict:
        return "a dict with keys " + ", ".join(map(repr, exercise.returns))
    if len(exercise.returns) == 1:
        return exercise.returns[0]
    return "the tuple (" + ", ".join(exercise.returns) + ")"


def _values_match(exercise, name, learner, mistake, expected) -> bool:
    """The mistake returns the learner's value for ``name`` on every case (or raises what the learner
    raised), and that value is wrong on at least one case."""
    differs = False
    for lo, mo, eo in zip(learner, mistake, expected):
        if lo.values is None or mo.values is None:
            if lo.error is None or lo.error_key != mo.error_key:
                return False
            continue
        err, _ = output_distance(exercise, name, lo.values[name], mo.values[name])
        if not err <= MATCH_TOLERANCE:
            return False
        differs = differs or eo.values is None or not (
            output_distance(exercise, name, mo.values[name], eo.values[name])[0] <= exercise.tolerance)
    return differs


def _attach_hints(exercise, prepared, outcomes, rows):
    """Each wrong value gets the hint of the mistake that reproduces it; among several, the one that
    reproduces the most wrong values (then the first declared). Changed arguments get theirs."""
    wrong = [r.name for r in rows if not r.passed and not r.name.startswith("argument ") and r.name != "cache"]
    explained = {}
    for m in exercise.mistakes:
        if m.mutates is None and wrong:
            runs = mistake_outcomes(exercise, prepared, m)
            explained[m] = {n for n in wrong if _values_match(exercise, n, outcomes, runs, prepared.expected)}
    for row in rows:
        if row.passed or row.hint:
            continue
        if row.name.startswith("argument "):
            argument = row.name[len("argument "):]
            row.hint = next((Hint(m.id, m.hint) for m in exercise.mistakes if m.mutates == argument), None) \
                or Hint("mutates_argument", f"{exercise.name} changes its argument `{argument}` in place; the "
                        "caller still needs it. Compute into a new array (`a = a + b`, not `a += b`) or copy first.")
            continue
        candidates = [m for m, names in explained.items() if row.name in names]
        if candidates:
            best = max(candidates, key=lambda m: len(explained[m]))   # max keeps the first of equals
            row.hint = Hint(best.id, best.hint)
        else:
            row.hint = _generic_hint(exercise, prepared, outcomes, row)


def _generic_hint(exercise, prepared, outcomes, row) -> Hint | None:
    if row.name == "cache":
        return Hint("cache_layout", "cache must be the tuple (" + ", ".join(exercise.cache) + "): the inputs, then "
                    "the outputs you return, in this order; the backward exercise unpacks it.")
    if row.problem and "transposed" in row.problem:
        return Hint("transposed", f"{row.name} has the transposed shape. A gradient has the shape of what it is "
                    "the gradient of: check the order of the two factors of each product.")
    if row.problem and "NaN" in row.problem:
        return Hint("not_finite", f"{row.name} holds NaN or inf where the reference is finite: look for an "
                    "exponential of a large number (subtract the maximum first) or a division by zero.")
    factors = _constant_factors(exercise, row.name, prepared, outcomes)
    if factors:
        shown = ", ".join(f"{f:.4g}" for f in factors)
        if all(abs(f + 1) < 1e-6 for f in factors):
            return Hint("sign_flipped", f"{row.name} has the right size but the wrong sign.")
        return Hint("scaled", f"{row.name} is the right value times a constant ({shown} in the cases): a factor is "
                    "missing or extra, such as a count (mean or sum? which count?) or a scale.")
    return None


def _constant_factors(exercise, name, prepared, outcomes):
    """``[k per case]`` when the learner's value is ``k * reference`` in every case (k != 1), else None."""
    if name in exercise.list_outputs or name == "cache":
        return None
    factors = []
    for case, lo, eo in zip(prepared.cases, outcomes, prepared.expected):
        if case.raises is not None:
            continue
        try:
            a = numpy.asarray(lo.values[name], dtype=numpy.float64).ravel()
        except (TypeError, ValueError):
            return None
        e = numpy.asarray(eo.values[name], dtype=numpy.float64).ravel()
        if a.shape != e.shape or not numpy.isfinite(a).all() or not (e @ e) > 0:
            return None
        k = float(a @ e / (e @ e))
        if numpy.linalg.norm(a - k * e) > 1e-6 * numpy.linalg.norm(a) or abs(k - 1) < 1e-6:
            return None
        factors.append(k)
    return factors or None


def _error_hint(exercise, prepared, index, outcome) -> Hint | None:
    for m in exercise.mistakes:
        if mistake_outcomes(exercise, prepared, m)[index].error_key == outcome.error_key:
            return Hint(m.id, m.hint)
    if isinstance(outcome.error, TypeError) and "argument" in str(outcome.error):
        return Hint("signature", f"the grader calls {exercise.signature()} with positional arguments in this order.")
    return None


# ----------------------------------------------------------------------------- the report

def _fmt(err) -> str:
    if err is None:
        return "-"
    return "not comparable" if math.isinf(err) or math.isnan(err) else f"{err:.1e}"


def _wrap(text) -> str:
    return textwrap.fill(text, width=REPORT_WIDTH, initial_indent="  ", subsequent_indent="      ")


def format_report(result: Result) -> str:
    head = f"{result.exercise}: "
    n = len(result.cases)
    if result.status == "not done":
        return head + "not done yet (it raises NotImplementedError)."
    if result.status == "error":
        lines = [head + f"your function raised {result.error}"]
        if result.error_hint:
            lines.append(_wrap(f"hint: {result.error_hint.text}"))
        return "\n".join(lines)
    values = [o for o in result.outputs if not o.name.startswith("argument ")]
    changed = [o.name[len("argument "):] for o in result.outputs if o.name.startswith("argument ")]
    if result.passed:
        worst = max((o.rel_error or 0.0 for o in values), default=0.0)
        numeric = [o.numeric_error for o in values if o.numeric_error is not None]
        text = (f"passed. {'All ' + str(len(values)) + ' outputs match' if len(values) > 1 else 'The output matches'} "
                f"the reference on {n} random cases (worst relative error {worst:.1e}")
        if numeric:
            text += f"; vs finite differences {max(numeric):.1e}"
        return head + text + ")."
    wrong = [o.name for o in values if not o.passed]
    problems = []
    if wrong:
        problems.append("the output is wrong" if len(values) == 1 else f"{len(wrong)} of {len(values)} outputs wrong")
    if changed:
        problems.append(f"{'argument' if len(changed) == 1 else 'arguments'} {', '.join(changed)} changed in place")
    lines = [head + " and ".join(problems) + f" on {n} random cases ({'; '.join(result.cases)})"]
    has_numeric = any(o.numeric_error is not None for o in result.outputs)
    width = max(len(o.name) for o in result.outputs) + 2
    lines.append(f"  {'':<{width}}{'':<7}{'rel. error':<16}" + ("vs finite diff." if has_numeric else "")
                 + f"   (tolerance {result.tolerance:.0e})")
    for o in result.outputs:
        line = f"  {o.name:<{width}}{'ok' if o.passed else 'WRONG':<7}{_fmt(o.rel_error):<16}"
        if has_numeric:
            line += f"{_fmt(o.numeric_error):<16}"
        if o.problem and not o.passed:
            line += o.problem
        lines.append(line.rstrip())
    shown = {}
    for o in result.outputs:
        if o.hint:
            shown.setdefault(o.hint, []).append(o.name)
    for hint, names in shown.items():
        lines.append(_wrap(f"hint ({', '.join(names)}): {hint.text}"))
    if not shown:
        lines.append(f"  no common mistake matches: compare each line with the equations in describe({result.exercise!r}).")
    return "\n".join(lines)


def print_report(result: Result, fallback: bool, file=None) -> None:
    text = str(result)
    if fallback:
        text += "\n  (returning the reference implementation, so the next cells still run)"
    print(text, file=file or sys.stdout)
