"""What a training run is asked to do (:class:`TrainConfig`) and what it records (:class:`RunInfo`).

The names the command line offers live here, once: the tasks (the trainer's own), the data formats,
the named sources, the learning-rate schedules, and the table of task-dependent defaults. The other
choices have their home in the library and are read from there (cells:
:data:`rnnscratch.functional.cells.CELL_NAMES`; optimizers: :data:`rnnscratch.optim.OPTIMIZERS`;
tokenizers: :data:`rnnscratch.data.TOKENIZERS`; backends and dtypes: :mod:`rnnscratch.backend`;
pooling: :data:`rnnscratch.nn.models.POOLINGS`; attention: :data:`rnnscratch.nn.seq2seq.ATTENTIONS`; the generated
sequence-to-sequence data sets: :data:`rnnscratch.data.SYNTHETIC_TASKS`).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass

from .. import backend
from ..data import SYNTHETIC_TASKS, TOKENIZERS
from ..files import atomic_write
from ..functional.cells import CELL_NAMES
from ..nn.models import POOLINGS
from ..nn.seq2seq import ATTENTIONS
from ..optim import OPTIMIZERS
from ..train import TASK_NAMES as TASKS
from .embeddings import vectors_dimension

FORMATS = ("imdb", "csv", "tsv", "fasttext", "folder", "text")
LABELLED_FORMATS = tuple(f for f in FORMATS if f != "text")      # the formats that carry labels
NAMED_SOURCES = ("embedded", "imdb", "tinyshakespeare") + SYNTHETIC_TASKS   # data sets known by name, not by path
SCHEDULES = ("none", "step", "cosine")

# The options whose default depends on the task; TrainConfig leaves them None until resolved.
TASK_DEFAULTS = {
    "classify": dict(data="embedded", model="rnn", hidden=64, embed=32, layers=1, epochs=None, batch_size=32,
                     lr=5e-3, tokenizer="word", max_len=None, clip=5.0, val_split=None),
    "lm": dict(data="tinyshakespeare", model="lstm", hidden=256, embed=64, layers=2, epochs=1, batch_size=64,
               lr=2e-3, tokenizer="char", max_len=100, clip=5.0, val_split=0.1),
    # DLFS2 chapter 8's settings (one LSTM layer, embedding 16, Adam 1e-3, batch 128, clip 5, reversed source)
    "seq2seq": dict(data="dates", model="lstm", hidden=256, embed=16, layers=1, epochs=5, batch_size=128, lr=1e-3,
                    tokenizer="char", max_len=100, clip=5.0, val_split=0.1, attention="dot", reverse_source=True),
}

# A classifier's epochs and validation split, when not given, follow the data (resolved once it is read,
# :func:`auto_epochs` and :func:`auto_val_split`): a few dozen examples need many passes and cannot spare a
# validation part; tens of thousands need few passes and give a validation part to choose a model by.
MIN_EPOCHS = 12                 # at least this many passes ...
MIN_STEPS = 500                 # ... and at least this many optimizer steps
VAL_FRACTION = 0.1              # the validation fraction, when ...
MIN_VAL_EXAMPLES = 100          # ... it holds at least this many examples (fewer cannot choose a model)

DEFAULT_TEST_SPLIT = 0.2       # held out for testing from a source without a test split (and no --test-data)


def auto_val_split(n_train) -> float:
    """The validation fraction of ``n_train`` training examples when none is given: :data:`VAL_FRACTION` if
    that part holds :data:`MIN_VAL_EXAMPLES` or more, else 0 (train on everything, keep the last weights)."""
    return VAL_FRACTION if round(n_train * VAL_FRACTION) >= MIN_VAL_EXAMPLES else 0.0


def auto_epochs(batches_per_epoch) -> int:
    """The number of epochs when none is given: :data:`MIN_EPOCHS`, or more when that many epochs of
    ``batches_per_epoch`` batches take fewer than :data:`MIN_STEPS` optimizer steps (small data sets)."""
    return max(MIN_EPOCHS, math.ceil(MIN_STEPS / max(1, batches_per_epoch)))

# Defaults that depend on the data as well, over TASK_DEFAULTS: (task, data) -> options.
DATA_DEFAULTS = {
    ("seq2seq", "addition"): dict(hidden=128, epochs=50),       # DLFS2's addition model is smaller and trains longer
}

# Options that only a sequence-to-sequence run reads: (field, its value when not given).
SEQ2SEQ_OPTIONS = (("target_tokenizer", None), ("attention", None), ("reverse_source", None), ("input_feeding", False))

# Task names written by checkpoints before the tasks were the trainer's: read, never written.
LEGACY_TASKS = {"sentiment": "classify", "names": "classify", "charlm": "lm"}

# The epoch limit when only --steps is given: training stops at the step count, not at an epoch count.
UNTIL_STEPS = 10**9

# What a resumed run may change: how long it runs, where and how it reports, which array library computes.
# Every other option must be the checkpoint's run's (else resuming is not continuing).
RESUME_MAY_CHANGE = ("epochs", "steps", "patience", "quiet", "out", "resume", "overwrite", "backend", "log_every")

# Options whose value, when unset, the run derives from the data or the other options (TrainConfig.resolved,
# auto_val_split, auto_epochs): an unset one does not conflict with a resumed run's recorded value.
DERIVED = ("val_split", "epochs", "test_split", "pooling", "embed", "target_tokenizer")

# Options of one invocation, not of the run: not recorded in settings.json or checkpoints, not read by --config
# or --resume (where to write, whether to replace, how loud, which array library computes).
PER_INVOCATION = ("out", "resume", "overwrite", "quiet", "backend")


class ConfigError(ValueError):
    """Options that cannot work together or are out of range; the message names them as the command line does."""


def flag(name) -> str:
    """The command-line option of a :class:`TrainConfig` field: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def _finite(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


# (test, what is expected) of the numeric options; an option left None is not checked.
_RANGES = {
    **{name: (_count, "a positive integer") for name in (
        "max_len", "min_freq", "limit", "layers", "hidden", "bptt", "k1", "k2", "epochs", "steps",
        "batch_size", "patience", "log_every")},
    "vocab_size": (lambda v: _count(v) and v >= 3, "an integer >= 3 (two special tokens and a word)"),
    "embed": (lambda v: _count(v) or v == 0, "an integer >= 0 (0: one-hot tokens, --task lm only)"),
    "test_split": (lambda v: _finite(v) and 0 <= v < 1, "a fraction in [0, 1) (0: no test part)"),
    "val_split": (lambda v: _finite(v) and 0 <= v < 1, "a fraction in [0, 1) (0: no validation)"),
    "dropout": (lambda v: _finite(v) and 0 <= v < 1, "a fraction in [0, 1)"),
    "lr": (lambda v: _finite(v) and v > 0, "a finite number > 0"),
    "weight_decay": (lambda v: _finite(v) and v >= 0, "a finite number >= 0"),
    "clip": (lambda v: _finite(v) and v >= 0, "a finite number >= 0 (0: no clipping)"),
    "seed": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an integer >= 0"),
}


@dataclass
class TrainConfig:
    """Every option of a training run (``rnnscratch train``), typed; build one from Python or the CLI.

    Fields left ``None`` that appear in :data:`TASK_DEFAULTS` take the task's default in :meth:`resolved`
    (or the data's, :data:`DATA_DEFAULTS`; ``out`` becomes ``runs/<task>``; ``test_split`` 0 with ``test_data``,
    else :data:`DEFAULT_TEST_SPLIT`; a classifier's ``pooling`` ``"last"`` with truncated BPTT, else ``"mean"``).
    A classifier's ``epochs`` and ``val_split`` left None follow the data once it is read
    (:func:`auto_epochs`, :func:`auto_val_split`). Field by field, as the CLI's options of the same name:

    * data: ``task`` (``"classify"``: many-to-one; ``"lm"``: language model; ``"seq2seq"``: sequence to
      sequence); ``data`` (a name in
      :data:`NAMED_SOURCES` or a path); ``format`` (one of :data:`FORMATS`, None: detect);
      ``text_column``/``label_column`` (CSV/TSV: a header name or a 0-based number; None: guessed);
      ``test_data``/``test_format`` (a separate labelled test file); ``test_split`` (held-out test
      fraction for sources without a test split; 0: none); ``val_split`` (validation fraction; lm: the end
      of the text); ``tokenizer`` (``"word"``/``"char"``; seq2seq: the source's) and ``target_tokenizer``
      (seq2seq; None: as ``tokenizer``); ``max_len`` (classify: keep the last N tokens; lm: a batch's
      sequence length; seq2seq: the longest target, in tokens, a longer one is an error);
      ``vocab_size``, ``min_freq``; ``limit`` (N examples, characters or training pairs).
    * model: ``model`` (a cell name), ``layers``, ``hidden``, ``embed`` (lm: 0 feeds one-hot tokens),
      ``bidirectional``, ``dropout``, ``pooling``; ``embeddings`` (a GloVe/word2vec text file, ``.gz``
      too, whose vectors initialise the embedding; ``embed`` defaults to their dimension) and
      ``freeze_embeddings`` (keep them fixed); seq2seq: ``attention`` (one of
      :data:`~rnnscratch.nn.seq2seq.ATTENTIONS`), ``reverse_source``, ``input_feeding``.
    * training: ``bptt`` (k1 = k2) or ``k1``/``k2`` (truncated BPTT; None: full), ``clip`` (global norm;
      0: none), ``optimizer``, ``lr``, ``weight_decay``, ``schedule``, ``epochs``, ``steps`` (stop after
      this many updates), ``batch_size``, ``patience`` (early stopping), ``seed``.
    * machine and output: ``backend``, ``dtype`` (None: ``RNNSCRATCH_BACKEND``/``RNNSCRATCH_DTYPE``, else
      numpy/float32), ``out`` (folder; None: the resumed checkpoint's folder, else ``runs/<task>``),
      ``overwrite`` (replace an earlier run's results in ``out``), ``resume`` (a checkpoint), ``quiet``,
      ``log_every`` (a history row and, when stderr is not a terminal, a progress line every N optimizer
      steps; None: about ten an epoch, at most 50 steps apart).

    :meth:`resolved` checks every option (:class:`ConfigError` naming it as the command line does).
    """
    task: str = "classify"
    data: str | None = None
    format: str | None = None
    text_column: str | int | None = None
    label_column: str | int | None = None
    test_data: str | None = None
    test_format: str | None = None
    test_split: float | None = None
    val_split: float | None = None
    tokenizer: str | None = None
    target_tokenizer: str | None = None
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
    pooling: str | None = None
    embeddings: str | None = None
    freeze_embeddings: bool = False
    attention: str | None = None
    reverse_source: bool | None = None
    input_feeding: bool = False
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
    backend: str | None = None
    dtype: str | None = None
    out: str | None = None
    overwrite: bool = False
    resume: str | None = None
    quiet: bool = False
    log_every: int | None = None

    def resolved(self) -> TrainConfig:
        """A copy with the task's and the environment's defaults filled in and every option checked
        (:class:`ConfigError`, a ``ValueError``; an unusable ``RNNSCRATCH_*`` variable: ``BackendError``; an
        unreadable ``--embeddings`` file: ``DataError``)."""
        check_choice("task", self.task, TASKS)
        defaults = TASK_DEFAULTS[self.task]
        defaults = {**defaults, **DATA_DEFAULTS.get((self.task, self.data or defaults["data"]), {})}
        filled = {key: value for key, value in defaults.items() if getattr(self, key) is None}
        if self.embeddings is not None and not self.resume and self.task != "seq2seq":   # --embed is the vectors'
            # dimension (and must agree
            # with it when given); a resumed run has its embedding in the checkpoint, the file may have moved
            filled["embed"] = vectors_dimension(self.embeddings)
            if self.embed is not None and self.embed != filled["embed"]:
                raise ConfigError(f"--embeddings {self.embeddings} has {filled['embed']}-dimensional vectors, --embed "
                                  f"is {self.embed}; give --embed {filled['embed']} or leave it unset")
        if self.steps is not None and self.epochs is None:
            filled["epochs"] = UNTIL_STEPS         # --steps alone: N optimizer steps, however many epochs that takes
        config = dataclasses.replace(self, **filled)
        if config.test_data and config.test_split:
            raise ConfigError(f"--test-split {config.test_split:g} and --test-data: with a separate test file no part of "
                              "--data is held out for testing; drop --test-split")
        if config.test_split is None:
            config.test_split = 0.0 if config.test_data else DEFAULT_TEST_SPLIT
        if config.pooling is None and config.task == "classify":   # truncated BPTT classifies from the last state;
            config.pooling = "last" if (config.bptt or config.k1) else "mean"  # else the mean generalises better
        if config.out is None:
            config.out = (os.path.dirname(config.resume) or ".") if config.resume else os.path.join("runs", config.task)
        config.backend = config.backend or backend.get_backend()
        config.dtype = config.dtype or backend.get_default_dtype().name
        for name, (test, expected) in _RANGES.items():
            value = getattr(config, name)
            if value is not None and not test(value):
                shown = f"{value:g}" if isinstance(value, float) else value      # 1e-05, not 1.0000000000000001e-05
                raise ConfigError(f"{flag(name)} {shown}: expected {expected}")
        if not config.out:
            raise ConfigError("--out '': expected a folder")
        if config.task == "classify" and config.embed == 0:
            raise ConfigError("--embed 0: a classifier needs an embedding size >= 1 (one-hot input, --embed 0, "
                              "is for --task lm)")
        if config.freeze_embeddings and config.embeddings is None:
            raise ConfigError("--freeze-embeddings: needs --embeddings FILE (the pretrained vectors to keep fixed)")
        check_seq2seq_options(config)
        if config.task == "seq2seq" and config.target_tokenizer is None:
            config.target_tokenizer = config.tokenizer
        if config.k2 is not None and (config.k1 or config.bptt) is None:
            raise ConfigError("--k2: needs --k1 (or --bptt)")
        if config.k1 is not None and config.bptt is not None:
            raise ConfigError("--bptt and --k1: give one of them (--bptt K is --k1 K --k2 K)")
        if config.overwrite and config.resume and same_folder(config.out, os.path.dirname(config.resume) or "."):
            raise ConfigError(f"--overwrite: would delete the run that --resume {config.resume} continues; "
                              "drop --overwrite")
        for name, choices in (("format", FORMATS), ("test_format", LABELLED_FORMATS), ("tokenizer", TOKENIZERS),
                              ("target_tokenizer", TOKENIZERS), ("attention", ATTENTIONS),
                              ("model", CELL_NAMES), ("pooling", POOLINGS), ("optimizer", OPTIMIZERS),
                              ("schedule", SCHEDULES), ("backend", backend.BACKENDS),
                              ("dtype", backend.FLOAT_DTYPES)):
            if getattr(config, name) is not None:
                check_choice(name, getattr(config, name), choices)
        return config


def settings_of(config: TrainConfig) -> dict:
    """The options of a run, JSON-ready: every field but :data:`PER_INVOCATION`."""
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(TrainConfig) if f.name not in PER_INVOCATION}


