"""Argument checks that fail early with one clear message: argument name, expected, received."""
from __future__ import annotations

import math


def describe_shape(shape) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def check_shape(name: str, a, expected) -> None:
    """Require ``a.shape`` to match ``expected`` (a tuple; ``None`` entries match any size)."""
    shape = getattr(a, "shape", None)
    if shape is None:
        raise TypeError(f"{name}: expected an array of shape {describe_shape(expected)}, got {type(a).__name__}")
    if len(shape) != len(expected) or any(e is not None and e != s for e, s in zip(expected, shape)):
        raise ValueError(f"{name}: expected shape {describe_shape(expected)}, got {describe_shape(shape)}")


def check_same_float_dtype(**arrays) -> None:
    """All given arrays (``None`` skipped) share one floating dtype; mixing float32/float64 is refused
    because NumPy would silently upcast and hide a slow or imprecise path."""
    first_name, first_dtype = None, None
    for name, a in arrays.items():
        if a is None:
            continue
        if a.dtype.kind != "f":
            raise TypeError(f"{name}: expected a floating dtype, got {a.dtype}")
        if first_dtype is None:
            first_name, first_dtype = name, a.dtype
        elif a.dtype != first_dtype:
            raise TypeError(f"{name}: dtype {a.dtype} does not match {first_name}'s {first_dtype}; cast one of them")


def check_integer_array(name: str, a) -> None:
    if getattr(a, "dtype", None) is None or a.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected an integer array, got {getattr(a, 'dtype', type(a).__name__)}")


def check_probability(name: str, p) -> None:
    """A dropout-style probability: a real number in ``[0, 1)`` (1 would drop everything)."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"{name}: expected a probability in [0, 1), got {p!r}")


def check_number(name: str, value, low=0.0, high=None, positive=False, also=""):
    """``value`` if it is a finite real ``>= low`` (``> low`` with ``positive``; ``< high`` when given),
    else one ``ValueError`` naming ``name``, what was expected (``also`` appended) and what was received."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        and (value > low if positive else value >= low) and (high is None or value < high)
    if not ok:
        expected = f"in [{low:g}, {high:g})" if high is not None else f"{'>' if positive else '>='} {low:g}"
        raise ValueError(f"{name}: expected a finite number {expected}{also}, got {value!r}")
    return value


def first_non_finite(named_arrays):
    """The name of the first floating array holding NaN or inf among ``(name, array)`` pairs (NumPy or
    CuPy arrays), else None. One pass over each array, stopping at the first bad one."""
    from . import backend
    for name, a in named_arrays:
        if a.dtype.kind == "f" and not bool(backend.array_module(a=a).isfinite(a).all()):
            return name
    return None
