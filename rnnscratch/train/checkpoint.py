"""Checkpoints: one ``.npz`` file that rebuilds the model with no other input, written atomically.

Layout: ``model/<parameter name>`` arrays, ``optim/<index>/<buffer>`` arrays, ``carry/<k>`` arrays (a
recurrent state carried mid-epoch), and ``meta``: one JSON string with the model's class and
constructor config, dtype, epoch/step, vocabulary, optimizer and schedule hyper-parameters, the
random generators' states, the training history, the frozen parameters' names (``frozen``:
``requires_grad = False``, restored on load and on resume) and ``extra``. Loading never unpickles anything.

``extra`` is the application's own record, any JSON-serialisable dict that this module stores and
returns untouched (``meta["extra"]``) and never interprets. rnnscratch's command line stores there an
:class:`rnnscratch.app.config.RunInfo` (``RunInfo.to_dict()``: task, tokenizer, label names, maximum
length, where the data came from and how it was split), which is all ``evaluate``, ``predict`` and
``sample`` need besides the weights and the vocabulary.

Writing goes through :func:`rnnscratch.files.atomic_open` (a temporary file in the same folder, flushed
to disk, then renamed over the target), so a crash leaves either the old checkpoint or the new one,
never half of one. No checkpoint is ever written from, or loaded with, NaN or inf in its arrays (the
weights of a diverged run): both raise :class:`CheckpointError` naming the array.
"""
from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass

import numpy

from .. import backend
from .._checks import first_non_finite
from ..files import atomic_open
from ..nn.models import build_model

FORMAT = 1
META_KEYS = ("model", "config", "dtype", "epoch", "step", "batch_in_epoch", "history", "generators")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")        # an .npz is a zip archive (the second: an empty one)


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, truncated, not ours, or for another model."""


def module_generators(model):
    """``{dotted path: numpy Generator}`` of every module's run-time generator (dropout masks)."""
    found = {}
    for prefix, module in _named_modules(model):
        for attr in ("generator", "dropout_generator"):
            gen = getattr(module, attr, None)
            if isinstance(gen, numpy.random.Generator):
                found[prefix + attr] = gen
    return found


def _named_modules(module, prefix=""):
    yield prefix, module
    for name, child in module._modules.items():
        yield from _named_modules(child, prefix + name + ".")


def _first_non_finite(arrays):
    """``"parameter 'name'"`` (or the array's key) of the first float array holding NaN or inf, else None."""
    key = first_non_finite(arrays.items())
    if key is None:
        return None
    kind, _, name = key.partition("/")
    index, _, buffer = name.partition("/")
    return {"model": f"parameter '{name}'", "optim": f"optimizer buffer '{buffer}' of parameter {index}",
            "carry": f"carried state {name}"}.get(kind, f"array '{key}'")


