"""The training job and inference called from Python with a TrainConfig: no argparse anywhere."""
import json

import numpy as np
import pytest

from rnnscratch import nn
from rnnscratch.app import TrainConfig, evaluate, load_trained, predict, sample, train
from rnnscratch.app.config import RunInfo
from rnnscratch.app.inference import format_confusion
from rnnscratch.data import DataError
from rnnscratch.train import CheckpointError, load_checkpoint, save_checkpoint


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("classify")
    metrics = train(TrainConfig(epochs=3, out=str(out), quiet=True))
    return out, metrics


def test_the_job_returns_and_writes_its_metrics(classifier_run):
    out, metrics = classifier_run
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert metrics["task"] == "classify" and metrics["epochs"] == 3
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["test_loss"] > 0
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]          # no temporary files left


def test_history_plot_is_a_png(classifier_run):
    pytest.importorskip("matplotlib")
    assert (classifier_run[0] / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_checkpoint_records_the_run(classifier_run):
    out, _ = classifier_run
    record = load_checkpoint(out / "best.npz").meta["extra"]
    info = RunInfo.from_dict(record)
    assert record == info.to_dict()
    assert (info.task, info.tokenizer, info.data, info.label_names) == ("classify", "word", "embedded", ["neg", "pos"])


def test_predict_and_evaluate_agree_with_the_training_metrics(classifier_run):
    out, metrics = classifier_run
    (label, p, probs), = predict(out / "best.npz", ["this movie is not bad"])
    assert label in ("neg", "pos") and probs.shape == (2,) and p == pytest.approx(probs.max())
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)
    m = evaluate(out / "best.npz")
    assert m["accuracy"] == pytest.approx(metrics["test_accuracy"]) and m["examples"] == 480
    assert np.asarray(m["confusion"]).sum() == 480
    table = format_confusion(m["confusion"], m["labels"])
    assert "predicted" in table and table.splitlines()[2].split()[0] == "neg"
    with pytest.raises(DataError, match="holds a classifier; use `rnnscratch predict`"):
        sample(out / "best.npz", "x", 3)


def test_a_checkpoint_with_a_legacy_task_name_still_works(classifier_run, tmp_path):
    out, _ = classifier_run
    ckpt = load_checkpoint(out / "best.npz")
    old = {**ckpt.meta["extra"], "task": "sentiment"}
    save_checkpoint(tmp_path / "old.npz", ckpt.model, vocab=ckpt.vocab, extra=old)
    assert load_trained(tmp_path / "old.npz").run.task == "classify"
    assert predict(tmp_path / "old.npz", ["i am happy"])[0][0] == predict(out / "best.npz", ["i am happy"])[0][0]


def test_a_checkpoint_without_a_run_record_is_refused(tmp_path):
    save_checkpoint(tmp_path / "bare.npz", nn.LanguageModel(5, hidden_size=3))
    with pytest.raises(CheckpointError, match="not written by `rnnscratch train`"):
        load_trained(tmp_path / "bare.npz")


def test_clip_zero_means_no_clipping(tmp_path):
    common = dict(epochs=1, limit=200, val_split=0.0, quiet=True)
    unclipped = train(TrainConfig(clip=None, out=str(tmp_path / "none"), **common))
    zero = train(TrainConfig(clip=0.0, out=str(tmp_path / "zero"), **common))
    tiny = train(TrainConfig(clip=1e-9, out=str(tmp_path / "tiny"), **common))
    assert zero["test_loss"] == unclipped["test_loss"]
    assert tiny["test_loss"] != unclipped["test_loss"]           # clipping does change training


def test_language_model_job_and_sampling(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat. the dog sat on the log.\n" * 30)
    metrics = train(TrainConfig(task="lm", data=str(corpus), hidden=12, embed=6, layers=1, max_len=16, batch_size=4,
                                steps=4, out=str(tmp_path / "lm"), quiet=True))
    assert metrics["task"] == "lm" and metrics["steps"] == 4 and "test_loss" not in metrics
    assert evaluate(tmp_path / "lm" / "last.npz")["loss"] == pytest.approx(metrics["val_loss"], rel=1e-5)
    text = sample(tmp_path / "lm" / "last.npz", "the ", 20, seed=3)
    assert text.startswith("the ") and len(text) == 24
    assert sample(tmp_path / "lm" / "last.npz", "the ", 20, seed=3) == text
    with pytest.raises(DataError, match="holds a language model; use `rnnscratch sample`"):
        predict(tmp_path / "lm" / "last.npz", ["the"])


def test_steps_alone_means_exactly_that_many_optimizer_steps(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat. the dog sat on the log.\n" * 30)
    common = dict(task="lm", data=str(corpus), hidden=8, embed=4, layers=1, max_len=16, batch_size=4, quiet=True)
    one_epoch = train(TrainConfig(epochs=1, out=str(tmp_path / "epoch"), **common))["steps"]
    metrics = train(TrainConfig(steps=one_epoch + 7, out=str(tmp_path / "steps"), **common))
    assert metrics["steps"] == one_epoch + 7 and metrics["epochs"] == 2    # not capped by the one-epoch default
    capped = train(TrainConfig(steps=one_epoch + 7, epochs=1, out=str(tmp_path / "both"), **common))
    assert capped["steps"] == one_epoch                                     # --epochs ends first when given


def test_evaluate_shows_progress_unless_quiet(classifier_run, monkeypatch, capsys):
    from rnnscratch.train import progress
    monkeypatch.setattr(progress, "LINE_SECONDS", 0.0)      # plain-line mode (stderr captured): a line per batch
    capsys.readouterr()
    loud = evaluate(classifier_run[0] / "best.npz")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 8 and lines[-1].startswith("test  batch 8/8, ") and "accuracy" in lines[-1]  # 480 / 64
    assert evaluate(classifier_run[0] / "best.npz", quiet=True) == loud
    assert capsys.readouterr().err == ""
