r"""Optimizers, learning-rate schedules and gradient clipping, with PyTorch's update rules.

Each optimizer updates ``Parameter.data`` in place from ``Parameter.grad``::

    SGD      b = mu b + (1 - dampening) g          p -= lr * (g + mu b if nesterov else b)
    Adagrad  s += g^2                              p -= lr * g / (sqrt(s) + eps)
    RMSprop  v = alpha v + (1 - alpha) g^2         p -= lr * g / (sqrt(v) + eps)
    Adam     m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2
             p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

``weight_decay`` adds ``wd * p`` to g (L2), except in ``AdamW`` which decays the weights directly
(``p *= 1 - lr * wd``). min-char-rnn's Adagrad puts eps inside the root (``sqrt(s + 1e-8)``); we follow
PyTorch so trajectories can be compared against ``torch.optim``.

Clip after ``backward`` and before ``step``, by global norm over *all* parameters together
(:func:`clip_grad_norm_`, which returns the norm before clipping, for logging) or element-wise by value.

Frozen parameters (``requires_grad = False``) are skipped everywhere: no step, no weight decay, no
optimizer state, not counted in the global norm, not clipped (PyTorch skips them because their
``grad`` is None; ours always has a ``grad`` array, so the flag is what is read).
"""
from __future__ import annotations

import math

from . import backend
from ._checks import check_number, first_non_finite

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "StepLR", "CosineAnnealingLR",
           "clip_grad_norm_", "clip_grad_value_", "global_grad_norm", "trainable", "OPTIMIZERS"]


def _betas(name, value):
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise ValueError(f"{name}: expected a pair (beta1, beta2), got {value!r}")
    for k, beta in enumerate(value):
        check_number(f"{name}[{k}]", beta, 0.0, 1.0)
    return tuple(value)


# What PyTorch's optimizers accept for each hyper-parameter (they raise otherwise; so do we).
HYPER_CHECKS = {
    "lr": check_number, "eps": check_number, "weight_decay": check_number, "momentum": check_number,
    "dampening": check_number, "alpha": check_number, "initial_accumulator_value": check_number, "betas": _betas,
}


class Optimizer:
    """Holds a list of Parameters, their per-parameter state and the hyper-parameters."""

    defaults: dict = {}

    def __init__(self, params, **hyper):
        self.params = list(params)
        if not self.params:
            raise ValueError("params: the optimizer got an empty parameter list")
        unknown = set(hyper) - set(self.defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown argument(s) {sorted(unknown)}; "
                            f"expected some of {sorted(self.defaults)}")
        self.hyper = self._checked({**self.defaults, **hyper})
        self.state = [dict() for _ in self.params]
        self.steps = 0

    @property
    def lr(self):
        return self.hyper["lr"]

    @lr.setter
    def lr(self, value):
        self.hyper["lr"] = check_number("lr", value)

    @staticmethod
    def _checked(hyper):
        """``hyper`` with every value PyTorch would refuse refused (non-finite, negative, betas outside [0, 1))."""
        return {k: HYPER_CHECKS[k](k, v) if k in HYPER_CHECKS else v for k, v in hyper.items()}

    def zero_grad(self):
        for p in self.params:
            p.grad.fill(0)

    def step(self):
        self.steps += 1
        for p, state in zip(self.params, self.state):
            if not getattr(p, "requires_grad", True):
                continue                                    # frozen: not even weight decay touches it
            g = p.grad
            if self.hyper.get("weight_decay", 0) and not self.hyper.get("decoupled", False):
                g = g + self.hyper["weight_decay"] * p.data
            self._update(p, g, state)

    def _update(self, p, g, state):  # pragma: no cover - abstract
        raise NotImplementedError

    def _buffer(self, state, name, like, fill=0.0):
        if name not in state:
            state[name] = backend.array_module(like=like).full_like(like, fill)
        return state[name]

    def state_dict(self):
        """Hyper-parameters, step count and per-parameter buffers (host NumPy arrays)."""
        return {"type": type(self).__name__, "hyper": dict(self.hyper), "steps": self.steps,
                "state": [{k: backend.to_numpy(v).copy() for k, v in s.items()} for s in self.state]}

    def load_state_dict(self, saved):
        if saved["type"] != type(self).__name__:
            raise ValueError(f"optimizer state is for {saved['type']}, this optimizer is {type(self).__name__}")
        if len(saved["state"]) != len(self.params):
            raise ValueError(f"optimizer state has {len(saved['state'])} parameters, this optimizer has {len(self.params)}")
        hyper = self._checked(saved["hyper"])
        state = []
        for k, (p, s) in enumerate(zip(self.params, saved["state"])):
            xp = backend.array_module(p=p.data)
            buffers = {name: xp.asarray(v, dtype=p.data.dtype) for name, v in s.items()}
            bad = first_non_finite(buffers.items())
            if bad is not None:
                raise ValueError(f"optimizer state: buffer '{bad}' of parameter {k} holds NaN or inf")
            state.append(buffers)
        self.hyper.update(hyper)
        self.steps, self.state = int(saved["steps"]), state


