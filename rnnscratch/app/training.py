"""The training job: ``train(config) -> metrics``, what ``rnnscratch train`` runs.

It holds the output folder (:mod:`rnnscratch.app.run_folder`: one run at a time, no earlier results
replaced unasked), checks that a resumed run continues the checkpoint's, prepares the data
(:mod:`rnnscratch.app.data`), builds the model and the optimizer from a
:class:`~rnnscratch.app.config.TrainConfig`, fits with :class:`~rnnscratch.train.Trainer` (which writes
``last.npz``, ``best.npz``, ``history.json``/``.csv`` into ``config.out``, each checkpoint carrying the
run's :class:`~rnnscratch.app.config.RunInfo`), evaluates the best weights, and writes ``metrics.json``
and ``history.png`` (:mod:`rnnscratch.app.plots`; a warning instead when matplotlib is not installed)
next to them.
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
import warnings

import numpy

from .. import backend, nn, optim
from ..files import atomic_write
from ..train import CheckpointError, Trainer, TruncatedBPTT, load_checkpoint
from .config import UNTIL_STEPS, ConfigError, RunInfo, TrainConfig, auto_epochs, resume_conflicts, write_settings
from .data import prepare
from .embeddings import prepare_embedding
from .plots import HISTORY_PNG, PLOT_EXTRA, PlotExtraMissing, draw_history
from .run_folder import run_folder


def build_model(config: TrainConfig, vocab, label_names=None, target_vocab=None):
    """A ``LanguageModel`` (``config.task == "lm"``), a ``Seq2Seq`` from ``vocab`` to ``target_vocab``
    (``"seq2seq"``) or a ``SequenceClassifier`` into ``label_names``, over the tokens of ``vocab`` (a
    :class:`~rnnscratch.data.Vocab`), seeded by ``config.seed``."""
    c = config
    if c.task == "seq2seq":
        return nn.Seq2Seq(len(vocab), len(target_vocab), embed=c.embed, hidden=c.hidden, cell=c.model,
                          layers=c.layers, bidirectional=c.bidirectional, attention=c.attention,
                          input_feeding=c.input_feeding, dropout=c.dropout, rng=c.seed)
    if c.task == "lm":
        return nn.LanguageModel(len(vocab), hidden_size=c.hidden, embed_dim=c.embed or None, cell=c.model,
                                num_layers=c.layers, dropout=c.dropout, rng=c.seed)
    return nn.SequenceClassifier(len(vocab), len(label_names), embed_dim=c.embed, hidden_size=c.hidden, cell=c.model,
                                 num_layers=c.layers, bidirectional=c.bidirectional, dropout=c.dropout,
                                 pooling=c.pooling, padding_idx=vocab.pad_index, rng=c.seed)


def build_optimizer(config: TrainConfig, model):
    """``(optimizer, scheduler or None)``: ``config.optimizer`` at ``config.lr``, stepped per epoch by
    ``config.schedule`` (``step``: halve every third of the epochs; ``cosine``: down to 0 at the end)."""
    hyper = {"lr": config.lr}
    if config.weight_decay:
        hyper["weight_decay"] = config.weight_decay
    optimizer = optim.OPTIMIZERS[config.optimizer](model.parameters(), **hyper)
    epochs = max(1, config.epochs)
    schedules = {"none": lambda: None, "step": lambda: optim.StepLR(optimizer, max(1, epochs // 3), 0.5),
                 "cosine": lambda: optim.CosineAnnealingLR(optimizer, epochs)}
    return optimizer, schedules[config.schedule]()


def build_bptt(config: TrainConfig):
    """A :class:`~rnnscratch.train.TruncatedBPTT` (``k1 = bptt``, ``k2 = k1`` unless given), or None."""
    k1 = config.k1 or config.bptt
    return TruncatedBPTT(k1, config.k2 or k1) if k1 else None


def train(config: TrainConfig) -> dict:
    """Train as ``config`` says; return the metrics it also writes to ``<out>/metrics.json``.

    Metrics: ``task``, ``epochs``, ``steps``, ``train_seconds``, ``tokens_per_second``, ``parameters``,
    then ``val_<metric>`` and ``test_<metric>`` of the best weights (classify: loss and accuracy; lm:
    loss and perplexity; seq2seq: loss, perplexity, token accuracy and exact match) where there is
    such a part. Selects the backend and dtype globally.
    Refused before anything is written (``ConfigError``): options out of range, an output folder in use
    by another run, holding another run's results (unless ``overwrite``) or not writable, a ``resume``
    whose checkpoint was trained with other options.
    """
    c = config.resolved()
    if c.resume:
        check_resumable(c)
    backend.set_backend(c.backend)
    backend.set_default_dtype(c.dtype)
    nn.init.manual_seed(c.seed)
    with run_folder(c.out, resume=c.resume, overwrite=c.overwrite, quiet=c.quiet) as folder:
        data = prepare(c)
        c = settle(c, data)
        target_vocab = data.pairs.target_vocab if data.pairs is not None else None
        model = build_model(c, data.vocab, data.label_names, target_vocab)
        pretrained = prepare_embedding(model, data.vocab, c)          # --embeddings, --freeze-embeddings
        optimizer, scheduler = build_optimizer(c, model)
        run_info = RunInfo.of_run(c, data.label_names, None if target_vocab is None else target_vocab.to_dict())
        trainer = Trainer(model, optimizer, c.task, bptt=build_bptt(c), clip=c.clip or None, scheduler=scheduler,
                          out_dir=c.out, patience=c.patience, vocab=data.vocab.to_dict(), quiet=c.quiet,
                          extra=run_info.to_dict(), max_steps=c.steps, log_every=c.log_every)
        if c.resume:
            trainer.resume(c.resume)
        if not c.quiet:
            n_train, n_val, n_test = data.sizes
            unit = {"lm": "tokens", "seq2seq": "pairs"}.get(c.task, "examples")
            print("\n".join(data.summary + pretrained + [
                f"{c.task}: {n_train} train / {n_val} validation / {n_test} test {unit}, vocabulary {len(data.vocab)}, "
                f"{type(model).__name__} {c.model} with {model.num_parameters():,} parameters, "
                f"backend {c.backend} {c.dtype}"]), flush=True)
        folder.clear_earlier()
        write_settings(os.path.join(c.out, "settings.json"), c, given=config)
        data.vocab.save(os.path.join(c.out, "vocab.json"))
        start = time.perf_counter()
        trainer.fit(data.train, data.val, epochs=c.epochs)
        train_seconds = time.perf_counter() - start
        best = os.path.join(c.out, "best.npz")
        if data.val is not None and os.path.exists(best):
            model.load_state_dict(load_checkpoint(best).model.state_dict())
        metrics = {"task": c.task, "epochs": len(trainer.history), "steps": trainer.step,
                   "train_seconds": train_seconds,
                   "tokens_per_second": float(numpy.mean([h["tokens_per_second"] for h in trainer.history])),
                   "parameters": model.num_parameters()}
        for part, desc, batches in (("val", "validation", data.val), ("test", "test", data.test)):
            if batches is not None:
                metrics.update({f"{part}_{k}": v for k, v in trainer.evaluate(batches, desc=desc).items()})
        atomic_write(os.path.join(c.out, "metrics.json"), json.dumps(metrics, indent=2))
        try:
            draw_history(trainer.history_rows, os.path.join(c.out, HISTORY_PNG))
        except PlotExtraMissing:
            warnings.warn(f"{HISTORY_PNG} not drawn: matplotlib is not installed; {PLOT_EXTRA}", stacklevel=2)
    return metrics


def resume_checkpoint(path) -> str:
    """The checkpoint ``--resume path`` means: ``path`` itself, or in a run folder the later of its
    ``interrupted.npz`` and ``last.npz`` (by optimizer step: an ``interrupted.npz`` that a resumed run has since
    gone past is stale). ``ConfigError`` naming ``--resume`` when there is none."""
    if not os.path.isdir(path):
        if not os.path.exists(path):
            raise ConfigError(f"--resume {path}: no such checkpoint or run folder")
        return path
    found = [os.path.join(path, name) for name in ("interrupted.npz", "last.npz")
             if os.path.exists(os.path.join(path, name))]
    if not found:
        raise ConfigError(f"--resume {path}: the folder holds no interrupted.npz or last.npz to continue from")
    return max(found, key=lambda checkpoint: load_checkpoint(checkpoint).meta["step"])      # the first on a tie


def resumed_config(path, **changes) -> TrainConfig:
    """The :class:`TrainConfig` that continues the run of ``path`` (a checkpoint or a run folder, see
    :func:`resume_checkpoint`): the options recorded in the checkpoint, with ``changes`` (for example
    ``epochs=20``); :func:`train` refuses changes other than
    :data:`~rnnscratch.app.config.RESUME_MAY_CHANGE`. Checkpoints of older versions record only some options:
    the others must then be given again as ``changes``."""
    checkpoint = resume_checkpoint(path)
    record = load_checkpoint(checkpoint).meta.get("extra") or {}
    if "task" not in record:
        raise CheckpointError(f"{checkpoint}: not written by `rnnscratch train` (no run record inside)")
    options = {**RunInfo.from_dict(record).options(), **changes, "resume": checkpoint}
    if "steps" in changes and "epochs" not in changes:
        options["epochs"] = UNTIL_STEPS         # --steps N alone: up to N steps in all, not the recorded epochs
    return TrainConfig(**options)


def settle(config: TrainConfig, data) -> TrainConfig:
    """``config`` with what the data decides filled in: a classifier's validation split and number of epochs
    when none was given (:func:`~rnnscratch.app.config.auto_val_split`,
    :func:`~rnnscratch.app.config.auto_epochs`)."""
    epochs = config.epochs if config.epochs is not None else auto_epochs(data.batches_per_epoch)
    val_split = data.val_split if data.val_split is not None else config.val_split
    return dataclasses.replace(config, val_split=val_split, epochs=epochs)


def check_resumable(config: TrainConfig):
    """``ConfigError`` unless ``config.resume`` holds a run of this program trained with ``config``'s options
    (those a resumed run may change aside: :data:`~rnnscratch.app.config.RESUME_MAY_CHANGE`)."""
    record = load_checkpoint(config.resume).meta.get("extra") or {}
    if "task" not in record:
        raise CheckpointError(f"{config.resume}: not written by `rnnscratch train` (no run record inside)")
    conflicts = resume_conflicts(config, RunInfo.from_dict(record))
    if conflicts:
        raise ConfigError(f"--resume {config.resume}: the options differ from the checkpoint's run: "
                          f"{', '.join(conflicts)}; resume with the run's options, or start a new run")

