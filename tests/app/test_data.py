"""Data preparation: format detection, relabelling, limiting, encoding, both tasks' batches."""
import bz2

import numpy as np
import pytest

from rnnscratch.app.config import TrainConfig
from rnnscratch.app.data import (detect_format, encode_stream, encode_texts, limit, prepare, read_labelled, relabel,
                                 split_corpus, stream_eval_batches)
from rnnscratch.data import DataError, TextDataset, Vocab, WordTokenizer


@pytest.fixture
def labelled_csv(tmp_path):
    rows = ["text,label"] + [f"good thing {k},pos" for k in range(15)] + [f"bad thing {k},neg" for k in range(15)]
    path = tmp_path / "train.csv"
    path.write_text("\n".join(rows))
    return path


def test_detect_format(tmp_path, labelled_csv):
    (tmp_path / "a.tsv").write_text("text\tlabel\nx\t1\n")
    (tmp_path / "ft.txt").write_text("__label__1 fine\n")
    (tmp_path / "plain.txt").write_text("once upon a time\n")
    with bz2.open(tmp_path / "ft.txt.bz2", "wb") as f:
        f.write(b"__label__2 bad\n")
    (tmp_path / "classes").mkdir()
    (tmp_path / "imdb" / "aclImdb").mkdir(parents=True)
    (tmp_path / "reviews.tar.gz").write_bytes(b"")
    found = {name: detect_format(tmp_path / name) for name in
             ("train.csv", "a.tsv", "ft.txt", "plain.txt", "ft.txt.bz2", "classes", "imdb", "reviews.tar.gz")}
    assert found == {"train.csv": "csv", "a.tsv": "tsv", "ft.txt": "fasttext", "plain.txt": "text",
                     "ft.txt.bz2": "fasttext", "classes": "folder", "imdb": "imdb", "reviews.tar.gz": "imdb"}
    with pytest.raises(DataError, match="no such file or folder"):
        detect_format(tmp_path / "missing.csv")


def test_a_text_file_has_no_labels(tmp_path):
    (tmp_path / "plain.txt").write_text("once upon a time\n")
    with pytest.raises(DataError, match="format 'text' holds no labels"):
        read_labelled(tmp_path / "plain.txt")


def test_relabel_uses_the_training_numbering_and_copies():
    test = TextDataset(["a", "b", "c"], [0, 1, 0], ["pos", "neg"])
    moved = relabel(test, ["neg", "pos"], "test.csv")
    assert moved.labels == [1, 0, 1] and moved.label_names == ["neg", "pos"]
    assert test.labels == [0, 1, 0] and test.label_names == ["pos", "neg"]        # the argument is untouched
    with pytest.raises(DataError, match="test.csv: label 'neg' does not occur in the training data"):
        relabel(test, ["pos", "other"], "test.csv")


def test_limit_is_a_seeded_subset_in_order():
    ds = TextDataset([str(k) for k in range(50)], [k % 2 for k in range(50)], ["a", "b"])
    a, b = limit(ds, 10, seed=1), limit(ds, 10, seed=1)
    assert len(a) == 10 and a.texts == b.texts and a.texts == sorted(a.texts, key=int)
    assert limit(ds, 10, seed=2).texts != a.texts
    assert limit(ds, None, seed=1) is ds and limit(ds, 99, seed=1) is ds


def test_encoding_texts_and_streams():
    vocab = Vocab.build([["good", "bad"]])
    ids = encode_texts(["good movie", "", "bad"], WordTokenizer(), vocab)
    assert ids == [[vocab.stoi["good"], vocab.unk_index], [vocab.unk_index], [vocab.stoi["bad"]]]
    stream = encode_stream("bad good", WordTokenizer(), vocab)
    assert stream.dtype == np.int64 and stream.tolist() == [vocab.stoi["bad"], vocab.stoi["good"]]


def test_split_corpus_holds_out_the_end():
    train, held = split_corpus("abcdefghij", 0.3)
    assert (train, held) == ("abcdefg", "hij")
    assert split_corpus("abcdefghij", 0.0) == ("abcdefghij", "")


def test_stream_eval_batches_fill_what_they_can():
    batches = stream_eval_batches(np.arange(41), batch_size=8, seq_len=10)
    assert batches[0][0].shape == (10, 4)                  # 40 targets fill 4 rows of 10
    assert stream_eval_batches(np.arange(2), batch_size=8, seq_len=10) is None


def test_prepare_classification_with_a_separate_test_file(tmp_path, labelled_csv):
    (tmp_path / "test.csv").write_text("text,label\ngood thing 99,pos\nbad thing 98,neg\nbad,neg\n")
    data = prepare(TrainConfig(data=str(labelled_csv), test_data=str(tmp_path / "test.csv"), batch_size=4,
                               val_split=0.2).resolved())
    assert data.task == "classify" and data.label_names == ["neg", "pos"]
    # with a separate test file no part of the source is held out for testing; validation comes from all of it
    assert data.sizes == (30 - round(30 * 0.2), round(30 * 0.2), 3) and data.val_split == 0.2
    ids, lengths, labels = next(iter(data.train(0)))
    assert ids.shape[1] == lengths.shape[0] == labels.shape[0] <= 4
    assert sum(len(b[2]) for b in data.test) == 3 and sum(len(b[2]) for b in data.val) == data.sizes[1]
    assert "thing" in data.vocab and "99" not in data.vocab          # built on the training part only


def test_prepare_classification_splits_a_source_without_a_test_part(labelled_csv):
    data = prepare(TrainConfig(data=str(labelled_csv), test_split=0.2, val_split=0.0).resolved())
    assert data.sizes == (24, 0, 6) and data.val is None


def test_prepare_language_model(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("abcdefghij" * 30)
    data = prepare(TrainConfig(task="lm", data=str(corpus), batch_size=4, max_len=10, val_split=0.2).resolved())
    assert data.task == "lm" and data.label_names is None and data.test is None
    assert data.sizes == (240, 60, 0) and len(data.vocab) == 10                # characters, no specials
    inputs, targets = next(iter(data.train(0)))
    assert inputs.shape == targets.shape == (10, 4)
    assert np.array_equal(inputs[1:], targets[:-1])
    with pytest.raises(DataError, match="a language model trains on a plain-text corpus"):
        prepare(TrainConfig(task="lm", data="embedded").resolved())


def test_prepare_language_model_refuses_a_labelled_file(labelled_csv):
    with pytest.raises(DataError, match="format 'csv' is not plain text"):
        prepare(TrainConfig(task="lm", data=str(labelled_csv)).resolved())
