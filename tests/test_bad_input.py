"""Every bad input gets one clear answer: one row per case, as a careful user meets it (issue 15).

A row is: the command line (``{w}`` is a folder of prepared files, made once: see ``workspace``; ``{t}`` a
fresh folder per case, also the working directory), extra environment variables, the exit status, and
the words that the command's stderr must contain. For a refusal (status 1 or 2) that is one line,
``rnnscratch COMMAND: error: ...``; for a warning (status 0) a ``rnnscratch COMMAND: warning: ...`` line.
No case may print a traceback. The faults that need more than one command (a run killed while writing,
two runs at once, ...) are in ``tests/test_faults.py``.

Prepared files in ``{w}``: ``cls/`` a finished classifier run (``cls/best.npz``, ``cls/last.npz``),
``lm/last.npz`` a language model, ``nan.npz``/``nan-lm.npz`` those with a NaN weight, ``garbage.npz`` (not a
zip), ``array.npz`` (a plain ``numpy.save`` file), ``badmeta.npz`` (metadata that is not JSON), the CSV
files below, ``bad.txt.bz2`` (not bzip2), ``names/`` a one-file-per-class folder, ``corpus.txt``, and
``cache/`` a data cache whose tinyshakespeare fails its checksum.
"""
import os
import shlex
from typing import NamedTuple

import numpy as np
import pytest

from rnnscratch import backend
from rnnscratch.app import TrainConfig, train
from rnnscratch.cli import main

TINY = "--epochs 1 --hidden 4 --embed 4 --quiet"


class Case(NamedTuple):
    id: str
    argv: str
    status: int
    words: tuple
    env: dict = {}