class SGD(Optimizer):
    defaults = {"lr": 0.01, "momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0}

    def __init__(self, params, **hyper):
        super().__init__(params, **hyper)
        if self.hyper["nesterov"] and (self.hyper["momentum"] <= 0 or self.hyper["dampening"] != 0):
            raise ValueError("nesterov: needs momentum > 0 and dampening = 0")

    def _update(self, p, g, state):
        mu, lr = self.hyper["momentum"], self.hyper["lr"]
        if mu:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.copy()          # first step: b = g (PyTorch)
            else:
                b = state["momentum_buffer"]
                b *= mu
                b += (1 - self.hyper["dampening"]) * g
            b = state["momentum_buffer"]
            g = g + mu * b if self.hyper["nesterov"] else b
        p.data -= lr * g


class Adagrad(Optimizer):
    defaults = {"lr": 0.01, "eps": 1e-10, "weight_decay": 0.0, "initial_accumulator_value": 0.0}

    def _update(self, p, g, state):
        s = self._buffer(state, "sum", p.data, self.hyper["initial_accumulator_value"])
        s += g * g
        p.data -= self.hyper["lr"] * g / (backend.array_module(s=s).sqrt(s) + self.hyper["eps"])


class RMSprop(Optimizer):
    defaults = {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "centered": False}

    def _update(self, p, g, state):
        xp = backend.array_module(p=p.data)
        alpha = self.hyper["alpha"]
        v = self._buffer(state, "square_avg", p.data)
        v *= alpha
        v += (1 - alpha) * g * g
        if self.hyper["centered"]:
            mean = self._buffer(state, "grad_avg", p.data)
            mean *= alpha
            mean += (1 - alpha) * g
            denom = xp.sqrt(v - mean * mean) + self.hyper["eps"]
        else:
            denom = xp.sqrt(v) + self.hyper["eps"]
        if self.hyper["momentum"] > 0:
            b = self._buffer(state, "momentum_buffer", p.data)
            b *= self.hyper["momentum"]
            b += g / denom
            p.data -= self.hyper["lr"] * b
        else:
            p.data -= self.hyper["lr"] * g / denom


class Adam(Optimizer):
    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "decoupled": False}

    def _update(self, p, g, state):
        xp = backend.array_module(p=p.data)
        b1, b2 = self.hyper["betas"]
        lr, t = self.hyper["lr"], self.steps
        if self.hyper["decoupled"] and self.hyper["weight_decay"]:
            p.data *= 1 - lr * self.hyper["weight_decay"]           # AdamW: decay the weights themselves
        m = self._buffer(state, "exp_avg", p.data)
        v = self._buffer(state, "exp_avg_sq", p.data)
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        step_size = lr / (1 - b1 ** t)                               # bias corrections
        denom = xp.sqrt(v) / math.sqrt(1 - b2 ** t) + self.hyper["eps"]
        p.data -= step_size * m / denom


class AdamW(Adam):
    defaults = {**Adam.defaults, "weight_decay": 1e-2, "decoupled": True}


OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}


class _Schedule:
    """Sets ``optimizer.lr`` from the epoch count; call ``step()`` once per epoch, after training it."""

    def __init__(self, optimizer):
        self.optimizer, self.base_lr, self.epoch = optimizer, optimizer.lr, 0

    def step(self):
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)

    def state_dict(self):
        return {"epoch": self.epoch, "base_lr": self.base_lr}

    def load_state_dict(self, state):
        self.epoch, self.base_lr = state["epoch"], state["base_lr"]
        self.optimizer.lr = self.lr_at(self.epoch)


class StepLR(_Schedule):
    """``lr = base_lr * gamma ** (epoch // step_size)``."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma

    def lr_at(self, epoch):
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(_Schedule):
    """``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``."""

    def __init__(self, optimizer, T_max, eta_min=0.0):
        super().__init__(optimizer)
        self.T_max, self.eta_min = T_max, eta_min

    def lr_at(self, epoch):
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


def trainable(params) -> list:
    """The parameters of ``params`` that are not frozen (``requires_grad``). Anything with ``.data`` and
    ``.grad`` is a parameter here (the course's exercises pass plain namespaces): no ``requires_grad``
    means trainable, as for a ``Parameter`` by default."""
    return [p for p in params if getattr(p, "requires_grad", True)]


def global_grad_norm(params) -> float:
    """``sqrt(sum over every trainable parameter of sum(grad^2))`` (frozen ones are not counted)."""
    return math.sqrt(sum(float((p.grad * p.grad).sum()) for p in trainable(params)))


def clip_grad_norm_(params, max_norm, *, total_norm=None) -> float:
    """Scale all gradients together so their global L2 norm is at most ``max_norm``.

    Returns the norm *before* clipping (PyTorch's ``clip_grad_norm_``, including its 1e-6 guard).
    ``total_norm``: the norm, when the caller has already computed it (saves a pass over the gradients).
    Frozen parameters are neither counted nor scaled.
    """
    check_number("max_norm", max_norm, positive=True)          # 0 would zero every gradient, < 0 flip them
    params = trainable(params)
    total = global_grad_norm(params) if total_norm is None else total_norm
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for p in params:
            p.grad *= scale
    return total


def clip_grad_value_(params, clip_value) -> None:
    """Clamp every gradient entry of the trainable parameters into ``[-clip_value, clip_value]`` in place
    (min-char-rnn's clip)."""
    check_number("clip_value", clip_value, positive=True)
    for p in trainable(params):
        backend.array_module(g=p.grad).clip(p.grad, -clip_value, clip_value, out=p.grad)
