"""``rnnscratch train --embeddings FILE [--freeze-embeddings]``: a small vector file written here, a tiny
classifier trained from it, its frozen rows bit-identical to the file's vectors afterwards, the coverage
line, the run's record, resume, and every refusal (one line naming the option, exit status 2)."""
import json
import re

import numpy as np
import pytest

from rnnscratch.app import TrainConfig
from rnnscratch.app.config import ConfigError, RunInfo
from rnnscratch.cli import main
from rnnscratch.data import DataError
from rnnscratch.train import load_checkpoint

POSITIVE = ["good", "great", "fine", "lovely", "nice", "superb"]
NEGATIVE = ["bad", "awful", "dull", "poor", "boring", "weak"]
FILLER = ["the", "movie", "was", "really", "film", "it", "quite", "plot"]
NOT_IN_FILE = {"plot", "quite"}                 # vocabulary words the vector file lacks
DIM = 4


def vectors():
    """``{word: values}``: the sentiment is on axis 0 (what a frozen embedding must carry), the rest noise;
    values with four decimals, as GloVe writes them."""
    rng = np.random.default_rng(0)
    table = {}
    for word in POSITIVE + NEGATIVE + FILLER + ["unused", "words"]:
        if word in NOT_IN_FILE:
            continue
        sign = 1.0 if word in POSITIVE else -1.0 if word in NEGATIVE else 0.0
        table[word] = [round(v, 4) for v in [sign, *(0.3 * rng.standard_normal(DIM - 1))]]
    return table


def sentences(n, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n):
        label = "pos" if k % 2 else "neg"
        word = rng.choice(POSITIVE if label == "pos" else NEGATIVE)
        rows.append((" ".join([*rng.choice(FILLER, size=2), "was", word, *rng.choice(FILLER, size=1)]), label))
    return rows


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("emb")
    (folder / "vectors.txt").write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in vectors().items()))
    for name, n, seed in (("train.csv", 60, 1), ("test.csv", 20, 2)):
        (folder / name).write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in sentences(n, seed)))
    return folder


def train_argv(files, out, *extra):
    return ["train", "--data", str(files / "train.csv"), "--test-data", str(files / "test.csv"), "--model", "gru",
            "--hidden", "8", "--pooling", "mean", "--lr", "0.05", "--epochs", "8", "--val-split", "0.2",
            "--out", str(out), *extra]


@pytest.fixture(scope="module")
def frozen_run(files, tmp_path_factory):
    out = tmp_path_factory.mktemp("frozen")
    status = main(train_argv(files, out, "--embeddings", str(files / "vectors.txt"), "--freeze-embeddings"))
    assert status == 0
    return out


def file_table(files, itos, dtype):
    """The rows the vector file gives the vocabulary ``itos`` (None for a word it lacks), as the model's dtype."""
    table = vectors()
    return [None if w not in table else np.array(table[w], dtype=dtype) for w in itos]


def test_frozen_rows_are_the_files_vectors_bit_for_bit_after_training(files, frozen_run):
    for name in ("best.npz", "last.npz"):
        ckpt = load_checkpoint(frozen_run / name)
        weight = ckpt.model.embedding.weight
        assert weight.data.shape[1] == DIM and not weight.requires_grad     # --embed came from the file
        itos = ckpt.vocab["itos"]
        rows = file_table(files, itos, weight.data.dtype)
        found = [w for w, row in zip(itos, rows) if row is not None]
        assert sorted(found) == sorted(set(vectors()) & set(itos)) and len(found) > 10
        for k, row in enumerate(rows):
            if row is not None:
                np.testing.assert_array_equal(weight.data[k], row, err_msg=itos[k])
        np.testing.assert_array_equal(weight.data[itos.index("<pad>")], 0)
    # the rows the file lacks were frozen too: the same in the first and the last checkpoint
    first, last = (load_checkpoint(frozen_run / n).model.embedding.weight.data for n in ("best.npz", "last.npz"))
    np.testing.assert_array_equal(first, last)
    history = json.loads((frozen_run / "history.json").read_text())
    assert history[-1]["train_loss"] < history[0]["train_loss"]                # the rest of the model learned
    assert json.loads((frozen_run / "metrics.json").read_text())["test_accuracy"] >= 0.9   # from the vectors' axis 0