CASES = [
    # -- data lost -----------------------------------------------------------------------------------
    Case("csv-unterminated-quote", "train --data {w}/unterminated.csv --out {t}/o", 2,
         ("unterminated.csv:7:", "quote", "never closed")),
    Case("offline-corrupt-cache", "train --task lm --data tinyshakespeare --out {t}/o", 2,
         ("input.txt", "does not match", "left untouched", "RNNSCRATCH_OFFLINE=1"),
         {"RNNSCRATCH_OFFLINE": "1", "RNNSCRATCH_DATA_DIR": "{w}/cache"}),
    Case("predict-nan-checkpoint", "predict {w}/nan.npz good", 2, ("nan.npz", "parameter", "NaN or inf")),
    Case("evaluate-nan-checkpoint", "evaluate {w}/nan.npz", 2, ("nan.npz", "NaN or inf")),
    Case("sample-nan-checkpoint", "sample {w}/nan-lm.npz --length 3", 2, ("nan-lm.npz", "NaN or inf")),
    Case("existing-results", "train --out {w}/cls " + TINY, 2, ("already holds the results", "--overwrite")),
    # -- silent wrong results ------------------------------------------------------------------------
    Case("clip-negative", "train --clip -1 --out {t}/o", 2, ("--clip -1", ">= 0")),
    Case("clip-nan", "train --clip nan --out {t}/o", 2, ("--clip nan", "finite")),
    Case("limit-1", "train --limit 1 --val-split 0.5 --out {t}/o", 2, ("no training example is left", "--limit 1")),
    Case("limit-1-one-class", "train --limit 1 --out {t}/o", 2, ("every training example has the class", "(1 of them)")),
    Case("single-class", "train --data {w}/one_class.csv --out {t}/o", 2,
         ("every training example has the class 'pos'", "label column")),
    Case("all-texts-empty", "train --data {w}/empty_texts.csv --out {t}/o", 2, ("no usable rows", "empty text")),
    Case("header-read-as-data", "train --data {w}/foo_header.csv --out {t}/o " + TINY, 0,
         ("warning", "single example ('baz')", "--label-column")),
    Case("label-column-guessed-wrong", "train --data {w}/label_name.csv --out {t}/o " + TINY, 0,
         ("warning", "30 classes for 30 examples", "label: column 'id' (guessed)")),
    Case("label-first-without-header", "train --data {w}/label_first.csv --out {t}/o " + TINY, 0,
         ("warning", "classes for 30 examples", "label: column 1 (guessed)")),
    Case("columns-named", "train --data {w}/label_first.csv --text-column 1 --label-column 0 --out {t}/o " + TINY,
         0, ()),
    Case("column-not-in-header", "train --data {w}/label_name.csv --text-column body --out {t}/o", 2,
         ("text_column 'body' is not among the header's columns",)),
    Case("columns-of-a-folder", "train --data {w}/names --label-column 0 --out {t}/o", 2, ("for CSV/TSV files",)),
    Case("predict-empty-text", "predict {w}/cls/best.npz ''", 0, ("warning", "text 1 is empty")),
    Case("predict-unknown-words", "predict {w}/cls/best.npz zzz", 0, ("warning", "no token the model has seen")),
    Case("k2-without-k1", "train --k2 5 --out {t}/o", 2, ("--k2", "needs --k1")),
    # -- tracebacks before -------------------------------------------------------------------------
    Case("lr-nan", "train --lr nan --out {t}/o", 2, ("--lr nan", "finite number > 0")),
    Case("lr-inf", "train --lr inf --out {t}/o", 2, ("--lr inf", "finite number > 0")),
    Case("lr-negative", "train --lr -0.1 --out {t}/o", 2, ("--lr -0.1", "finite number > 0")),
    Case("weight-decay-nan", "train --weight-decay nan --out {t}/o", 2, ("--weight-decay nan", ">= 0")),
    Case("diverging-run", "train --data {w}/names --tokenizer char --model rnn_relu --optimizer sgd --lr 1e30 "
         "--clip 0 --epochs 2 --hidden 4 --embed 4 --quiet --out {t}/o", 1,
         ("training stopped", "non-finite", "at epoch 2, step 2")),
    Case("binary-csv", "train --data {w}/binary.csv --out {t}/o", 2, ("binary.csv:1:", "not a text file")),
    Case("backend-jax", "train --out {t}/o", 2, ("RNNSCRATCH_BACKEND=jax", "numpy, cupy"),
         {"RNNSCRATCH_BACKEND": "jax"}),
    Case("backend-cupy-missing", "train --out {t}/o", 2, ("RNNSCRATCH_BACKEND=cupy", "CuPy"),
         {"RNNSCRATCH_BACKEND": "cupy"}),
    Case("dtype-float16", "predict {w}/cls/best.npz good", 2, ("RNNSCRATCH_DTYPE=float16", "float32, float64"),
         {"RNNSCRATCH_DTYPE": "float16"}),
    Case("not-bzip2", "train --data {w}/bad.txt.bz2 --out {t}/o", 2, ("bad.txt.bz2", "not a readable bzip2 file")),
    Case("out-is-a-file", "train --out {w}/corpus.txt/o", 2, ("--out", "is a file, not a folder")),
    # -- unclear messages before -------------------------------------------------------------------
    Case("embed-0-classifier", "train --embed 0 --out {t}/o", 2, ("--embed 0", "classifier", "--task lm")),
    Case("embed-negative", "train --embed -5 --out {t}/o", 2, ("--embed -5", ">= 0")),
    Case("hidden-0", "train --hidden 0 --out {t}/o", 2, ("--hidden 0", "positive integer")),
    Case("test-split-negative", "train --test-split -0.1 --out {t}/o", 2, ("--test-split -0.1", "[0, 1)")),
    Case("test-split-1.5", "train --test-split 1.5 --out {t}/o", 2, ("--test-split 1.5", "[0, 1)")),
    Case("val-split-1", "train --val-split 1 --out {t}/o", 2, ("--val-split 1", "[0, 1)")),
    Case("dropout-1", "train --dropout 1 --out {t}/o", 2, ("--dropout 1", "[0, 1)")),
    Case("vocab-size-2", "train --vocab-size 2 --out {t}/o", 2, ("--vocab-size 2", ">= 3")),
    Case("seed-negative", "train --seed -1 --out {t}/o", 2, ("--seed -1", ">= 0")),
    Case("garbage-npz", "predict {w}/garbage.npz x", 2, ("garbage.npz", "not a checkpoint", "not an .npz")),
    Case("plain-npy-as-npz", "evaluate {w}/array.npz", 2, ("array.npz", "not an .npz")),
    Case("metadata-not-json", "predict {w}/badmeta.npz x", 2, ("badmeta.npz", "not valid JSON")),
    Case("resume-other-batch-size", "train --resume {w}/cls/last.npz --batch-size 8 " + TINY, 2,
         ("--resume", "--batch-size 8 (the run's: 32)")),
    Case("resume-lm-other-batch-size", "train --task lm --data {w}/corpus.txt --resume {w}/lm/last.npz --hidden 6 "
         "--embed 4 --layers 1 --max-len 10 --batch-size 2 --steps 3 --quiet", 2,
         ("--resume", "--batch-size 2 (the run's: 4)")),
    Case("resume-and-overwrite", "train --resume {w}/cls/last.npz --overwrite", 2, ("--overwrite", "would delete")),
    Case("resume-empty-folder", "train --resume {w}/empty-run", 2, ("--resume", "empty-run", "no interrupted.npz or "
                                                                    "last.npz")),
    Case("resume-and-config", "train --resume {w}/cls --config {w}/cls/settings.json", 2, ("--config and --resume",)),
    Case("config-missing", "train --config {t}/nope.json", 2, ("--config", "nope.json", "no such file")),
    Case("config-unknown-option", "train --config {w}/settings-unknown.json", 2, ("--config", "unknown option 'hiden'")),
    Case("config-not-json", "train --config {w}/settings-broken.json", 2, ("--config", "not a readable settings file")),
    Case("test-split-with-test-data", "train --data {w}/names --test-data {w}/names --test-split 0.2", 2,
         ("--test-split 0.2 and --test-data", "drop --test-split")),
    Case("predict-file-missing", "predict {w}/cls --file {t}/nope.txt", 2, ("--file", "nope.txt", "no such file")),
    Case("translate-file-missing", "translate {w}/cls --file {t}/nope.txt", 2, ("--file", "nope.txt", "no such file")),
    Case("predict-mostly-unknown", "predict {w}/cls 'zzz qqq good'", 0, ("warning", "2 of its 3 words are unknown",
                                                                         "'zzz'")),
    Case("predict-folder-without-checkpoint", "predict {w}/empty-run good", 2, ("empty-run", "no best.npz or last.npz")),
    Case("legacy-task-name", "train --task charlm --data {w}/corpus.txt --hidden 6 --embed 4 --layers 1 --max-len 10 "
         "--batch-size 4 --steps 2 --out {t}/o --quiet", 0, ("warning", "--task charlm is now called --task lm")),
    Case("seq2seq-embeddings", "train --task seq2seq --data addition --embeddings {t}/v.txt", 2,
         ("--embeddings", "for --task classify and lm")),
    Case("seq2seq-test-format", "train --task seq2seq --data addition --test-data {w}/corpus.txt --test-format folder",
         2, ("--test-format folder", "reads pairs")),
    Case("one-column-csv", "train --format csv --data {w}/corpus.txt --out {t}/o", 2,
         ("corpus.txt", "one column", "a text column and a label column")),
    Case("out-empty", "train --out ''", 2, ("--out ''", "expected a folder")),
    Case("sample-top-k-beyond-vocabulary", "sample {w}/lm/last.npz --top-k 1000", 2, ("--top-k 1000", "tokens")),
    Case("sample-temperature-nan", "sample {w}/lm/last.npz --temperature nan", 2, ("--temperature", "finite")),
    Case("sample-empty-prefix", "sample {w}/lm/last.npz --prefix ''", 2, ("--prefix ''", "no char token")),
]

