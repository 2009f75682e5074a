"""The command line: the main job, smoke runs of every command, and bad input (exit 2, one line)."""
import json
import os
import shlex
import subprocess
import sys

import pytest

from rnnscratch import backend
from rnnscratch.app.config import FORMATS, TASKS
from rnnscratch.cli import build_parser, main
from rnnscratch.functional.cells import CELL_NAMES
from rnnscratch.optim import OPTIMIZERS
from rnnscratch.train import epoch_rows, step_rows

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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
    assert len(epoch_rows(json.loads((tmp_path / "n" / "history.json").read_text()))) == 3
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
    (["train", "--task", "translate"], "invalid choice: 'translate'"),
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


# -- progress, history, plots and the closing message (issue 16) -------------------------------------
def png_size(path):
    """(width, height) of a PNG file, asserting that it is one (signature, then the IHDR chunk)."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", path
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_the_closing_message_lists_every_file_written_and_commands_that_work(sentiment_run):
    out, done = sentiment_run
    lines = done.stdout.splitlines()
    listed = next(line for line in lines if line.startswith(f"files in {out}: ")).split(": ", 1)[1].split(", ")
    assert sorted(listed) == sorted(p.name for p in out.iterdir())       # every file there, and only those
    assert {"best.npz", "last.npz", "history.json", "history.csv", "metrics.json"} <= set(listed)
    commands = [line.split("#")[0].split() for line in lines[lines.index("next:") + 1:]]
    assert [c[:2] for c in commands] == [["rnnscratch", "evaluate"], ["rnnscratch", "predict"], ["rnnscratch", "plot"]]
    for command in commands:                                              # each one runs as printed
        argv = shlex.split(" ".join(command[1:]))
        if argv[0] == "plot":
            argv += ["--out", str(out.parent / "closing-message.png")]   # leave the run's own history.png be
        again = run(*argv)
        assert again.returncode == 0, (command, again.stderr)


def test_plot_draws_a_run_from_its_history_and_refuses_to_replace_a_file(sentiment_run, tmp_path, capsys):
    out, _ = sentiment_run
    png = tmp_path / "curves.png"
    assert main(["plot", str(out), "--out", str(png)]) == 0
    assert f"drawn into {png}" in capsys.readouterr().out
    width, height = png_size(png)
    assert width > 2 * height > 400                        # two panels side by side
    before = png.read_bytes()
    assert main(["plot", str(out), "--out", str(png)]) == 2
    assert "exists already; add --overwrite" in capsys.readouterr().err and png.read_bytes() == before
    assert main(["plot", str(out), "--out", str(png), "--overwrite"]) == 0


def test_plot_draws_an_interrupted_run_and_an_old_per_epoch_history(sentiment_run, tmp_path):
    rows = json.loads((sentiment_run[0] / "history.json").read_text())
    interrupted = tmp_path / "interrupted"                 # stopped in its first epoch: step rows only
    interrupted.mkdir()
    (interrupted / "history.json").write_text(json.dumps([r for r in rows if r["epoch"] == 1 and r["kind"] == "step"]))
    old = tmp_path / "old"                                 # written before step rows: epoch rows, no kind, no step
    old.mkdir()
    (old / "history.json").write_text(json.dumps([{k: v for k, v in r.items() if k not in ("kind", "step", "seconds")}
                                                  for r in epoch_rows(rows)]))
    for run_dir in (interrupted, old):
        assert main(["plot", str(run_dir)]) == 0
        assert png_size(run_dir / "history.png")[0] > 0


def test_without_matplotlib_plot_says_how_to_install_it_and_train_warns(tmp_path, monkeypatch, capsys):
    for name in [n for n in sys.modules if n.startswith("matplotlib.")] + ["rnnscratch.viz"]:
        monkeypatch.delitem(sys.modules, name, raising=False)          # forget what earlier tests imported
    monkeypatch.setitem(sys.modules, "matplotlib", None)              # as if not installed
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--hidden", "4", "--embed", "4", "--limit", "300", "--quiet",
                 "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ("rnnscratch train: warning: history.png not drawn: matplotlib is not installed; "
                            "pip install 'rnnscratch[plot]'\n")
    assert not (out / "history.png").exists() and "history.png" not in captured.out
    assert main(["plot", str(out)]) == 2
    assert capsys.readouterr().err == ("rnnscratch plot: error: drawing needs matplotlib, which is not installed; "
                                       "pip install 'rnnscratch[plot]'\n")
    assert not (out / "history.png").exists()


def test_log_every_prints_a_plain_line_every_n_steps_when_stderr_is_not_a_terminal(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--epochs", "2", "--hidden", "4", "--embed", "4", "--limit", "300", "--log-every", "3",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()               # captured: not a terminal, so plain lines
    steps = json.loads((out / "metrics.json").read_text())["steps"]
    logged = [int(line.split("  step ")[1].split()[0]) for line in err if "  step " in line]
    assert logged == list(range(3, steps + 1, 3)) and len(logged) >= 3
    rows = json.loads((out / "history.json").read_text())
    assert [row["step"] for row in step_rows(rows)] == logged
    assert all(line.startswith("epoch ") and "/" in line.split("  ")[1] and "left" in line for line in err
               if "  step " in line)                           # batch k/total, elapsed and time left


def test_a_language_models_history_has_step_rows(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat. the dog sat on the log.\n" * 40)
    assert main(["train", "--task", "lm", "--data", str(corpus), "--hidden", "8", "--embed", "4", "--layers", "1",
                 "--max-len", "10", "--batch-size", "4", "--steps", "7", "--log-every", "2", "--quiet",
                 "--out", str(tmp_path / "lm")]) == 0
    rows = json.loads((tmp_path / "lm" / "history.json").read_text())
    assert [(row["kind"], row["step"]) for row in rows] == [("step", 2), ("step", 4), ("step", 6), ("epoch", 7)]
    assert all("train_perplexity" in row and "lr" in row and "seconds" in row for row in rows)
    assert "val_perplexity" in rows[-1]


def test_help_explains_every_option():
    done = run("train", "--help")
    for option in ("--task", "--data", "--test-data", "--test-split", "--bptt", "--k1", "--k2", "--clip",
                   "--optimizer", "--lr", "--epochs", "--batch-size", "--max-len", "--vocab-size", "--min-freq",
                   "--seed", "--backend", "--dtype", "--out", "--resume", "--bidirectional", "--dropout",
                   "--log-every"):
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


def test_what_a_review_found_in_runs_without_a_test_part_and_in_resumes(tmp_path, capsys):
    """A run with validation but no test part prints its validation result (it crashed on a missing
    perplexity); evaluating its absent test part is refused (it printed 0.00% of 0 examples); --resume DIR
    takes the later of interrupted.npz and last.npz; --resume DIR --steps N trains up to N steps; --config of
    a settings.json derives the test part again beside --test-data."""
    from rnnscratch.app.training import resume_checkpoint
    rows = ["text,label"] + [f"{w} day {k},{'pos' if w == 'good' else 'neg'}" for k in range(15)
                             for w in ("good", "bad")]
    (tmp_path / "d.csv").write_text("\n".join(rows))
    run_dir = tmp_path / "r"
    tiny = ["--hidden", "4", "--embed", "4", "--quiet"]
    assert main(["train", "--data", str(tmp_path / "d.csv"), "--test-split", "0", "--val-split", "0.2",
                 "--epochs", "1", "--out", str(run_dir), *tiny]) == 0
    assert "validation accuracy" in capsys.readouterr().out
    assert main(["evaluate", str(run_dir)]) == 2
    assert "kept no test part" in capsys.readouterr().err
    (run_dir / "interrupted.npz").write_bytes((run_dir / "last.npz").read_bytes())     # an older, stale one
    assert main(["train", "--resume", str(run_dir), "--epochs", "2", "--quiet"]) == 0
    assert resume_checkpoint(str(run_dir)) == str(run_dir / "last.npz")
    steps = json.loads((run_dir / "metrics.json").read_text())["steps"]
    assert main(["train", "--resume", str(run_dir), "--steps", str(steps + 3), "--quiet"]) == 0
    assert json.loads((run_dir / "metrics.json").read_text())["steps"] == steps + 3
    assert main(["train", "--config", str(run_dir / "settings.json"), "--test-data", str(tmp_path / "d.csv"),
                 "--test-split", "0", "--out", str(tmp_path / "c"), *tiny]) == 0
    assert main(["train", "--config", str(run_dir / "settings.json"), "--test-data", str(tmp_path / "d.csv"),
                 "--out", str(tmp_path / "c2"), *tiny]) == 0


def test_resuming_from_python_with_the_runs_own_config_is_not_a_conflict(tmp_path):
    from rnnscratch.app import TrainConfig, train
    rows = ["text,label"] + [f"{w} {k},{'pos' if w == 'good' else 'neg'}" for k in range(10) for w in ("good", "bad")]
    (tmp_path / "d.csv").write_text("\n".join(rows))
    options = dict(data=str(tmp_path / "d.csv"), hidden=4, embed=4, quiet=True, out=str(tmp_path / "r"))
    train(TrainConfig(**options, epochs=1))            # val_split, pooling, test_split derived: recorded as used
    metrics = train(TrainConfig(**options, epochs=2, resume=str(tmp_path / "r" / "last.npz")))
    assert metrics["epochs"] == 2
