"""Parameter initialisation (PyTorch's defaults) from one seedable host generator.

Parameters are drawn on the host with NumPy and then moved to the current backend, so a model built
with the same seed is identical on NumPy and on CuPy.
"""
from __future__ import annotations

import numpy

from .. import backend

_global = {"rng": numpy.random.default_rng()}


def manual_seed(seed: int) -> None:
    """Seed the generator that every module uses when it is not given one (like ``torch.manual_seed``)."""
    _global["rng"] = numpy.random.default_rng(seed)


def generator(rng=None) -> numpy.random.Generator:
    """``rng`` itself, a new generator from an int seed, or the global one when None."""
    if rng is None:
        return _global["rng"]
    if isinstance(rng, numpy.random.Generator):
        return rng
    return numpy.random.default_rng(rng)


def uniform(shape, bound, rng, dtype=None):
    """``U(-bound, bound)`` on the current backend, default dtype unless given."""
    host = rng.uniform(-bound, bound, size=shape)
    return backend.to_device(host, dtype=dtype or backend.get_default_dtype())


def normal(shape, rng, dtype=None):
    """``N(0, 1)`` on the current backend."""
    return backend.to_device(rng.standard_normal(shape), dtype=dtype or backend.get_default_dtype())


def device_generator(rng):
    """A generator on the current backend for run-time randomness (dropout masks), seeded from ``rng``."""
    return backend.get_xp().random.default_rng(int(rng.integers(2**63 - 1)))
