"""Dataset loaders on small fixtures in the real formats, bad data, and the real IMDB archive."""
import bz2
import io
import os
import tarfile
import time

import pytest

from rnnscratch.data import datasets
from rnnscratch.data import BucketIterator, Vocab, WordTokenizer


def make_imdb_tar(path, per_class=3, splits=("train", "test"), bad_bytes=False):
    with tarfile.open(path, "w:gz") as tar:
        for split in splits:
            for label in ("neg", "pos"):
                for k in range(per_class):
                    rating = 2 if label == "neg" else 9
                    text = f"{label} review {k} of {split}<br />fine".encode()
                    if bad_bytes and k == 0:
                        text += b" \xff\xfe broken"
                    info = tarfile.TarInfo(f"aclImdb/{split}/{label}/{k}_{rating}.txt")
                    info.size = len(text)
                    tar.addfile(info, io.BytesIO(text))
            info = tarfile.TarInfo(f"aclImdb/{split}/urls_pos.txt")     # not a review: ignored
            info.size = 3
            tar.addfile(info, io.BytesIO(b"url"))
    return path


def test_imdb_from_a_tarball(tmp_path):
    path = make_imdb_tar(tmp_path / "a.tar.gz")
    train = datasets.imdb("train", path=path)
    assert len(train) == 6 and train.labels == [0, 0, 0, 1, 1, 1] and train.label_names == ["neg", "pos"]
    assert train.ratings == [2, 2, 2, 9, 9, 9] and train.texts[0].startswith("neg review 0 of train")


def test_imdb_from_an_extracted_folder(tmp_path):
    with tarfile.open(make_imdb_tar(tmp_path / "a.tar.gz")) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    for path in (tmp_path / "x", tmp_path / "x" / "aclImdb"):
        test = datasets.imdb("test", path=path)
        assert len(test) == 6 and sum(test.labels) == 3


def test_imdb_missing_split_and_bad_archive(tmp_path):
    path = make_imdb_tar(tmp_path / "a.tar.gz", splits=("train",))
    with pytest.raises(datasets.DataError, match="no reviews for split 'test'.*aclImdb/test/pos"):
        datasets.imdb("test", path=path)
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tarball")
    with pytest.raises(datasets.DataError, match="not a readable tar archive"):
        datasets.imdb("train", path=tmp_path / "junk.tar.gz")


def test_imdb_non_utf8_is_replaced_and_counted(tmp_path):
    path = make_imdb_tar(tmp_path / "a.tar.gz", bad_bytes=True)
    with pytest.warns(UserWarning, match="2 row\\(s\\) had bytes that are not UTF-8"):
        train = datasets.imdb("train", path=path)
    assert train.decode_errors == 2 and "\ufffd" in train.texts[0] and len(train) == 6


def test_fasttext_bz2_with_a_malformed_line(tmp_path):
    path = tmp_path / "train.ft.txt.bz2"
    lines = ["__label__2 Great product, works", "__label__1 Broke after a day", "no label here",
             "__label__2 Love it", "__label__10 ten stars"]
    path.write_bytes(bz2.compress("\n".join(lines).encode()))
    with pytest.warns(UserWarning, match="skipped 1 bad row"):
        ds = datasets.fasttext_labels(path)
    assert ds.label_names == ["1", "2", "10"] and ds.labels == [1, 0, 1, 2]
    assert ds.problems == [f"{path}:3: expected '__label__<name> <text>', got 'no label here'"]
    with pytest.raises(datasets.DataError, match=":3: expected '__label__<name> <text>'"):
        datasets.fasttext_labels(path, strict=True)


