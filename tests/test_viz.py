"""Every plot function renders to a non-empty PNG with the Agg backend."""
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from rnnscratch import viz  # noqa: E402

HISTORY = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "train_accuracy": 0.5 + e / 10,
            "val_accuracy": 0.5 + e / 12} for e in range(1, 5)]


def _render(fig, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    return fig


@pytest.mark.parametrize("name, make", [
    ("curves", lambda: viz.training_curves(HISTORY)),
    ("curves_lm", lambda: viz.training_curves([{k: v for k, v in h.items() if "accuracy" not in k} for h in HISTORY])),
    ("gradnorms", lambda: viz.gradient_norms_over_time({"RNN": np.logspace(-20, 1, 100), "LSTM": np.ones(100)})),
    ("gates", lambda: viz.gate_heatmap(np.random.default_rng(0).random((3, 5, 20)), list("abcde"), ["i", "f", "o"])),
    ("trajectory", lambda: viz.hidden_state_trajectory(np.random.default_rng(0).standard_normal((6, 8)), list("hello!"))),
    ("confusion", lambda: viz.confusion_matrix([[5, 1], [2, 7]], ["neg", "pos"])),
    ("attention", lambda: viz.attention_heatmap(np.full((4, 5), 0.2), list("72+61"), ["1", "3", "3", "<eos>"])),
])
def test_figure_renders_to_png(name, make, tmp_path):
    fig = _render(make(), tmp_path, name)
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()     # readable: labels and a title


def test_training_curves_has_both_panels_with_legends():
    fig = viz.training_curves(HISTORY)
    assert len(fig.axes) == 2 and all(ax.get_legend() is not None for ax in fig.axes)


def test_training_curves_of_a_seq2seq_run_plot_token_accuracy_and_exact_match():
    history = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.1 / e, "train_token_accuracy": 0.5 + e / 10,
                "val_token_accuracy": 0.4 + e / 10, "val_exact_match": e / 5} for e in range(1, 5)]
    fig = viz.training_curves(history)
    assert len(fig.axes) == 2
    assert [t.get_text() for t in fig.axes[1].get_legend().get_texts()] == \
        ["train, per token", "validation, per token", "validation, exact match"]


def test_gate_heatmap_shows_the_sign_of_a_tanh_panel():
    rng = np.random.default_rng(0)
    gates = np.stack([rng.random((4, 6)), np.tanh(rng.standard_normal((4, 6)))])      # a sigmoid and a tanh
    fig = viz.gate_heatmap(gates, list("abcd"), ["i", "g"])
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert [im.get_clim() for im in images] == [(0, 1), (-1, 1)]


def test_attention_heatmap_labels_both_sides_and_checks_the_shape():
    weights = np.eye(3)[[0, 2, 1, 1]]                                      # (T=4, S=3), rows sum to 1
    fig = viz.attention_heatmap(weights, ["a", " ", "c"], ["x", "y", "z", "<eos>"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "\u2423", "c"]          # the space made visible
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y", "z", "<eos>"]
    np.testing.assert_array_equal(ax.images[0].get_array(), weights)
    assert ax.images[0].get_clim() == (0.0, 1.0)
    with pytest.raises(ValueError, match=r"weights: expected shape \(4, 2\) \(target tokens x source tokens\), "
                                         r"got \(4, 3\)"):
        viz.attention_heatmap(weights, ["a", "b"], ["x", "y", "z", "<eos>"])