def write_settings(path, config: TrainConfig, given: TrainConfig | None = None):
    """Write a run's settings as readable JSON to ``path``, atomically: ``"settings"``, every option as the run
    used it (:func:`settings_of` of the resolved ``config``), and ``"given"``, the options as they were asked
    (``given``, before :meth:`TrainConfig.resolved`: unset ones None). ``rnnscratch train --config PATH`` reads
    ``"given"``, so what the defaults derive (the test and validation parts, the epochs, the pooling) is derived
    again, from the data and the flags given beside it; with the same data, seed and code it repeats the run."""
    from .. import __version__
    record = {"rnnscratch": __version__, "settings": settings_of(config),
              "given": settings_of(given if given is not None else config)}
    atomic_write(path, json.dumps(record, indent=2) + "\n")


def read_settings(path, flag_name="--config") -> dict:
    """The options in a settings file (its ``"given"`` options when written by :func:`write_settings`, else its
    ``"settings"``, or a plain JSON object of options by their :class:`TrainConfig` names);
    :data:`PER_INVOCATION` ones are left out. ``ConfigError`` naming ``flag_name`` for a missing, unreadable or
    malformed file and for an unknown option."""
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{flag_name} {path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{flag_name} {path}: not a readable settings file (JSON): {exc}") from None
    options = record.get("given", record.get("settings", record)) if isinstance(record, dict) else None
    if not isinstance(options, dict):
        raise ConfigError(f"{flag_name} {path}: expected a JSON object of options, got {type(options).__name__}")
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"{flag_name} {path}: unknown option {unknown[0]!r} (expected names like "
                          f"'batch_size', as in settings.json)")
    return {name: value for name, value in options.items() if name not in PER_INVOCATION}