def test_fasttext_label_outside_the_known_set(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("__label__1 ok\n__label__7 odd\n__label__2 fine\n")
    with pytest.warns(UserWarning):
        ds = datasets.fasttext_labels(path, labels=["1", "2"])
    assert ds.labels == [0, 1] and ds.problems == [f"{path}:2: label '7' is not one of ['1', '2']"]


def test_folder_per_class(tmp_path):
    (tmp_path / "English.txt").write_text("Smith\nJones\n\n")
    (tmp_path / "Italian.txt").write_text("Rossi\n")
    ds = datasets.folder_per_class(tmp_path)
    assert ds.label_names == ["English", "Italian"] and ds.texts == ["Smith", "Jones", "Rossi"]
    (tmp_path / "Greek.txt").write_text("")
    with pytest.raises(datasets.DataError, match="Greek.txt: the file is empty"):
        datasets.folder_per_class(tmp_path)
    with pytest.raises(datasets.DataError, match="no such folder"):
        datasets.folder_per_class(tmp_path / "nope")


def test_text_label_file_csv_with_header_and_tsv_without(tmp_path):
    csv_path = tmp_path / "imdb.csv"
    csv_path.write_text('review,sentiment\n"Great, really great",positive\nAwful,negative\nshort\n')
    with pytest.warns(UserWarning, match="skipped 1 bad row"):
        ds = datasets.text_label_file(csv_path)
    assert ds.texts == ["Great, really great", "Awful"] and ds.label_names == ["negative", "positive"]
    assert ds.labels == [1, 0] and ds.problems == [f"{csv_path}:4: expected at least 2 columns, got 1"]
    tsv = tmp_path / "d.tsv"
    tsv.write_text("pos\tnice one\nneg\tbad one\n")
    ds = datasets.text_label_file(tsv, text_column=1, label_column=0)
    assert ds.texts == ["nice one", "bad one"] and ds.labels == [1, 0]
    with pytest.raises(datasets.DataError, match="text_column 'body' is not among the header's columns"):
        datasets.text_label_file(csv_path, text_column="body")


def test_csv_quotes_binary_bytes_empty_texts_and_the_columns_read(tmp_path):
    rows = ["text,label"] + [f"row {k},pos" for k in range(5)]
    (tmp_path / "open.csv").write_text("\n".join(rows + ['"never closed,neg'] + rows[1:]) + "\n")
    with pytest.raises(datasets.DataError, match=r"open.csv:7: a quote opened in this row is never closed \(the 5 lines"):
        datasets.text_label_file(tmp_path / "open.csv")
    (tmp_path / "misclosed.csv").write_text("\n".join(rows + ['"oops,neg', 'x,pos', '"quoted",neg']) + "\n")
    with pytest.raises(datasets.DataError, match=r"misclosed.csv:7: the quoting of this row is broken .*lines 7-9"):
        datasets.text_label_file(tmp_path / "misclosed.csv")
    (tmp_path / "bin.csv").write_bytes(b"text,label\nfine,pos\n\x7fELF\x00\x01\r\x02,neg\n")
    with pytest.raises(datasets.DataError, match="bin.csv:3: not a text file"):
        datasets.text_label_file(tmp_path / "bin.csv")
    (tmp_path / "gaps.csv").write_text('text,label\n"  ",pos\nfine,neg\n')
    with pytest.warns(UserWarning, match="skipped 1 bad row"):
        ds = datasets.text_label_file(tmp_path / "gaps.csv")
    assert ds.problems == [f"{tmp_path / 'gaps.csv'}:2: empty text"]
    assert ds.columns == "text: column 'text' (guessed), label: column 'label' (guessed)"
    with pytest.warns(UserWarning):
        ds = datasets.text_label_file(tmp_path / "gaps.csv", text_column="0", label_column="1", header=True)
    assert ds.columns == "text: column 'text' (chosen), label: column 'label' (chosen)"
    with pytest.raises(datasets.DataError, match=r"label_column 2: expected a column number in \[0, 1\]"):
        datasets.text_label_file(tmp_path / "gaps.csv", label_column=2)
    with pytest.raises(datasets.DataError, match="both be column 0"):
        datasets.text_label_file(tmp_path / "gaps.csv", text_column=0, label_column=0)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "e.csv").write_text("  \n")
    with pytest.raises(datasets.DataError, match="e.csv: the file is empty"):
        datasets.text_label_file(tmp_path / "e.csv")
    with pytest.raises(datasets.DataError, match="no such file"):
        datasets.fasttext_labels(tmp_path / "missing.txt")


def test_text_corpus_split_by_position(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("abcdefghij" * 10)
    parts = [datasets.text_corpus(path, s, val_fraction=0.2, test_fraction=0.1) for s in ("train", "validation", "test")]
    assert [len(p) for p in parts] == [70, 20, 10] and "".join(parts) == "abcdefghij" * 10
    assert datasets.text_corpus(path, "validation") == ("abcdefghij" * 10)[90:]


def test_sentiment_phrases_need_negation():
    train, test = datasets.sentiment_phrases("train"), datasets.sentiment_phrases("test")
    assert len(train) > 1000 and len(test) > 200 and not set(train.texts) & set(test.texts)
    assert dict(zip(test.texts, test.labels))["it is not very bad"] == 1
    assert dict(zip(test.texts, test.labels))["so good"] == 1
    assert dict(zip(train.texts, train.labels))["not bad"] == 1
    # half of every split is negated, so "count the good words" scores only 50% on it
    negated = [y for t, y in zip(test.texts, test.labels) if " not " in f" {t} "]
    assert len(negated) * 2 == len(test)


def test_dataset_split_is_seeded():
    ds = datasets.sentiment_phrases("train")
    a, b = ds.split(0.25, seed=1)
    assert len(b) == 480 and len(a) + len(b) == len(ds) and not set(a.texts) & set(b.texts)
    assert ds.split(0.25, seed=1)[1].texts == b.texts


def test_real_imdb_archive(data_dir):
    path = os.path.join(data_dir, "aclImdb_labeled.tar.gz")
    start = time.perf_counter()
    train, test = datasets.imdb("train", path=path), datasets.imdb("test", path=path)
    seconds = time.perf_counter() - start
    assert len(train) == len(test) == 25000
    assert sum(train.labels) == sum(test.labels) == 12500
    assert all(1 <= r <= 4 for r, y in zip(train.ratings, train.labels) if y == 0)
    tokens = [WordTokenizer()(t) for t in train.texts]
    vocab = Vocab.build(tokens, max_size=10000, min_freq=10)
    ids = [vocab.encode(t) for t in tokens]
    bucketed = BucketIterator(ids, train.labels, 64, seed=0).padding_fraction()
    random = BucketIterator(ids, train.labels, 64, seed=0, bucket=False).padding_fraction()
    print(f"IMDB load {seconds:.1f} s, vocab {len(vocab)}, padding bucketed {bucketed:.3f} vs random {random:.3f}")
    assert len(vocab) == 10000 and bucketed < random / 3


def test_real_tinyshakespeare(data_dir, monkeypatch):
    monkeypatch.setenv("RNNSCRATCH_OFFLINE", "1")            # must come from the cache, verified
    text = datasets.text_corpus("tinyshakespeare", "all")
    assert len(text) == 1115394 and text.startswith("First Citizen:")


def test_the_raw_phrase_rows_are_the_datasets_lists():
    from rnnscratch.data import phrases
    for split in ("train", "test"):
        ds = datasets.sentiment_phrases(split)
        assert phrases.phrase_rows(split) == (ds.texts, ds.labels)
    assert not hasattr(phrases, "sentiment_phrases")            # one public sentiment_phrases: the dataset
