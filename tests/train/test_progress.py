"""Progress output: bars with totals on a terminal, plain lines every N steps elsewhere, nothing when quiet."""
import io
import re

import numpy as np
import pytest
from tqdm import tqdm

from rnnscratch import backend, nn, optim
from rnnscratch.data import BucketIterator, stream_batches
from rnnscratch.train import Trainer, progress
from rnnscratch.train.progress import Progress, default_log_every, describe, progress_mode


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture(autouse=True)
def float64():
    with backend.use_backend(dtype="float64"):
        yield


@pytest.fixture
def redraw_every_update(monkeypatch):
    """tqdm redraws at most every 0.1 s; a test's passes are faster than that."""
    class EveryUpdate(tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, mininterval=0, **kwargs)
    monkeypatch.setattr(progress, "tqdm", EveryUpdate)


def classify_data(n=40, T=6, V=9, seed=0):
    """(sequences, labels): label 1 when token 3 occurs."""
    rng = np.random.default_rng(seed)
    seqs = [list(rng.integers(1, V, size=rng.integers(2, T + 1))) for _ in range(n)]
    return seqs, [int(3 in s) for s in seqs]


def classifier_trainer(**kwargs):
    model = nn.SequenceClassifier(9, 2, embed_dim=4, hidden_size=5, cell="gru", rng=0)
    return Trainer(model, optim.Adam(model.parameters(), lr=0.05), "classify", **kwargs)


def test_progress_mode_follows_the_stream_unless_asked():
    assert progress_mode("auto", stream=Terminal()) == "bar"
    assert progress_mode("auto", stream=io.StringIO()) == "lines"        # a file, a pipe, CI
    assert progress_mode("bar", quiet=True, stream=Terminal()) == "off"
    assert progress_mode("lines", stream=Terminal()) == "lines"
    with pytest.raises(ValueError, match="progress: expected one of auto, bar, lines, off, got 'fancy'"):
        progress_mode("fancy")


@pytest.mark.parametrize("batches, every", [(None, 50), (2, 10), (3, 12), (5, 10), (10, 1), (105, 10), (391, 39),
                                            (10_000, 50)])
def test_default_log_interval_is_about_ten_an_epoch_at_most_50_steps(batches, every):
    """Short epochs (fewer than ten batches: small data) are logged whole, about every ten steps."""
    assert default_log_every(batches) == every


def test_describe_shows_what_the_task_measures():
    assert describe({"loss": 0.69314, "accuracy": 0.5123, "confusion": [[1]]}, 12345.6) == \
        "loss 0.6931  accuracy 51.2%  12,346 tok/s"
    assert describe({"loss": 1.0, "perplexity": 2.71828}) == "loss 1.0000  perplexity 2.72"


def test_a_bar_has_the_total_and_the_postfix(redraw_every_update):
    stream = Terminal()
    bar = Progress(4, "epoch 1", "bar", stream=stream)
    for _ in range(4):
        bar.update("loss 0.5000")
    bar.close()
    text = stream.getvalue()
    assert "epoch 1" in text and "4/4" in text and "loss 0.5000" in text


def test_plain_lines_say_where_the_pass_is_and_how_long_is_left():
    stream = io.StringIO()
    lines = Progress(10, "epoch 2", "lines", initial=4, stream=stream)        # resumed after 4 batches
    lines.update("ignored: no line asked")
    lines.update("stats", line="step 6  loss 0.1")
    lines.close()
    out = stream.getvalue().splitlines()
    assert len(out) == 1
    assert re.fullmatch(r"epoch 2  batch 6/10, \d\d:\d\d elapsed, \d\d:\d\d left  step 6  loss 0.1", out[0])


def test_an_evaluation_prints_a_line_every_few_seconds_in_plain_mode(monkeypatch):
    stream = io.StringIO()
    quiet_pass = Progress(3, "test", "lines", timed_lines=True, stream=stream)
    quiet_pass.update("loss 1.0")                        # less than LINE_SECONDS since the start: nothing
    assert stream.getvalue() == ""
    monkeypatch.setattr(progress, "LINE_SECONDS", 0.0)
    quiet_pass.update("loss 0.9")
    assert stream.getvalue().startswith("test  batch 2/3, ") and stream.getvalue().endswith("loss 0.9\n")


def test_off_prints_nothing():
    stream = Terminal()
    silent = Progress(3, "epoch 1", "off", stream=stream)
    silent.update("x", line="y")
    silent.close()
    assert stream.getvalue() == ""


def test_training_and_evaluation_bars_have_totals(capsys, redraw_every_update):
    """A tiny run in bar mode, stderr captured: each epoch and each evaluation gets a bar with its total."""
    seqs, labels = classify_data()
    train = BucketIterator(seqs, labels, 8, seed=0)                 # a callable: its epochs are generators
    val = list(BucketIterator(seqs[:12], labels[:12], 4, shuffle=False)(0))
    trainer = classifier_trainer(progress="bar")
    trainer.fit(train, val, epochs=2)
    trainer.evaluate(val, desc="test")
    err = capsys.readouterr().err
    assert len(train) == 5
    for desc, total in (("epoch 1", 5), ("epoch 2", 5), ("validation", 3), ("test", 3)):
        assert re.search(rf"{desc}: +100%.*\b{total}/{total}\b", err), (desc, err)
    assert "accuracy" in err and "tok/s" in err and "loss" in err


def test_a_language_models_bar_counts_its_windows(capsys, redraw_every_update):
    ids = np.random.default_rng(0).integers(0, 6, size=2 * 23 + 1)
    model = nn.LanguageModel(6, hidden_size=4, embed_dim=3, cell="lstm", rng=0)
    Trainer(model, optim.Adam(model.parameters()), "lm", progress="bar").fit(lambda e: stream_batches(ids, 2, 5))
    err = capsys.readouterr().err
    assert len(stream_batches(ids, 2, 5)) == 5 and re.search(r"epoch 1: +100%.*\b5/5\b", err)
    assert "perplexity" in err


def test_plain_lines_come_every_log_every_steps_and_match_the_step_rows(capsys):
    seqs, labels = classify_data()
    trainer = classifier_trainer(log_every=2)                     # stderr captured: not a terminal
    trainer.fit(BucketIterator(seqs, labels, 8, seed=0), epochs=2)  # 5 steps an epoch: rows at 2, 4, ..., 10
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert [int(re.search(r"  step (\d+)  ", line).group(1)) for line in lines] == [2, 4, 6, 8, 10]
    assert [row["step"] for row in trainer.step_history] == [2, 4, 6, 8, 10]
    assert lines[2].startswith("epoch 2  batch 1/5, ")          # step 6 is epoch 2's first batch
    row = trainer.step_history[0]
    assert f"loss {row['train_loss']:.4f}  accuracy {100 * row['train_accuracy']:.1f}%" in lines[0]
    assert captured.out.count("\nepoch ") + captured.out.startswith("epoch ") == 2      # the epoch reports


def test_quiet_prints_nothing(capsys):
    seqs, labels = classify_data()
    trainer = classifier_trainer(quiet=True, log_every=1, progress="bar")
    trainer.fit(BucketIterator(seqs, labels, 8, seed=0), epochs=1)
    assert capsys.readouterr() == ("", "")
    assert len(trainer.step_history) == 5                          # the history is kept all the same


@pytest.mark.parametrize("log_every", [0, -1, 2.5, True])
def test_log_every_must_be_a_positive_integer(log_every):
    with pytest.raises(ValueError, match="log_every: expected a positive integer or None"):
        classifier_trainer(log_every=log_every)