def _json_default(value):
    if isinstance(value, (numpy.integer,)):
        return int(value)
    if isinstance(value, (numpy.floating,)):
        return float(value)
    if isinstance(value, numpy.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def save_checkpoint(path, model, optimizer=None, scheduler=None, *, epoch=0, step=0, batch_in_epoch=0,
                    vocab=None, history=None, carry=None, extra=None, epoch_sums=None, step_history=None,
                    log_sums=None):
    """Write everything needed to rebuild ``model`` and resume training to ``path``, atomically.

    ``history``: the per-epoch rows; ``step_history``: the rows logged every N steps; ``log_sums``: the
    running sums since the last of them. ``batch_in_epoch``, ``carry`` and ``epoch_sums`` (the running sums
    of the epoch's metrics) describe a position inside an epoch, for a checkpoint written when training
    was interrupted.
    """
    arrays = {f"model/{name}": value for name, value in model.state_dict().items()}
    meta = {"format": FORMAT, "model": type(model).__name__, "config": model.config,
            "dtype": str(model.parameters()[0].data.dtype), "epoch": epoch, "step": step,
            "batch_in_epoch": batch_in_epoch, "vocab": vocab, "history": history or [], "extra": extra or {},
            "generators": {k: g.bit_generator.state for k, g in module_generators(model).items()},
            "frozen": [name for name, p in model.named_parameters() if not p.requires_grad]}
    if step_history:
        meta["step_history"] = step_history
    if epoch_sums is not None:
        meta["epoch_sums"] = epoch_sums
    if log_sums is not None:
        meta["log_sums"] = log_sums
    if optimizer is not None:
        state = optimizer.state_dict()
        meta["optimizer"] = {"type": state["type"], "hyper": state["hyper"], "steps": state["steps"],
                             "buffers": [sorted(s) for s in state["state"]]}
        for i, buffers in enumerate(state["state"]):
            for k, v in buffers.items():
                arrays[f"optim/{i}/{k}"] = v
    if scheduler is not None:
        meta["scheduler"] = scheduler.state_dict()
    if carry is not None:
        parts = carry if isinstance(carry, tuple) else (carry,)
        meta["carry"] = {"tuple": isinstance(carry, tuple), "n": len(parts)}
        for k, a in enumerate(parts):
            arrays[f"carry/{k}"] = a
    arrays = {k: backend.to_numpy(v) for k, v in arrays.items()}
    bad = _first_non_finite(arrays)
    if bad is not None:
        raise CheckpointError(f"{path}: not written: {bad} holds NaN or inf (a checkpoint is never written "
                              "from non-finite weights)")
    arrays["meta"] = numpy.array(json.dumps(meta, default=_json_default))
    with atomic_open(path, "wb") as f:
        numpy.savez(f, **arrays)
    return path


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns: the rebuilt model and everything needed to resume."""
    model: object
    meta: dict
    optimizer_state: dict | None = None
    carry: object = None

    @property
    def vocab(self):
        return self.meta.get("vocab")

    def restore_optimizer(self, optimizer):
        if self.optimizer_state is None:
            raise CheckpointError("the checkpoint holds no optimizer state")
        optimizer.load_state_dict(self.optimizer_state)

    def restore_frozen(self, model):
        """Set ``requires_grad`` of ``model``'s parameters as they were when saved (frozen ones False, the
        others True); a checkpoint from before the flag was recorded leaves them as they are."""
        if "frozen" not in self.meta:
            return
        frozen = set(self.meta["frozen"])
        for name, p in model.named_parameters():
            p.requires_grad = name not in frozen

    def restore_generators(self, model):
        for name, gen in module_generators(model).items():
            if name in self.meta["generators"]:
                gen.bit_generator.state = self.meta["generators"][name]


def load_checkpoint(path, dtype=None) -> Checkpoint:
    """Rebuild the model (on the current backend) and read the training state from ``path``."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint not found: {path}")
    with open(path, "rb") as f:
        if f.read(4) not in _ZIP_MAGIC:
            raise CheckpointError(f"{path} is not a checkpoint: not an .npz archive (empty, or another kind of file)")
    try:
        with numpy.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise CheckpointError(f"checkpoint {path} is unreadable (truncated or damaged): {exc}") from exc
    if "meta" not in arrays:
        raise CheckpointError(f"{path} is an .npz file but not an rnnscratch checkpoint (no 'meta' entry)")
    try:
        meta = json.loads(str(arrays["meta"]))
    except ValueError as exc:
        raise CheckpointError(f"{path}: its 'meta' entry is not valid JSON ({exc}); damaged, or not written by "
                              "rnnscratch") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise CheckpointError(f"{path}: checkpoint format {found} is not supported (expected {FORMAT})")
    missing = [key for key in META_KEYS if key not in meta]
    if missing:
        raise CheckpointError(f"{path}: damaged checkpoint: its metadata has no {missing[0]!r}")
    bad = _first_non_finite(arrays)
    if bad is not None:
        raise CheckpointError(f"{path}: {bad} holds NaN or inf (the weights of a diverged run); use an earlier "
                              "checkpoint")
    try:
        model = build_model(meta["model"], meta["config"], dtype=dtype or meta["dtype"])
        model.load_state_dict({k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")})
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: the weights do not fit the model they describe: {exc}") from exc
    frozen = meta.get("frozen", [])
    if not (isinstance(frozen, list) and all(isinstance(name, str) for name in frozen)):
        raise CheckpointError(f"{path}: damaged checkpoint: its list of frozen parameters is {frozen!r}")
    unknown = sorted(set(frozen) - {name for name, _ in model.named_parameters()})
    if unknown:
        raise CheckpointError(f"{path}: damaged checkpoint: it lists the frozen parameter '{unknown[0]}', which "
                              f"its {meta['model']} does not have")
    optimizer_state = None
    if "optimizer" in meta:
        o = meta["optimizer"]
        optimizer_state = {"type": o["type"], "hyper": o["hyper"], "steps": o["steps"],
                           "state": [{k: arrays[f"optim/{i}/{k}"] for k in names} for i, names in enumerate(o["buffers"])]}
        if "betas" in optimizer_state["hyper"]:
            optimizer_state["hyper"]["betas"] = tuple(optimizer_state["hyper"]["betas"])
    carry = None
    if "carry" in meta:
        parts = tuple(backend.to_device(arrays[f"carry/{k}"]) for k in range(meta["carry"]["n"]))
        carry = parts if meta["carry"]["tuple"] else parts[0]
    ckpt = Checkpoint(model=model, meta=meta, optimizer_state=optimizer_state, carry=carry)
    ckpt.restore_frozen(model)
    return ckpt
