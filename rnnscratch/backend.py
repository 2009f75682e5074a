"""The backend switch: the one module that decides which array library does the math.

NumPy is the default; CuPy runs the same code on a GPU. Nothing else in the package imports
``numpy`` or ``cupy`` for math: the equations ask :func:`array_module` which library owns the
arrays they were given, and code that creates arrays asks :func:`get_xp` for the current one.

Environment variables, read once at import:

``RNNSCRATCH_BACKEND``  ``numpy`` (default) or ``cupy``
``RNNSCRATCH_DTYPE``    ``float32`` (default, for training) or ``float64`` (for gradient checks)

A value that cannot be used (``RNNSCRATCH_BACKEND=jax``, ``RNNSCRATCH_DTYPE=float16``, ``cupy`` without
CuPy) does not break the import: it is kept as a :class:`BackendError` naming the variable and its allowed
values, raised by :func:`check_environment` and by the first call that needs the backend or the dtype
(:func:`get_xp`, :func:`get_backend`, :func:`get_default_dtype`, :func:`to_device`), until
:func:`set_backend` / :func:`set_default_dtype` choose explicitly.

Example::

    from rnnscratch import backend
    with backend.use_backend("cupy", dtype="float32"):
        xp = backend.get_xp()          # the cupy module
        x = backend.to_device(host_array)
"""
from __future__ import annotations

import contextlib
import os

import numpy

__all__ = [
    "BackendError", "set_backend", "get_backend", "get_xp", "use_backend",
    "set_default_dtype", "get_default_dtype", "to_numpy", "to_device", "array_module",
    "is_cupy_array", "cupy_available", "scatter_add", "check_environment",
]

BACKENDS = ("numpy", "cupy")
FLOAT_DTYPES = ("float32", "float64")

_CUPY_INSTALL_HINT = (
    "install it with `pip install 'rnnscratch[gpu]'` (cupy-cuda13x, for CUDA 13) "
    "or `pip install cupy-cuda12x` (for CUDA 12)"
)


class BackendError(RuntimeError):
    """The requested backend cannot be used here (library missing, no GPU, mixed arrays)."""


class _State:
    name = "numpy"
    xp = numpy
    dtype = numpy.dtype("float32")
    env_errors = {}        # {"backend" | "dtype": BackendError} of an unusable environment variable


def check_environment() -> None:
    """Raise the :class:`BackendError` of an unusable ``RNNSCRATCH_BACKEND`` / ``RNNSCRATCH_DTYPE``, if any
    (one that :func:`set_backend` / :func:`set_default_dtype` has since overridden no longer counts)."""
    for error in _State.env_errors.values():
        raise error


def _load_cupy():
    """Import CuPy and make sure a CUDA device answers; raise BackendError naming what is missing."""
    try:
        import cupy
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise BackendError(f"backend 'cupy' requested but CuPy is not installed: {_CUPY_INSTALL_HINT}") from exc
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # pragma: no cover - depends on the machine
        raise BackendError(
            f"backend 'cupy' requested: CuPy is installed but no CUDA device is usable ({exc}). "
            "Check the NVIDIA driver with `nvidia-smi`, or use backend 'numpy'."
        ) from exc
    if count == 0:  # pragma: no cover - depends on the machine
        raise BackendError("backend 'cupy' requested: CuPy is installed but found 0 CUDA devices; use backend 'numpy'.")
    return cupy


