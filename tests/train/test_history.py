"""History: a row every N optimizer steps besides the per-epoch rows, in history.json and history.csv."""
import csv
import json

import numpy as np
import pytest

from rnnscratch import backend, nn, optim
from rnnscratch.train import Trainer, epoch_rows, load_checkpoint, read_history, step_rows
from rnnscratch.train.history import merge, write_history


@pytest.fixture(autouse=True)
def float64():
    with backend.use_backend(dtype="float64"):
        yield


def lm_batches(T=5, B=2, n=6, V=6):
    stream = np.random.default_rng(0).integers(0, V, size=B * (T * n + 1)).reshape(B, -1).T
    return [(stream[k * T:(k + 1) * T], stream[k * T + 1:(k + 1) * T + 1]) for k in range(n)]


def lm_trainer(out_dir=None, **kwargs):
    model = nn.LanguageModel(6, hidden_size=4, embed_dim=3, cell="gru", rng=0)
    return Trainer(model, optim.Adam(model.parameters(), lr=0.02), "lm", out_dir=out_dir, quiet=True, **kwargs)


def test_a_language_model_logs_every_n_steps(tmp_path):
    trainer = lm_trainer(tmp_path, log_every=2)
    trainer.fit(lm_batches(), lm_batches()[:2], epochs=2)          # 6 steps an epoch
    steps = trainer.step_history
    assert [(row["step"], row["epoch"]) for row in steps] == [(2, 1), (4, 1), (6, 1), (8, 2), (10, 2), (12, 2)]
    assert all(set(row) == {"kind", "step", "epoch", "lr", "seconds", "train_loss", "train_perplexity",
                            "tokens_per_second"} for row in steps)
    assert all(row["train_perplexity"] == pytest.approx(np.exp(row["train_loss"])) for row in steps)
    seconds = [row["seconds"] for row in steps]
    assert seconds == sorted(seconds) and seconds[0] > 0
    # each row's loss is over its own two steps: as every batch has T*B targets, the rows of an epoch
    # average to the epoch's loss
    epochs = trainer.history
    for epoch in (1, 2):
        losses = [row["train_loss"] for row in steps if row["epoch"] == epoch]
        assert np.mean(losses) == pytest.approx(epochs[epoch - 1]["train_loss"], rel=1e-12)
    assert [(row["kind"], row["step"]) for row in epochs] == [("epoch", 6), ("epoch", 12)]
    assert epochs[1]["seconds"] == pytest.approx(epochs[0]["train_seconds"] + epochs[1]["train_seconds"])

    rows = json.loads((tmp_path / "history.json").read_text())
    assert [(row["kind"], row["step"]) for row in rows] == [
        ("step", 2), ("step", 4), ("step", 6), ("epoch", 6), ("step", 8), ("step", 10), ("step", 12), ("epoch", 12)]
    assert epoch_rows(rows) == epochs and step_rows(rows) == steps
    assert "val_perplexity" in rows[3] and "val_loss" not in rows[0]   # validation metrics at the epoch ends
    with open(tmp_path / "history.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["kind"] for r in table] == [r["kind"] for r in rows] and table[0]["val_loss"] == ""
    assert float(table[3]["val_loss"]) == rows[3]["val_loss"]
    assert load_checkpoint(tmp_path / "last.npz").meta["step_history"] == steps


def test_a_row_spans_epochs_when_an_epoch_is_shorter_than_n_steps():
    trainer = lm_trainer(log_every=4)
    trainer.fit(lm_batches(n=3), epochs=4)                      # 3 steps an epoch, rows at 4, 8, 12
    assert [(row["step"], row["epoch"]) for row in trainer.step_history] == [(4, 2), (8, 3), (12, 4)]
    # 12 equal-sized steps in three rows of four: their mean is the mean of the four epochs
    assert np.mean([row["train_loss"] for row in trainer.step_history]) == \
        pytest.approx(np.mean([row["train_loss"] for row in trainer.history]), rel=1e-12)


def test_merge_orders_by_step_with_the_epoch_row_after_its_steps():
    epochs = [{"kind": "epoch", "step": 3}, {"kind": "epoch", "step": 6}]
    steps = [{"kind": "step", "step": s} for s in (2, 4, 6)]
    assert [(r["kind"], r["step"]) for r in merge(epochs, steps)] == \
        [("step", 2), ("epoch", 3), ("step", 4), ("step", 6), ("epoch", 6)]


def test_a_history_from_before_step_rows_reads_as_epoch_rows(tmp_path):
    old = [{"epoch": 1, "lr": 0.1, "train_loss": 0.7}, {"epoch": 2, "lr": 0.1, "train_loss": 0.5}]
    (tmp_path / "history.json").write_text(json.dumps(old))
    rows = read_history(tmp_path / "history.json")
    assert epoch_rows(rows) == old and step_rows(rows) == []


def test_write_and_read_round_trip(tmp_path):
    rows = [{"kind": "step", "step": 2, "epoch": 1, "lr": 0.1, "seconds": 0.5, "train_loss": 0.9},
            {"kind": "epoch", "epoch": 1, "step": 3, "lr": 0.1, "seconds": 0.7, "train_loss": 0.8, "val_loss": 0.85}]
    write_history(tmp_path, rows)
    assert read_history(tmp_path / "history.json") == rows
    lines = (tmp_path / "history.csv").read_text().splitlines()
    assert lines == ["kind,step,epoch,lr,seconds,train_loss,val_loss", "step,2,1,0.1,0.5,0.9,",
                     "epoch,3,1,0.1,0.7,0.8,0.85"]


@pytest.mark.parametrize("text, words", [("{oops", "not valid JSON"), ('{"epoch": 1}', "expected a list"),
                                         ("[1, 2]", "expected a list")])
def test_read_history_names_the_file_it_cannot_use(tmp_path, text, words):
    (tmp_path / "history.json").write_text(text)
    with pytest.raises(ValueError, match=words) as refused:
        read_history(tmp_path / "history.json")
    assert str(tmp_path / "history.json") in str(refused.value)
