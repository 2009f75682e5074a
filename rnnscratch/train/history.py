"""A run's history: a row every N optimizer steps and a row at each epoch's end, in ``history.json``/``.csv``.

Two kinds of rows (``row["kind"]``), both with ``step`` (optimizer steps taken so far), ``epoch``, ``lr``
and ``seconds`` (training time so far, validation excluded):

* ``"step"`` — every ``log_every`` steps (:class:`~rnnscratch.train.Trainer`): ``epoch`` is the epoch in
  progress (from 1), ``train_loss`` and ``train_accuracy`` (classify) or ``train_perplexity`` (lm) and
  ``tokens_per_second`` over the steps since the previous step row (or since the epoch's start).
* ``"epoch"`` — at an epoch's end, the trainer's per-epoch row (what :meth:`Trainer.fit` returns):
  ``epoch`` completed, ``train_*`` over the whole epoch, ``train_seconds``, ``tokens_per_second``,
  ``grad_norm`` and the validation metrics ``val_*``.

Both files list the rows in step order (a step row before the epoch row of the same step). Files written
before step rows existed hold epoch rows without ``kind``; :func:`epoch_rows` reads them as epoch rows.
"""
from __future__ import annotations

import json
import os

from ..files import atomic_write

HISTORY_FILES = ("history.json", "history.csv")
LEADING_COLUMNS = ("kind", "step", "epoch", "lr", "seconds")     # the CSV's first columns, then as they come


def merge(epochs, steps) -> list:
    """Epoch rows and step rows in one list, in step order (a step row before its step's epoch row)."""
    return sorted([*steps, *epochs], key=lambda row: (row.get("step") or 0, row.get("kind", "epoch") == "epoch"))


def epoch_rows(rows) -> list:
    """The per-epoch rows of a history (rows without ``kind``: a history from before step rows)."""
    return [row for row in rows if row.get("kind", "epoch") == "epoch"]


def step_rows(rows) -> list:
    """The rows logged every N optimizer steps."""
    return [row for row in rows if row.get("kind") == "step"]


def write_history(out_dir, rows):
    """``history.json`` (a list of rows) and ``history.csv`` (one line per row; a row's missing columns
    empty) in ``out_dir``, each written atomically."""
    atomic_write(os.path.join(out_dir, "history.json"), json.dumps(rows, indent=2))
    found = dict.fromkeys(key for row in rows for key in row)
    keys = [key for key in LEADING_COLUMNS if key in found] + [key for key in found if key not in LEADING_COLUMNS]
    lines = [",".join(keys)] + [",".join(str(row.get(key, "")) for key in keys) for row in rows]
    atomic_write(os.path.join(out_dir, "history.csv"), "\n".join(lines) + "\n")


def read_history(path) -> list:
    """The rows of a ``history.json``. ``FileNotFoundError``; ``ValueError`` naming ``path`` when it is not a
    list of rows (JSON objects)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); is it a training run's "
                         "history?") from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError(f"{path}: expected a list of history rows (JSON objects), got {type(rows).__name__}")
    return rows