def test_the_run_records_its_embedding_options_and_reports_coverage(files, tmp_path, capsys):
    assert main(train_argv(files, tmp_path / "o", "--embeddings", str(files / "vectors.txt"), "--epochs", "1")) == 0
    vocabulary = set(load_checkpoint(tmp_path / "o" / "last.npz").vocab["itos"]) - {"<pad>", "<unk>"}
    found = len(vocabulary & set(vectors()))
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("embeddings: "))
    assert line == (f"embeddings: {found} of {len(vocabulary)} vocabulary words found in {files / 'vectors.txt'} "
                    f"({100 * found / len(vocabulary):.1f}%)")
    ckpt = load_checkpoint(tmp_path / "o" / "last.npz")
    settings = RunInfo.from_dict(ckpt.meta["extra"]).settings
    assert settings["embeddings"] == str(files / "vectors.txt") and settings["freeze_embeddings"] is False
    assert settings["embed"] == DIM and ckpt.model.embedding.weight.requires_grad and ckpt.meta["frozen"] == []


def test_resume_keeps_the_embedding_frozen_and_refuses_other_options(files, frozen_run, tmp_path, capsys):
    out = tmp_path / "r"
    out.mkdir()
    for name in ("last.npz", "best.npz", "history.json"):
        (out / name).write_bytes((frozen_run / name).read_bytes())
    frozen = load_checkpoint(out / "last.npz").model.embedding.weight.data.copy()
    argv = train_argv(files, out, "--embeddings", str(files / "vectors.txt"), "--freeze-embeddings", "--epochs", "10",
                      "--resume", str(out / "last.npz"))
    assert main(argv) == 0
    ckpt = load_checkpoint(out / "last.npz")
    assert ckpt.meta["epoch"] == 10
    np.testing.assert_array_equal(ckpt.model.embedding.weight.data, frozen)
    capsys.readouterr()
    # --resume alone takes the recorded options: still frozen without repeating --freeze-embeddings
    assert main(["train", "--resume", str(out), "--epochs", "11", "--quiet"]) == 0
    ckpt = load_checkpoint(out / "last.npz")
    assert ckpt.meta["epoch"] == 11
    np.testing.assert_array_equal(ckpt.model.embedding.weight.data, frozen)
    assert main(["train", "--resume", str(out), "--epochs", "12", "--batch-size", "3", "--quiet"]) == 2
    assert "--batch-size 3 (the run's:" in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (["--freeze-embeddings"], "--freeze-embeddings: needs --embeddings FILE"),
    (["--embeddings", "{d}/missing.txt"], "--embeddings {d}/missing.txt: no such file"),
    (["--embeddings", "{v}/vectors.txt", "--embed", "32"],
     "--embeddings {v}/vectors.txt has 4-dimensional vectors, --embed is 32; give --embed 4 or leave it unset"),
    (["--embeddings", "{d}/bad.txt"], "--embeddings {d}/bad.txt:2: expected a word and 4 numbers"),
    (["--embeddings", "{d}/empty.txt"], "--embeddings {d}/empty.txt: the file is empty (no word vectors)"),
    (["--embeddings", "{d}/bad.txt.gz"], "--embeddings {d}/bad.txt.gz: not a readable gzip file"),
])
def test_bad_embedding_options_are_one_line_exit_2_and_write_nothing(extra, message, files, tmp_path, capsys):
    (tmp_path / "bad.txt").write_text("good 1 2 3 4\nbad 1 2 3\n")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "bad.txt.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    extra = [a.replace("{v}", str(files)).replace("{d}", str(tmp_path)) for a in extra]
    assert main(train_argv(files, tmp_path / "o", *extra)) == 2
    err = capsys.readouterr().err
    expected = message.replace("{v}", str(files)).replace("{d}", str(tmp_path))
    assert re.fullmatch(r"rnnscratch train: error: .*\n", err) and expected in err, err
    assert not (tmp_path / "o").exists()


def test_the_config_names_the_options_from_python_too(files):
    with pytest.raises(ConfigError, match="--freeze-embeddings: needs --embeddings"):
        TrainConfig(freeze_embeddings=True).resolved()
    with pytest.raises(DataError, match="--embeddings nope.txt: no such file"):
        TrainConfig(embeddings="nope.txt").resolved()
    resolved = TrainConfig(embeddings=str(files / "vectors.txt")).resolved()
    assert resolved.embed == DIM and resolved.resolved() == resolved
    lm = TrainConfig(task="lm", embeddings=str(files / "vectors.txt")).resolved()
    assert lm.embed == DIM                                     # the task's default (64) gives way to the file's


def test_a_file_covering_little_of_the_vocabulary_warns(files, tmp_path, capsys):
    (tmp_path / "few.txt").write_text("good 1 0 0 0\n")
    assert main(train_argv(files, tmp_path / "o", "--embeddings", str(tmp_path / "few.txt"), "--epochs", "1")) == 0
    err = capsys.readouterr().err
    assert "rnnscratch train: warning: --embeddings: only 1 of" in err and "another tokenizer?" in err
