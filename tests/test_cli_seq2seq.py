"""The command line for sequence to sequence, as a user runs it: train, translate, evaluate; bad input
(exit 2, one line naming the flag or the file:line, never a traceback)."""
import json
import subprocess
import sys

import pytest


def run(*argv, stdin=None):
    return subprocess.run([sys.executable, "-m", "rnnscratch", *map(str, argv)], capture_output=True, text=True,
                          input=stdin)


def refused(done, *fragments):
    """Exit status 2 and one error line holding every fragment, no traceback."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    error = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(error) == 1 and all(f in error[0] for f in fragments), done.stderr
    return error[0]


@pytest.fixture(scope="module")
def addition_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("addition")
    done = run("train", "--task", "seq2seq", "--data", "addition", "--limit", 200, "--epochs", 1, "--hidden", 32,
               "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    return out, done


def test_train_reports_exact_match_and_writes_the_run(addition_run):
    out, done = addition_run
    metrics = json.loads((out / "metrics.json").read_text())
    assert f"test exact match {100 * metrics['test_exact_match']:.2f}%" in done.stdout
    assert metrics["task"] == "seq2seq" and metrics["epochs"] == 1
    assert {"test_token_accuracy", "val_exact_match"} <= set(metrics)
    for name in ("best.npz", "last.npz", "history.json"):
        assert (out / name).exists()


def test_translate_one_line_per_input_from_arguments_stdin_and_a_file(addition_run, tmp_path):
    out, _ = addition_run
    done = run("translate", out / "best.npz", "16+75", "1+1", "999+999")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split("\n")) == 4 and done.stdout.endswith("\n")      # three lines, maybe empty
    piped = run("translate", out / "best.npz", "-", stdin="16+75\n1+1\n999+999\n")
    assert piped.returncode == 0 and piped.stdout == done.stdout
    (tmp_path / "questions.txt").write_text("16+75\n1+1\n999+999\n")
    from_file = run("translate", out / "best.npz", "--file", tmp_path / "questions.txt", "--beam", 3)
    assert from_file.returncode == 0 and len(from_file.stdout.split("\n")) == 4
    greedy_as_beam = run("translate", out / "best.npz", "16+75", "1+1", "999+999", "--beam", 1)
    assert greedy_as_beam.stdout == done.stdout


def test_evaluate_reports_exact_match_and_token_accuracy(addition_run):
    out, _ = addition_run
    metrics = json.loads((out / "metrics.json").read_text())
    done = run("evaluate", out / "best.npz")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"exact match {100 * metrics['test_exact_match']:.2f}%  token accuracy "
                                  f"{100 * metrics['test_token_accuracy']:.2f}%")
    assert "(23 pairs)" in done.stdout


def test_unseen_characters_are_read_as_unk_with_a_warning(addition_run):
    out, _ = addition_run
    done = run("translate", out / "best.npz", "12+x4", "7+7")
    assert done.returncode == 0 and len(done.stdout.split("\n")) == 3
    assert "rnnscratch translate: warning: text 1: 'x' never seen in training: read as <unk>" in done.stderr


def test_beam_0_and_other_bad_translate_input_are_refused(addition_run, tmp_path):
    out, _ = addition_run
    refused(run("translate", out / "best.npz", "1+1", "--beam", 0), "--beam", "0")
    refused(run("translate", out / "best.npz"), "no text")
    refused(run("translate", out / "best.npz", "--file", tmp_path / "missing.txt"), "missing.txt")
    refused(run("predict", out / "best.npz", "1+1"), "holds a sequence-to-sequence model; use `rnnscratch translate`")
    refused(run("sample", out / "best.npz"), "use `rnnscratch translate`")


def test_a_pairs_file_with_empty_lines_trains_and_reports_them(tmp_path):
    path = tmp_path / "pairs.tsv"
    rows = [f"{a}+{b}\t{a + b}" for a in range(8) for b in range(8)]
    rows[2], rows[5] = "\t4", "3+3\t"
    path.write_text("\n".join(rows[:10] + [""] + rows[10:]) + "\n")
    done = run("train", "--task", "seq2seq", "--data", path, "--epochs", 1, "--hidden", 8, "--embed", 4,
               "--batch-size", 16, "--out", tmp_path / "run", "--quiet")
    assert done.returncode == 0, done.stderr
    assert f"warning: {path}: skipped 3 bad row(s): {path}:3: empty source (and 2 more)" in done.stderr
    assert "test exact match" in done.stdout


def test_a_target_over_max_len_is_refused_naming_its_line(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("source,target\n" + "".join(f"{k},{k}\n" for k in range(20)) + "long,0123456789abc\n")
    done = run("train", "--task", "seq2seq", "--data", path, "--max-len", 8, "--epochs", 1, "--out", tmp_path / "r",
               "--quiet")
    refused(done, f"{path}:22: the target has 13 char tokens, more than --max-len 8", "raise --max-len")
    assert not (tmp_path / "r" / "last.npz").exists()


@pytest.mark.parametrize("argv, fragments", [
    (["--attention", "dot"], ["--attention: for --task seq2seq only"]),
    (["--no-reverse-source"], ["--no-reverse-source: for --task seq2seq only"]),
    (["--task", "seq2seq", "--bptt", "4"], ["--bptt: truncated BPTT is for --task classify and lm"]),
    (["--task", "seq2seq", "--data", "embedded"], ["--data embedded: a sequence-to-sequence run needs pairs"]),
    (["--task", "classify", "--data", "dates"], ["--data dates: a generated sequence-to-sequence task"]),
])
def test_options_that_do_not_fit_the_task_are_refused(argv, fragments, tmp_path):
    refused(run("train", *argv, "--epochs", 1, "--out", tmp_path / "r", "--quiet"), *fragments)


def test_train_help_shows_the_seq2seq_options_and_defaults():
    done = run("train", "--help")
    assert done.returncode == 0
    for text in ("--attention", "--reverse-source", "--no-reverse-source", "--input-feeding", "--target-tokenizer",
                 "seq2seq --data addition: --hidden 128 --epochs 50"):
        assert text in done.stdout, text


def test_evaluating_a_test_part_the_run_never_kept_is_refused(tmp_path):
    """A pairs run with --test-split 0 has no test pairs: evaluate says so instead of loss 0 on nothing."""
    path = tmp_path / "pairs.tsv"
    path.write_text("\n".join(f"{a}+{b}\t{a + b}" for a in range(5) for b in range(5)) + "\n")
    done = run("train", "--task", "seq2seq", "--data", path, "--test-split", 0, "--val-split", 0, "--epochs", 1,
               "--hidden", 8, "--embed", 4, "--out", tmp_path / "run", "--quiet")
    assert done.returncode == 0, done.stderr
    refused(run("evaluate", tmp_path / "run"), "kept no test part")