# progress and plots (issue 16): --log-every, and `rnnscratch plot RUN_DIR` on folders that hold no drawable run
CASES += [
    Case("log-every-0", "train --log-every 0 --out {t}/o", 2, ("--log-every 0", "positive integer")),
    Case("plot-run-dir-missing", "plot {t}/missing", 2, ("RUN_DIR", "missing", "no such folder")),
    Case("plot-run-dir-is-a-file", "plot {w}/corpus.txt", 2, ("RUN_DIR", "corpus.txt", "is a file")),
    Case("plot-no-history", "plot {w}/names", 2, ("RUN_DIR", "names", "no history.json")),
    Case("plot-history-not-json", "plot {w}/badhistory", 2, ("history.json", "not valid JSON")),
    Case("plot-history-empty", "plot {w}/emptyhistory", 2, ("RUN_DIR", "holds no rows")),
    Case("plot-out-not-png", "plot {w}/cls --out {t}/curves.jpg", 2, ("--out", "curves.jpg", ".png")),
    Case("plot-out-no-folder", "plot {w}/cls --out {t}/no/such/curves.png", 2, ("--out", "no folder")),
    Case("plot-out-exists", "plot {w}/cls --out {w}/exists.png", 2, ("--out", "exists already", "--overwrite")),
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    w = tmp_path_factory.mktemp("bad-input")
    train(TrainConfig(epochs=1, hidden=8, embed=4, limit=200, val_split=0.1, out=str(w / "cls"), quiet=True))
    (w / "settings-unknown.json").write_text('{"settings": {"hiden": 8}}')
    (w / "settings-broken.json").write_text('{"settings": {"hidden": 8')
    (w / "empty-run").mkdir()
    (w / "corpus.txt").write_text("the cat sat on the mat. the dog sat on the log.\n" * 20)
    train(TrainConfig(task="lm", data=str(w / "corpus.txt"), hidden=6, embed=4, layers=1, max_len=10, batch_size=4,
                      steps=2, out=str(w / "lm"), quiet=True))
    for name, good in (("nan.npz", w / "cls" / "best.npz"), ("nan-lm.npz", w / "lm" / "last.npz")):
        with np.load(good) as data:
            arrays = dict(data)
        key = next(k for k in arrays if k.startswith("model/"))
        arrays[key] = np.full_like(arrays[key], np.nan)
        np.savez(w / name, **arrays)
    (w / "garbage.npz").write_bytes(b"these are not the bytes of a zip archive\n" * 10)
    np.save(w / "array.npy", np.arange(3.0))
    os.replace(w / "array.npy", w / "array.npz")
    np.savez(w / "badmeta.npz", meta=np.array("{'format': 1"))
    rows = [f"good day {k},pos" if k % 2 else f"bad day {k},neg" for k in range(30)]
    (w / "unterminated.csv").write_text("\n".join(["text,label", *rows[:5], '"never closed,neg', *rows[5:]]))
    (w / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (w / "bad.txt.bz2").write_bytes(b"not compressed at all")
    (w / "one_class.csv").write_text("\n".join(["text,label"] + [f"good day {k},pos" for k in range(20)]))
    pairs = [r.split(",") for r in rows]
    (w / "empty_texts.csv").write_text("\n".join(["text,label"] + [f'"",{label}' for _, label in pairs]))
    (w / "foo_header.csv").write_text("\n".join(["foo,bar,baz"] + [f"{text},x,{label}" for text, label in pairs]))
    (w / "label_name.csv").write_text("\n".join(["text,label_name,id"] + [f"{r},{k}" for k, r in enumerate(rows)]))
    (w / "label_first.csv").write_text("\n".join(f"{label},{text}" for text, label in pairs))
    (w / "names").mkdir()
    (w / "names" / "English.txt").write_text("Smith\nJones\nBrown\nTaylor\n" * 3)
    (w / "names" / "Italian.txt").write_text("Rossi\nRusso\nFerrari\nRomano\n" * 3)
    (w / "cache" / "tinyshakespeare").mkdir(parents=True)
    (w / "cache" / "tinyshakespeare" / "input.txt").write_text("my own corpus, not tinyshakespeare\n")
    for name, text in (("badhistory", "[{\"kind\": \"step\", "), ("emptyhistory", "[]")):
        (w / name).mkdir()
        (w / name / "history.json").write_text(text)
    (w / "exists.png").write_bytes(b"a picture someone keeps")
    return w


def run_case(case, w, t, monkeypatch, capsys):
    """Run one row in this process, in the folder ``t``; return ``(status, stderr)``."""
    fill = lambda text: text.replace("{w}", str(w)).replace("{t}", str(t))  # noqa: E731
    monkeypatch.chdir(t)
    for name, value in case.env.items():
        monkeypatch.setenv(name, fill(value))
    if {"RNNSCRATCH_BACKEND", "RNNSCRATCH_DTYPE"} & set(case.env):      # as if read at import
        for name in ("env_errors", "name", "xp", "dtype"):
            monkeypatch.setattr(backend._State, name, {} if name == "env_errors" else getattr(backend._State, name))
        backend._configure_from_environment()
    capsys.readouterr()
    try:
        with np.errstate(all="ignore"):
            status = main(shlex.split(fill(case.argv)))
    except SystemExit as exc:                      # argparse's own refusals: usage, then one error line
        status = exc.code
    return status, capsys.readouterr().err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_one_clear_answer(case, workspace, tmp_path, monkeypatch, capsys):
    if case.id == "backend-cupy-missing" and backend.cupy_available():
        pytest.skip("CuPy works here")
    status, err = run_case(case, workspace, tmp_path, monkeypatch, capsys)
    assert "Traceback" not in err
    assert status == case.status, err
    if status:
        errors = [line for line in err.splitlines() if ": error: " in line]
        assert len(errors) == 1 and err.rstrip().endswith(errors[0]), err
        assert errors[0].startswith(f"rnnscratch {case.argv.split()[0]}: error: ")
        lines = errors[0]
    else:
        lines = err
    for word in case.words:
        assert word in lines, f"{word!r} not in {lines!r}"
    if status == 2:         # a refused run writes nothing
        assert not [p for p in tmp_path.rglob("*.npz")]


def test_debug_adds_the_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["--debug", "predict", "missing.npz", "x"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith("error: checkpoint not found: missing.npz")


def test_blank_standard_input_is_named_as_such(workspace, monkeypatch, capsys):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("\n  \n"))
    assert main(["predict", str(workspace / "cls"), "--file", "-"]) == 2
    assert capsys.readouterr().err.strip() == "rnnscratch predict: error: standard input: no text in it (only blank lines)"
