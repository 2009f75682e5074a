"""What a training run is asked to do (:class:`TrainConfig`) and what it records (:class:`RunInfo`).

The names the command line offers live here, once: the tasks (the trainer's own), the data formats,
the named sources, the learning-rate schedules, and the table of task-dependent defaults. The other
choices have their home in the library and are read from there (cells:
:data:`rnnscratch.functional.cells.CELL_NAMES`; optimizers: :data:`rnnscratch.optim.OPTIMIZERS`;
tokenizers: :data:`rnnscratch.data.TOKENIZERS`; backends and dtypes: :mod:`rnnscratch.backend`;
pooling: :data:`rnnscratch.nn.models.POOLINGS`).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from .. import backend
from ..data import TOKENIZERS
from ..functional.cells import CELL_NAMES
from ..nn.models import POOLINGS
from ..optim import OPTIMIZERS
from ..train import TASK_NAMES as TASKS

FORMATS = ("imdb", "csv", "tsv", "fasttext", "folder", "text")
LABELLED_FORMATS = tuple(f for f in FORMATS if f != "text")      # the formats that carry labels
NAMED_SOURCES = ("embedded", "imdb", "tinyshakespeare")          # data sets known by name, not by path
SCHEDULES = ("none", "step", "cosine")

# The options whose default depends on the task; TrainConfig leaves them None until resolved.
TASK_DEFAULTS = {
    "classify": dict(data="embedded", model="rnn", hidden=64, embed=32, layers=1, epochs=12, batch_size=32,
                     lr=5e-3, tokenizer="word", max_len=None, clip=5.0, val_split=0.1),
    "lm": dict(data="tinyshakespeare", model="lstm", hidden=256, embed=64, layers=2, epochs=1, batch_size=64,
               lr=2e-3, tokenizer="char", max_len=100, clip=5.0, val_split=0.1),
}

# Task names written by checkpoints before the tasks were the trainer's: read, never written.
LEGACY_TASKS = {"sentiment": "classify", "names": "classify", "charlm": "lm"}


@dataclass
class TrainConfig:
    """Every option of a training run (``rnnscratch train``), typed; build one from Python or the CLI.

    Fields left ``None`` that appear in :data:`TASK_DEFAULTS` take the task's default in :meth:`resolved`
    (``out`` becomes ``runs/<task>``). Field by field, as the CLI's options of the same name:

    * data: ``task`` (``"classify"``: many-to-one; ``"lm"``: language model); ``data`` (a name in
      :data:`NAMED_SOURCES` or a path); ``format`` (one of :data:`FORMATS`, None: detect);
      ``test_data``/``test_format`` (a separate labelled test file); ``test_split`` (held-out test
      fraction for sources without a test split); ``val_split`` (validation fraction; lm: the end of the
      text); ``tokenizer`` (``"word"``/``"char"``); ``max_len`` (classify: keep the last N tokens; lm: a
      batch's sequence length); ``vocab_size``, ``min_freq``; ``limit`` (N examples or characters).
    * model: ``model`` (a cell name), ``layers``, ``hidden``, ``embed`` (lm: 0 feeds one-hot tokens),
      ``bidirectional``, ``dropout``, ``pooling``.
    * training: ``bptt`` (k1 = k2) or ``k1``/``k2`` (truncated BPTT; None: full), ``clip`` (global norm;
      0: none), ``optimizer``, ``lr``, ``weight_decay``, ``schedule``, ``epochs``, ``steps`` (stop after
      this many updates), ``batch_size``, ``patience`` (early stopping), ``seed``.
    * machine and output: ``backend``, ``dtype``, ``out`` (folder), ``resume`` (a checkpoint), ``quiet``.
    """
    task: str = "classify"
    data: str | None = None
    format: str | None = None
    test_data: str | None = None
    test_format: str | None = None
    test_split: float = 0.2
    val_split: float | None = None
    tokenizer: str | None = None
    max_len: int | None = None
    vocab_size: int = 10000
    min_freq: int = 1
    limit: int | None = None
    model: str | None = None
    layers: int | None = None
    hidden: int | None = None
    embed: int | None = None
    bidirectional: bool = False
    dropout: float = 0.0
    pooling: str = "last"
    bptt: int | None = None
    k1: int | None = None
    k2: int | None = None
    clip: float | None = None
    optimizer: str = "adam"
    lr: float | None = None
    weight_decay: float = 0.0
    schedule: str = "none"
    epochs: int | None = None
    steps: int | None = None
    batch_size: int | None = None
    patience: int | None = None
    seed: int = 0
    backend: str = "numpy"
    dtype: str = "float32"
    out: str | None = None
    resume: str | None = None
    quiet: bool = False

    def resolved(self) -> TrainConfig:
        """A copy with the task's defaults filled in and every named choice checked (``ValueError``)."""
        check_choice("task", self.task, TASKS)
        filled = {key: value for key, value in TASK_DEFAULTS[self.task].items() if getattr(self, key) is None}
        config = dataclasses.replace(self, **filled)
        if config.out is None:
            config.out = os.path.join("runs", config.task)
        for name, choices in (("format", FORMATS), ("test_format", LABELLED_FORMATS), ("tokenizer", TOKENIZERS),
                              ("model", CELL_NAMES), ("pooling", POOLINGS), ("optimizer", OPTIMIZERS),
                              ("schedule", SCHEDULES), ("backend", backend.BACKENDS),
                              ("dtype", backend.FLOAT_DTYPES)):
            if getattr(config, name) is not None:
                check_choice(name, getattr(config, name), choices)
        return config


def check_choice(name, value, choices):
    """``ValueError`` naming the choices unless ``value`` is one of them."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")


@dataclass
class RunInfo:
    """What a training run records in its checkpoints (``extra``), so a model can be used later.

    ``evaluate``, ``predict`` and ``sample`` need nothing else besides the weights and the vocabulary.

    Attributes:
        task: ``"classify"`` or ``"lm"`` (the trainer's task names).
        tokenizer: the tokenizer's name, ``"word"`` or ``"char"``.
        max_len: classify: texts were cut to their last ``max_len`` tokens (None: whole); lm: the sequence
            length of a batch.
        label_names: classify: ``label_names[k]`` is class k's name; lm: None.
        data: the training source as given (a name in :data:`NAMED_SOURCES` or a path).
        format: the forced format of ``data`` (None: detected from the path).
        test_data: a separate labelled test file (None: the source's own test split or a held-out part).
        test_format: its forced format (None: detected).
        seed: the seed of initialisation, splits and batch order (re-creates the same splits).
        test_split: the held-out test fraction of a source without its own test split.
        val_split: the validation fraction (lm: the end of the text, which ``evaluate`` uses as test).
        batch_size: sequences per batch in training (lm evaluation batches the same way).
    """
    task: str
    tokenizer: str
    max_len: int | None = None
    label_names: list | None = None
    data: str | None = None
    format: str | None = None
    test_data: str | None = None
    test_format: str | None = None
    seed: int = 0
    test_split: float = 0.2
    val_split: float = 0.1
    batch_size: int = 64

    def to_dict(self) -> dict:
        """A JSON-ready dict (the checkpoint's ``extra``)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, record) -> RunInfo:
        """Read a checkpoint's ``extra``; old task names (``sentiment``, ``names``, ``charlm``) are mapped
        to the trainer's. Unknown keys are ignored; ``task`` and ``tokenizer`` are required (``KeyError``)."""
        missing = [key for key in ("task", "tokenizer") if key not in record]
        if missing:
            raise KeyError(f"run record: no {missing[0]!r} (not written by `rnnscratch train`)")
        known = {f.name for f in dataclasses.fields(cls)}
        info = cls(**{key: value for key, value in record.items() if key in known})
        info.task = LEGACY_TASKS.get(info.task, info.task)
        check_choice("task", info.task, TASKS)
        return info

    @classmethod
    def of_run(cls, config: TrainConfig, label_names=None) -> RunInfo:
        """The record of a resolved :class:`TrainConfig`'s run (``label_names`` for a classifier)."""
        return cls(**{f.name: getattr(config, f.name) for f in dataclasses.fields(cls) if f.name != "label_names"},
                   label_names=None if label_names is None else list(label_names))
