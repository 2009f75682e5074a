"""``Module`` and ``Parameter``: the small object model shared by every layer and model.

A module holds named parameters (each a ``Parameter`` with ``data`` and ``grad`` of the same shape),
child modules, and a train/eval flag. ``forward`` caches what ``backward`` needs; ``backward`` returns
the gradient for the inputs and *accumulates* into ``param.grad`` (so a module used twice, or a
sequence cut into truncated-BPTT chunks, sums its gradients until :meth:`Module.zero_grad`). As in
PyTorch, a forward's cache serves one backward: a second backward needs a second forward (calling
backward twice would otherwise add the same gradients twice).

A parameter with ``requires_grad = False`` is frozen (PyTorch's flag; :meth:`Module.requires_grad_` sets
it for a whole module): the optimizers, their weight decay and gradient clipping leave it alone, so its
values stay bit-identical through training, and checkpoints record the flag. A module may still compute
its gradient (``Embedding`` skips it); nothing reads it.
"""
from __future__ import annotations

from collections import OrderedDict

from .. import backend
from .._checks import describe_shape, first_non_finite


class Parameter:
    """An array and its gradient (same shape, same dtype, same device); trained unless ``requires_grad``
    is False (frozen)."""

    __slots__ = ("data", "grad", "requires_grad")

    def __init__(self, data, requires_grad=True):
        self.data = data
        self.grad = backend.array_module(data=data).zeros_like(data)
        self.requires_grad = bool(requires_grad)

    @property
    def shape(self):
        return self.data.shape

    def __repr__(self):
        frozen = ", requires_grad=False" if not self.requires_grad else ""
        return f"Parameter(shape={tuple(self.data.shape)}, dtype={self.data.dtype}{frozen})"


class Module:
    """Base class: parameters, children, train/eval, state_dict. Subclasses define forward/backward."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    # -- parameters -----------------------------------------------------------------------------
    def named_parameters(self, prefix=""):
        """Yield ``(dotted name, Parameter)`` for this module and every child, in registration order."""
        for name, p in self._parameters.items():
            yield prefix + name, p
        for child_name, child in self._modules.items():
            yield from child.named_parameters(prefix + child_name + ".")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def num_parameters(self, trainable_only=False) -> int:
        """How many numbers the parameters hold (``trainable_only``: those with ``requires_grad``)."""
        return sum(int(p.data.size) for p in self.parameters() if p.requires_grad or not trainable_only)

    def requires_grad_(self, requires_grad: bool = True):
        """Freeze (``False``) or unfreeze every parameter of this module and its children; returns self."""
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    def zero_grad(self):
        for p in self.parameters():
            p.grad.fill(0)

    def modules(self):
        yield self
        for child in self._modules.values():
            yield from child.modules()

    def train(self, mode: bool = True):
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    # -- state ----------------------------------------------------------------------------------
    def state_dict(self):
        """``{name: host NumPy array}`` (copies), loadable on either backend."""
        return OrderedDict((name, backend.to_numpy(p.data).copy()) for name, p in self.named_parameters())

    def load_state_dict(self, state, strict: bool = True):
        """Copy arrays into the parameters (onto this module's device and dtype).

        With ``strict``, missing and unexpected names are errors; a wrong shape is always an error.
        Returns ``(missing, unexpected)`` name lists.
        """
        own = dict(self.named_parameters())
        missing = [n for n in own if n not in state]
        unexpected = [n for n in state if n not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys: {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected keys: {', '.join(unexpected)}")
            raise KeyError(f"load_state_dict for {type(self).__name__}: " + "; ".join(parts))
        for name, p in own.items():
            if name not in state:
                continue
            value = state[name]
            if tuple(value.shape) != tuple(p.data.shape):
                raise ValueError(f"load_state_dict: parameter '{name}' expects shape {describe_shape(p.data.shape)}, "
                                 f"the state dict holds {describe_shape(value.shape)}")
        bad = first_non_finite((name, state[name]) for name in own if name in state)
        if bad is not None:
            raise ValueError(f"load_state_dict: parameter '{bad}' holds NaN or inf in the state dict")
        for name, p in own.items():
            if name in state:
                xp = backend.array_module(p=p.data)
                p.data[...] = xp.asarray(backend.to_numpy(state[name]), dtype=p.data.dtype)
        return missing, unexpected

    def to(self, backend_name: str | None = None, dtype=None):
        """Move every parameter (and its gradient) to a backend and/or dtype, in place."""
        for p in self.parameters():
            host = backend.to_numpy(p.data)
            with backend.use_backend(backend_name):
                p.data = backend.to_device(host, dtype=dtype or host.dtype)
            p.grad = backend.array_module(p=p.data).zeros_like(p.data)
        return self

    # -- calling --------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    def _require_forward(self):
        """The last forward's cache (it stays); an error when there is none."""
        if getattr(self, "_cache", None) is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward (nothing cached: each "
                               "forward's cache serves one backward)")
        return self._cache

    def _use_cache(self):
        """The last forward's cache, used up: the next backward needs a new forward."""
        cache = self._require_forward()
        self._cache = None
        return cache

    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            lines.append(f"  ({name}): " + repr(child).replace("\n", "\n  "))
        return lines[0] + (")" if len(lines) == 1 else "\n" + "\n".join(lines[1:]) + "\n)")
