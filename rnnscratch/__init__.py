"""rnnscratch: recurrent neural networks written from scratch in NumPy, running on CuPy too.

Layers, bottom up: :mod:`rnnscratch.backend` (NumPy or CuPy), :mod:`rnnscratch.functional` (the
equations, forward and backward by hand), :mod:`rnnscratch.gradcheck` (the finite-difference proof).
"""
from . import backend, functional, gradcheck, nn

__version__ = "0.1.0"
__all__ = ["backend", "functional", "gradcheck", "nn", "__version__"]
