"""Pictures of training and of recurrent networks at work (matplotlib, the ``plot`` extra).

Every function returns a new ``matplotlib.figure.Figure`` (no global pyplot state), ready for
``fig.savefig(path)`` or display in a notebook. Nothing in the library imports this module.
"""
from __future__ import annotations

import numpy
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

from . import backend
from .train.history import epoch_rows, step_rows


# the accuracy-like metrics a history may hold (classifiers; sequence to sequence), with their legend labels
_ACCURACIES = (("train_accuracy", "train"), ("val_accuracy", "validation"),
               ("train_token_accuracy", "train, per token"), ("val_token_accuracy", "validation, per token"),
               ("val_exact_match", "validation, exact match"))


def training_curves(history):
    """Loss, and accuracy (classifiers; sequence to sequence: per token and exact match) or perplexity
    (language models), of a run against optimizer steps.

    ``history``: the rows of a run's ``history.json`` (:mod:`rnnscratch.train.history`: training metrics
    every N steps, validation metrics at each epoch's end) or a Trainer's per-epoch ``history``. The
    training curve comes from the step rows (from the epoch rows when there are none), the validation
    curve from the epoch rows. A history whose rows have no ``step`` (written before step rows existed)
    is drawn against the epoch.
    """
    steps, epochs = step_rows(history), epoch_rows(history)
    x = "step" if all("step" in row for row in history) else "epoch"
    has = lambda key: any(key in row for row in history)  # noqa: E731
    accuracies = [(key, label) for key, label in _ACCURACIES if has(key)]
    perplexities = [(f"{part}_perplexity", label) for part, label in (("train", "train"), ("val", "validation"))
                    if has(f"{part}_perplexity")]
    panels = [("loss", "cross-entropy (nats)", 1, [("train_loss", "train"), ("val_loss", "validation")])]
    if accuracies:          # classifiers; sequence to sequence (per token, exact match)
        panels.append(("accuracy", "accuracy (%)", 100, accuracies))
    elif perplexities:      # language models
        panels.append(("perplexity", "perplexity (log scale)", 1, perplexities))
    fig = Figure(figsize=(5.5 * len(panels), 3.8), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (metric, ylabel, scale, curves) in zip(axes, panels):
        for key, label in curves:
            rows = [row for row in (steps or epochs if key.startswith("train_") else epochs) if key in row]
            if rows:                # validation points always marked; a long training curve is a line
                marker = "o" if key.startswith("val_") or len(rows) <= 30 else None
                ax.plot([row[x] for row in rows], [scale * row[key] for row in rows], "-",
                        marker=marker, markersize=4, label=label)
        if x == "step" and 1 < len(epochs) <= 30:          # where each epoch ended
            for row in epochs[:-1]:
                ax.axvline(row["step"], color="0.85", linewidth=0.8, zorder=0)
        if metric == "perplexity":
            ax.set_yscale("log")
            for axis_ticks in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
                axis_ticks(FormatStrFormatter("%g"))          # 2, 3, 4, 6, 10 rather than 6 x 10^0
        ax.set(xlabel="optimizer step" if x == "step" else "epoch", ylabel=ylabel, title=metric)
        ax.legend()
        ax.grid(alpha=0.3)
    return fig


def gradient_norms_over_time(norms_by_model, title="gradient reaching each time step"):
    """``{name: (T,) array of ||dL/dh_t||}`` on a log scale against the time step t."""
    fig = Figure(figsize=(6.5, 4), layout="constrained")
    ax = fig.subplots()
    for name, norms in norms_by_model.items():
        norms = numpy.asarray(backend.to_numpy(norms), dtype=float)
        ax.semilogy(numpy.arange(len(norms)), norms, label=name)
    ax.set(xlabel="time step t", ylabel="||dL/dh_t|| (log scale)", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return fig


def gate_heatmap(activations, tokens, gate_names=None, units=16):
    """Gate activations ``(G, T, H)`` (or ``(T, H)``) over a sentence: one panel per gate, first units.

    A panel whose values are all in [0, 1] (a sigmoid gate) is drawn on a 0..1 scale; one with negative
    values (a tanh, such as the LSTM's candidate g) on a diverging -1..1 scale, so its sign shows.
    """
    a = numpy.asarray(backend.to_numpy(activations), dtype=float)
    if a.ndim == 2:
        a = a[None]
    names = gate_names or [f"gate {k}" for k in range(a.shape[0])]
    fig = Figure(figsize=(max(5, 0.55 * len(tokens) * a.shape[0]), 4), layout="constrained")
    axes = fig.subplots(1, a.shape[0], squeeze=False)[0]
    for ax, gate, name in zip(axes, a, names):
        signed = gate.min() < 0
        image = ax.imshow(gate[:, :units].T, aspect="auto", cmap="RdBu_r" if signed else "viridis",
                          vmin=-1 if signed else 0, vmax=1)
        ax.set_xticks(range(len(tokens)), tokens, rotation=60, ha="right", fontsize=8)
        ax.set(xlabel="input token", ylabel="hidden unit", title=name)
        fig.colorbar(image, ax=ax, label="activation")
    return fig


def hidden_state_trajectory(states, tokens=None, title="hidden state trajectory (first 2 principal components)"):
    """A ``(T, H)`` sequence of hidden states projected on its first two principal components."""
    h = numpy.asarray(backend.to_numpy(states), dtype=float)
    centred = h - h.mean(axis=0)
    _, _, vt = numpy.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T if vt.shape[0] >= 2 else numpy.c_[centred @ vt[:1].T, numpy.zeros(len(h))]
    fig = Figure(figsize=(5.5, 5), layout="constrained")
    ax = fig.subplots()
    ax.plot(xy[:, 0], xy[:, 1], "-", color="0.7", zorder=1)
    points = ax.scatter(xy[:, 0], xy[:, 1], c=numpy.arange(len(xy)), cmap="plasma", zorder=2)
    if tokens is not None:
        for (x, y), token in zip(xy, tokens):
            ax.annotate(token, (x, y), fontsize=8, xytext=(3, 3), textcoords="offset points")
    fig.colorbar(points, ax=ax, label="time step")
    ax.set(xlabel="PC 1", ylabel="PC 2", title=title)
    return fig


def confusion_matrix(confusion, labels, title="confusion matrix"):
    """Counts ``(C, C)`` (rows: true class, columns: predicted) with the numbers written in."""
    c = numpy.asarray(confusion)
    fig = Figure(figsize=(1.2 * len(labels) + 2.5, 1.1 * len(labels) + 1.8), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(c, cmap="Blues")
    for i in range(c.shape[0]):
        for j in range(c.shape[1]):
            ax.text(j, i, str(c[i, j]), ha="center", va="center", color="white" if c[i, j] > c.max() / 2 else "black")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    fig.colorbar(image, ax=ax, label="examples")
    return fig


def attention_heatmap(weights, source_tokens, target_tokens, title="attention weights"):
    """The attention weights of one pair, ``(T, S)``: row t is how target token t's step spread its
    attention over the S source tokens (each row sums to 1). Source tokens label the columns, target
    tokens the rows; a cell is darker the more weight it got, on a fixed 0..1 scale so that figures
    compare."""
    a = numpy.asarray(backend.to_numpy(weights), dtype=float)
    if a.ndim != 2 or a.shape != (len(target_tokens), len(source_tokens)):
        raise ValueError(f"weights: expected shape ({len(target_tokens)}, {len(source_tokens)}) (target tokens x "
                         f"source tokens), got {a.shape}")
    fig = Figure(figsize=(max(4.0, 0.4 * len(source_tokens) + 2), max(3.0, 0.4 * len(target_tokens) + 1.5)),
                 layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(a, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    # a space (a char token of dates) shown as an open box, a tab or newline escaped: an empty label reads as nothing
    shown = lambda tokens: ["\u2423" if t == " " else repr(t)[1:-1] if t.isspace() else t for t in tokens]  # noqa: E731
    ax.set_xticks(range(len(source_tokens)), shown(source_tokens), fontsize=9)
    ax.set_yticks(range(len(target_tokens)), shown(target_tokens), fontsize=9)
    ax.set(xlabel="source token", ylabel="target token", title=title)
    fig.colorbar(image, ax=ax, label="weight")
    return fig