def check_seq2seq_options(config: TrainConfig):
    """``ConfigError`` for a sequence-to-sequence option given to another task, or an option that a
    sequence-to-sequence run cannot take."""
    c = config
    if c.task != "seq2seq":
        given = [name for name, unset in SEQ2SEQ_OPTIONS if getattr(c, name) != unset]
        if given:
            shown = flag(given[0]) if given[0] != "reverse_source" or c.reverse_source else "--no-reverse-source"
            raise ConfigError(f"{shown}: for --task seq2seq only (this run is --task {c.task})")
        return
    if c.embed == 0:
        raise ConfigError("--embed 0: a sequence-to-sequence model needs an embedding size >= 1")
    if c.embeddings is not None:
        raise ConfigError("--embeddings: pretrained word vectors are for --task classify and lm (a sequence-to-sequence "
                          "model has two vocabularies, usually of characters)")
    for name in ("bptt", "k1", "k2"):
        if getattr(c, name) is not None:
            raise ConfigError(f"{flag(name)}: truncated BPTT is for --task classify and lm; a sequence-to-sequence "
                              "model trains through whole sequences")


def same_folder(a, b) -> bool:
    """Whether the paths ``a`` and ``b`` name one folder (an absent one compared by its absolute path)."""
    return os.path.realpath(a) == os.path.realpath(b)


