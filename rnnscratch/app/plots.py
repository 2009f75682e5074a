"""A run's curves as a PNG: ``rnnscratch plot RUN_DIR`` and the ``history.png`` that training leaves.

Both draw :func:`rnnscratch.viz.training_curves` from the run's history rows
(:mod:`rnnscratch.train.history`: a row every N steps and one per epoch), so a run stopped early, or
trained before step rows existed, can be drawn too. matplotlib is the ``plot`` extra: without it,
:class:`PlotExtraMissing` says how to install it.
"""
from __future__ import annotations

import os

from ..files import atomic_open
from ..train import read_history
from .config import ConfigError

PLOT_EXTRA = "pip install 'rnnscratch[plot]'"
HISTORY_PNG = "history.png"


class PlotExtraMissing(ImportError):
    """matplotlib (the ``plot`` extra) is not installed; the message names the command that installs it."""


def draw_history(rows, path) -> str:
    """Draw history ``rows`` into the PNG ``path``, written atomically; returns ``path``.
    :class:`PlotExtraMissing` without matplotlib."""
    try:
        from ..viz import training_curves
    except ImportError:
        raise PlotExtraMissing(f"drawing needs matplotlib, which is not installed; {PLOT_EXTRA}") from None
    fig = training_curves(rows)
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=100)
    return path


def plot_run(run_dir, out=None, overwrite=False) -> str:
    """Draw the curves of the run in the folder ``run_dir`` (finished or interrupted) from its
    ``history.json``; returns the PNG's path.

    ``out``: the PNG (default ``run_dir/history.png``, which is drawn from that history and so is
    replaced); an ``out`` that exists already is refused unless ``overwrite``. Refused
    (:class:`~rnnscratch.app.config.ConfigError`, naming ``RUN_DIR`` or ``--out``): no such folder, no
    ``history.json`` in it, a history without rows, an ``out`` that is not a ``.png`` or has no folder.
    """
    if not os.path.isdir(run_dir):
        what = "is a file, not a run folder" if os.path.exists(run_dir) else "no such folder"
        raise ConfigError(f"RUN_DIR {run_dir}: {what}; give the --out folder of a training run")
    source = os.path.join(run_dir, "history.json")
    if not os.path.exists(source):
        raise ConfigError(f"RUN_DIR {run_dir}: no history.json there (a training run writes it at its first "
                          "epoch's end, or when it is interrupted)")
    rows = read_history(source)
    if not rows:
        raise ConfigError(f"RUN_DIR {run_dir}: history.json holds no rows, nothing to draw")
    default = os.path.join(run_dir, HISTORY_PNG)
    target = out or default
    if out is not None:
        if not out.lower().endswith(".png"):
            raise ConfigError(f"--out {out}: expected a file name ending in .png")
        folder = os.path.dirname(out) or "."
        if not os.path.isdir(folder):
            raise ConfigError(f"--out {out}: no folder {folder}; create it or choose another --out")
        if os.path.exists(out) and not overwrite and os.path.realpath(out) != os.path.realpath(default):
            raise ConfigError(f"--out {out} exists already; add --overwrite to replace it, or choose another --out")
    return draw_history(rows, target)