def cupy_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device (used by tests to skip)."""
    try:
        _load_cupy()
    except BackendError:
        return False
    return True


def set_backend(name: str) -> None:
    """Select ``"numpy"`` or ``"cupy"`` for every array created from now on."""
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    _State.xp = numpy if name == "numpy" else _load_cupy()
    _State.name = name
    _State.env_errors.pop("backend", None)


def get_backend() -> str:
    """Name of the current backend: ``"numpy"`` or ``"cupy"``."""
    check_environment()
    return _State.name


def get_xp():
    """The current array module (``numpy`` or ``cupy``), for code that creates new arrays."""
    check_environment()
    return _State.xp


def set_default_dtype(dtype) -> None:
    """Float dtype for parameters and data: float32 (training) or float64 (gradient checks)."""
    dt = numpy.dtype(dtype)
    if dt.name not in FLOAT_DTYPES:
        raise ValueError(f"default dtype must be one of {FLOAT_DTYPES}, got {dt.name!r}")
    _State.dtype = dt
    _State.env_errors.pop("dtype", None)


def get_default_dtype() -> numpy.dtype:
    """The current default float dtype (a ``numpy.dtype``; CuPy accepts it as is)."""
    check_environment()
    return _State.dtype


@contextlib.contextmanager
def use_backend(name: str | None = None, dtype=None):
    """Temporarily switch backend and/or default dtype; restores both on exit."""
    saved = (_State.name, _State.xp, _State.dtype, dict(_State.env_errors))
    try:
        if name is not None:
            set_backend(name)
        if dtype is not None:
            set_default_dtype(dtype)
        yield _State.xp
    finally:
        _State.name, _State.xp, _State.dtype, _State.env_errors = saved


def is_cupy_array(a) -> bool:
    """True for a ``cupy.ndarray`` (checked without importing CuPy)."""
    return type(a).__module__.split(".")[0] == "cupy"


def to_numpy(a):
    """A host NumPy array with the same values (a copy off the GPU; NumPy input is returned as is)."""
    if is_cupy_array(a):
        return a.get()
    return numpy.asarray(a)


def to_device(a, dtype=None):
    """``a`` as an array of the current backend (optionally cast to ``dtype``)."""
    xp = get_xp()
    if xp is numpy:
        a = to_numpy(a)
    return xp.asarray(a, dtype=dtype)


def array_module(**named_arrays):
    """The library (numpy or cupy) that owns all the given arrays; ``None`` values are ignored.

    Arrays are passed by keyword so that an error can name the culprit: mixing a NumPy array with a
    CuPy array is refused here rather than failing deep inside a kernel (or silently copying).
    """
    owner_name, owner_is_cupy = None, None
    for name, a in named_arrays.items():
        if a is None:
            continue
        on_gpu = is_cupy_array(a)
        if owner_name is None:
            owner_name, owner_is_cupy = name, on_gpu
        elif on_gpu != owner_is_cupy:
            kinds = {True: "cupy.ndarray (GPU)", False: f"{type(a).__module__}.{type(a).__name__} (host)"}
            raise BackendError(
                f"mixed array libraries: '{name}' is {kinds[on_gpu]} but '{owner_name}' is "
                f"{'cupy.ndarray (GPU)' if owner_is_cupy else 'numpy.ndarray (host)'}; "
                "move arrays with rnnscratch.backend.to_device / to_numpy first"
            )
    if owner_is_cupy:
        import cupy
        return cupy
    return numpy


def scatter_add(target, indices, values) -> None:
    """``target[indices] += values`` with accumulation over repeated indices, in place.

    Plain fancy-index assignment keeps only one of the repeated updates, which is wrong for the
    embedding gradient of a token seen twice in a batch.
    """
    if is_cupy_array(target):
        import cupyx
        cupyx.scatter_add(target, indices, values)
    else:
        numpy.add.at(target, indices, values)


def _configure_from_environment() -> None:
    """Apply the environment variables; keep an unusable value's error for :func:`check_environment`."""
    for variable, key, choose, allowed in (("RNNSCRATCH_BACKEND", "backend", set_backend, BACKENDS),
                                           ("RNNSCRATCH_DTYPE", "dtype", set_default_dtype, FLOAT_DTYPES)):
        value = os.environ.get(variable, "").strip().lower()
        if not value:
            continue
        try:
            choose(value)
        except (ValueError, TypeError, BackendError) as exc:
            reason = str(exc) if value in allowed else f"expected one of {', '.join(allowed)} (or unset it)"
            _State.env_errors[key] = BackendError(f"{variable}={value}: {reason}")


_configure_from_environment()
