"""Argument checks that fail early with one clear message: argument name, expected, received."""
from __future__ import annotations


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