def resume_conflicts(config: TrainConfig, run: RunInfo) -> list:
    """The options of ``config`` that differ from the ``run`` recorded in a checkpoint, as
    ``"--batch-size 8 (the run's: 32)"``; :data:`RESUME_MAY_CHANGE` are free. Older checkpoints record fewer
    options: what they record is compared."""
    recorded = run.options()
    fields = {f.name for f in dataclasses.fields(TrainConfig)} - set(RESUME_MAY_CHANGE)
    conflicts = []
    for name in sorted(fields & set(recorded)):
        ours = json.loads(json.dumps(getattr(config, name)))        # as a checkpoint's JSON would hold it
        if ours is None and name in DERIVED:                         # unset: whatever the data made it then
            continue
        if ours != recorded[name]:
            shown = ["unset" if v is None else v for v in (ours, recorded[name])]
            conflicts.append(f"{flag(name)} {shown[0]} (the run's: {shown[1]})")
    return conflicts


def check_choice(name, value, choices):
    """``ValueError`` naming the choices unless ``value`` is one of them."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")


@dataclass
class RunInfo:
    """What a training run records in its checkpoints (``extra``), so a model can be used later.

    ``evaluate``, ``predict`` and ``sample`` need nothing else besides the weights and the vocabulary.

    Attributes:
        task: ``"classify"``, ``"lm"`` or ``"seq2seq"`` (the trainer's task names).
        tokenizer: the tokenizer's name, ``"word"`` or ``"char"`` (seq2seq: the source's).
        max_len: classify: texts were cut to their last ``max_len`` tokens (None: whole); lm: the sequence
            length of a batch; seq2seq: the longest target (translation decodes at most this many tokens).
        label_names: classify: ``label_names[k]`` is class k's name; lm: None.
        data: the training source as given (a name in :data:`NAMED_SOURCES` or a path).
        format: the forced format of ``data`` (None: detected from the path).
        test_data: a separate labelled test file (None: the source's own test split or a held-out part).
        test_format: its forced format (None: detected).
        seed: the seed of initialisation, splits and batch order (re-creates the same splits).
        test_split: the held-out test fraction of a source without its own test split.
        val_split: the validation fraction (lm: the end of the text, which ``evaluate`` uses as test).
        batch_size: sequences per batch in training (lm evaluation batches the same way).
        text_column, label_column: the CSV/TSV columns asked for (None: guessed).
        target_tokenizer, reverse_source, target_vocab: seq2seq: the target's tokenizer, whether the
            source is read reversed, and the target :class:`~rnnscratch.data.Vocab` as a dict (the source
            vocabulary is the checkpoint's own); None for the other tasks.
        settings: every other option of the run (``TrainConfig`` fields), so that a resumed run can be
            checked to continue it (:func:`resume_conflicts`); None in older checkpoints.
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
    text_column: str | int | None = None
    label_column: str | int | None = None
    target_tokenizer: str | None = None
    reverse_source: bool | None = None
    target_vocab: dict | None = None
    settings: dict | None = None

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
    def of_run(cls, config: TrainConfig, label_names=None, target_vocab=None) -> RunInfo:
        """The record of a resolved :class:`TrainConfig`'s run (``label_names`` for a classifier, the
        ``target_vocab`` dict for a sequence-to-sequence model)."""
        own = {f.name for f in dataclasses.fields(cls)} - {"label_names", "settings", "target_vocab"}
        settings = {name: value for name, value in settings_of(config).items() if name not in own}
        return cls(**{name: getattr(config, name) for name in own}, settings=settings,
                   label_names=None if label_names is None else list(label_names), target_vocab=target_vocab)

    def options(self) -> dict:
        """The run's :class:`TrainConfig` options as recorded (older checkpoints record fewer)."""
        record = self.to_dict()
        known = {f.name for f in dataclasses.fields(TrainConfig)} - set(PER_INVOCATION)
        options = {**{k: v for k, v in record.items() if k not in ("settings", "target_vocab")},
                   **(record["settings"] or {})}
        return {name: value for name, value in options.items() if name in known}
