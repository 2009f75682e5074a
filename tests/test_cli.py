"""The command line: the main job, smoke runs of every command, and bad input (exit 2, one line)."""
import json
import os
import subprocess
import sys

import pytest

from rnnscratch import backend
from rnnscratch.app.config import FORMATS, TASKS
from rnnscratch.cli import build_parser, main
from rnnscratch.functional.cells import CELL_NAMES
from rnnscratch.optim import OPTIMIZERS


def run(*argv, cwd=None):
    """Run the CLI in a subprocess (as a user would) and return the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "rnnscratch", *map(str, argv)], capture_output=True, text=True,
                          cwd=cwd)


@pytest.fixture(scope="module")
def sentiment_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sentiment")
    done = run("train", "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    return out, done


def test_main_job_reaches_100_percent_on_the_embedded_set(sentiment_run):
    out, done = sentiment_run
    assert "test accuracy 100.00%" in done.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] == 1.0
    assert {"test_loss", "val_loss", "train_seconds", "tokens_per_second", "val_accuracy"} <= set(metrics)
    for name in ("best.npz", "last.npz", "history.json", "history.csv"):
        assert (out / name).exists()


def test_predict_and_evaluate_from_the_checkpoint_alone(sentiment_run):
    out, _ = sentiment_run
    done = run("predict", out / "best.npz", "this movie is not bad", "i am not happy")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("pos\t") and lines[1].startswith("neg\t")
    done = run("evaluate", out / "best.npz")
    assert done.returncode == 0 and "accuracy 100.00%" in done.stdout and "predicted" in done.stdout


def test_lm_smoke_and_sample(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat. the dog sat on the log.\n" * 40)
    done = run("train", "--task", "lm", "--data", corpus, "--hidden", 16, "--embed", 8, "--layers", 1,
               "--max-len", 20, "--batch-size", 4, "--steps", 5, "--out", tmp_path / "lm", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "validation loss" in done.stdout
    done = run("sample", tmp_path / "lm" / "last.npz", "--prefix", "the ", "--length", 30, "--seed", 1)
    assert done.returncode == 0 and done.stdout.startswith("the ") and len(done.stdout) >= 34
    again = run("sample", tmp_path / "lm" / "last.npz", "--prefix", "the ", "--length", 30, "--seed", 1)
    assert again.stdout == done.stdout
    assert run("evaluate", tmp_path / "lm" / "last.npz").returncode == 0


def test_char_classifier_on_a_class_folder_with_tbptt_and_resume(tmp_path):
    names = tmp_path / "names"
    names.mkdir()
    (names / "English.txt").write_text("\n".join(["Smith", "Jones", "Brown", "Taylor", "Wilson", "Evans"] * 3))
    (names / "Italian.txt").write_text("\n".join(["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano"] * 3))
    names_task = ["--task", "classify", "--tokenizer", "char", "--data", str(names), "--model", "gru"]
    assert main(["train", *names_task, "--hidden", "8", "--epochs", "2", "--bptt", "3",
                 "--out", str(tmp_path / "n"), "--quiet"]) == 0
    assert main(["train", *names_task, "--hidden", "8", "--epochs", "3", "--bptt", "3",
                 "--out", str(tmp_path / "n"), "--resume", str(tmp_path / "n" / "last.npz"), "--quiet"]) == 0
    assert len(json.loads((tmp_path / "n" / "history.json").read_text())) == 3
    assert not (tmp_path / "n" / "best.npz").exists()      # 12 names are too few for a validation part
    done = run("predict", tmp_path / "n", "Rossini")          # a run folder: its best.npz, else its last.npz
    assert done.returncode == 0 and done.stdout.split("\t")[0] in ("English", "Italian")


def test_csv_data_with_a_separate_test_file(tmp_path):
    rows = ["text,label"] + [f"good {k},pos" for k in range(10)] + [f"bad {k},neg" for k in range(10)]
    (tmp_path / "train.csv").write_text("\n".join(rows))
    (tmp_path / "test.csv").write_text("text,label\ngood 3,pos\nbad 1,neg\n")
    assert main(["train", "--data", str(tmp_path / "train.csv"), "--test-data", str(tmp_path / "test.csv"),
                 "--epochs", "2", "--out", str(tmp_path / "o"), "--quiet"]) == 0


def test_imdb_smoke(data_dir, tmp_path):
    archive = os.path.join(data_dir, "aclImdb_labeled.tar.gz")
    done = run("train", "--data", archive, "--model", "lstm", "--bptt", 50, "--hidden", 16, "--embed", 8,
               "--limit", 300, "--epochs", 1, "--max-len", 100, "--vocab-size", 2000, "--out", tmp_path, "--quiet")
    assert done.returncode == 0, done.stderr
    assert "test accuracy" in done.stdout


@pytest.mark.parametrize("argv, message", [
    (["train", "--data", "missing.csv"], "missing.csv: no such file or folder"),
    (["train", "--no-such-option"], "unrecognized arguments: --no-such-option"),
    (["train", "--task", "lm", "--data", "embedded"], "a language model trains on a plain-text corpus"),
    (["train", "--task", "sentiment"], "invalid choice: 'sentiment'"),
    (["evaluate", "nope.npz", "--split", "validation"], "invalid choice: 'validation'"),
    (["predict", "nope.npz", "hi"], "checkpoint not found: nope.npz"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, tmp_path):
    done = subprocess.run([sys.executable, "-m", "rnnscratch", *argv], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.npz"))


def test_empty_dataset_truncated_and_foreign_checkpoints(tmp_path, sentiment_run):
    (tmp_path / "empty.csv").write_text("")
    done = run("train", "--data", tmp_path / "empty.csv", "--out", tmp_path / "o")
    assert done.returncode == 2 and "the file is empty" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()
    good = (sentiment_run[0] / "best.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(good[: len(good) // 3])
    done = run("predict", tmp_path / "cut.npz", "good")
    assert done.returncode == 2 and "truncated" in done.stderr and "Traceback" not in done.stderr
    from rnnscratch import nn
    from rnnscratch.train import save_checkpoint
    save_checkpoint(tmp_path / "bare.npz", nn.LanguageModel(5, hidden_size=3))      # no vocabulary inside
    done = run("predict", tmp_path / "bare.npz", "good")
    assert done.returncode == 2 and "not written by `rnnscratch train`" in done.stderr
    lm_done = run("sample", sentiment_run[0] / "best.npz")
    assert lm_done.returncode == 2 and "holds a classifier" in lm_done.stderr


def test_gradcheck_command_has_a_row_per_registered_cell():
    done = run("gradcheck", "--steps", 3)
    rows = [line.split("  ")[0].strip() for line in done.stdout.splitlines() if line.endswith(("PASS", "FAIL"))]
    assert done.returncode == 0 and f"{len(rows)}/{len(rows)} passed" in done.stdout
    assert rows[:2 * len(CELL_NAMES)] == [row for name in CELL_NAMES for row in (name, f"{name} (lengths)")]


def test_default_out_folder_is_runs_slash_task(tmp_path):
    done = run("train", "--epochs", 1, "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "runs" / "classify" / "best.npz").exists()
    assert os.path.join("runs", "classify") in done.stdout.splitlines()[-1]


def test_choices_come_from_their_one_home():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    choices = {a.dest: a.choices for a in train._actions if a.choices}
    assert tuple(choices["task"]) == TASKS and tuple(choices["model"]) == CELL_NAMES
    assert tuple(choices["optimizer"]) == tuple(OPTIMIZERS) and tuple(choices["format"]) == FORMATS
    assert tuple(choices["dtype"]) == backend.FLOAT_DTYPES


def test_help_explains_every_option():
    done = run("train", "--help")
    for option in ("--task", "--data", "--test-data", "--test-split", "--bptt", "--k1", "--k2", "--clip",
                   "--optimizer", "--lr", "--epochs", "--batch-size", "--max-len", "--vocab-size", "--min-freq",
                   "--seed", "--backend", "--dtype", "--out", "--resume", "--bidirectional", "--dropout"):
        assert option in done.stdout


# -- a user's own small data with the defaults (issue 16) ----------------------------------------------
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def test_sixty_sentences_of_ones_own_reach_95_percent_with_no_flag(tmp_path):
    """60 plain training sentences written for this test (not the shipped phrases) and a separate 20-sentence test
    file: the defaults hold no test part back from the training file, take no validation part too small to choose
    a model by, train for enough steps and pool by the mean, so no flag is needed."""
    done = subprocess.run([sys.executable, "-m", "rnnscratch", "train",
                           "--data", os.path.join(FIXTURES, "own_reviews_train.csv"),
                           "--test-data", os.path.join(FIXTURES, "own_reviews_test.csv")],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "validation: none, 60 training examples are too few" in done.stdout
    metrics = json.loads((tmp_path / "runs" / "classify" / "metrics.json").read_text())
    settings = json.loads((tmp_path / "runs" / "classify" / "settings.json").read_text())["settings"]
    assert metrics["test_accuracy"] >= 0.95, metrics
    assert (settings["test_split"], settings["val_split"], settings["pooling"]) == (0.0, 0.0, "mean")
    assert metrics["steps"] >= 500 and settings["epochs"] == metrics["epochs"]


def test_test_split_0_trains_on_everything(tmp_path):
    rows = ["text,label"] + [f"good {k},pos" for k in range(10)] + [f"bad {k},neg" for k in range(10)]
    (tmp_path / "train.csv").write_text("\n".join(rows))
    assert main(["train", "--data", str(tmp_path / "train.csv"), "--test-split", "0", "--epochs", "2",
                 "--out", str(tmp_path / "o"), "--quiet"]) == 0
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert not any(key.startswith("test_") for key in metrics) and metrics["epochs"] == 2


def test_a_settings_file_repeats_the_run_and_resume_needs_no_flag(tmp_path):
    rows = ["text,label"] + [f"{w} day {k},{'pos' if w == 'good' else 'neg'}" for k in range(15)
                             for w in ("good", "bad")]
    (tmp_path / "d.csv").write_text("\n".join(rows))
    first = tmp_path / "first"
    assert main(["train", "--data", str(tmp_path / "d.csv"), "--model", "gru", "--hidden", "8", "--embed", "4",
                 "--epochs", "3", "--seed", "3", "--out", str(first), "--quiet"]) == 0
    assert (first / "vocab.json").exists()
    again = tmp_path / "again"
    assert main(["train", "--config", str(first / "settings.json"), "--out", str(again), "--quiet"]) == 0
    a, b = (json.loads((run / "metrics.json").read_text()) for run in (first, again))
    assert {k: v for k, v in a.items() if "second" not in k} == {k: v for k, v in b.items() if "second" not in k}
    # a flag given beside --config wins over the file
    other = tmp_path / "other"
    assert main(["train", "--config", str(first / "settings.json"), "--epochs", "1", "--out", str(other),
                 "--quiet"]) == 0
    assert json.loads((other / "metrics.json").read_text())["epochs"] == 1
    # --resume DIR, no other flag: continues with the recorded options; --epochs may extend it
    assert main(["train", "--resume", str(first), "--epochs", "5", "--quiet"]) == 0
    resumed = json.loads((first / "settings.json").read_text())["settings"]
    assert resumed["epochs"] == 5 and resumed["model"] == "gru" and resumed["hidden"] == 8
    assert json.loads((first / "metrics.json").read_text())["epochs"] == 5
