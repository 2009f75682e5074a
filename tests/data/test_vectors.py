"""Pretrained word vectors in GloVe / word2vec text format, plain and gzipped, mapped onto a vocabulary."""
import gzip
import re

import numpy as np
import pytest

from rnnscratch.data import DataError, Vocab, load_word_vectors, vector_file_dimension
from rnnscratch.data.vectors import MISSING_SHOWN

DIM = 3
# the vocabulary, most frequent first: a lowercase match (Paris), a word present in both cases (Apple),
# a word with a space (new york), and words the file lacks (zorp, qux, ...)
VOCAB = Vocab(["<pad>", "<unk>", "the", "cat", "zorp", "Paris", "Apple", "apple", "new york", "qux", "blip", "x1",
               "x2", "x3"])


def file_vectors(seed=0):
    """``{word: values}`` of the fixture file: vocabulary words, one in lowercase only, words outside it."""
    rng = np.random.default_rng(seed)
    words = ["the", "apple", "cat", "paris", "Apple", "dog", "new york", "the", ",", "<unk>"]   # "the" twice
    return [(w, [round(float(v), 4) for v in rng.standard_normal(DIM)]) for w in words]


def write(path, rows, header=None, opener=open, end="\n"):
    lines = ([header] if header else []) + [" ".join([w] + [repr(v) for v in values]) for w, values in rows]
    with opener(path, "wt", encoding="utf-8") as f:
        f.write(end.join(lines) + end)
    return path


def expected_table(rows, init):
    """The table the loader must build, computed from the fixture: exact match (first occurrence) first,
    then the lowercase form, padding row zero, the rest ``init``."""
    first = {}
    for w, values in rows:
        first.setdefault(w, np.array(values, dtype=init.dtype))
    table, found, lowercase = init.copy(), 0, 0
    for r, token in enumerate(VOCAB.itos):
        if r in (VOCAB.pad_index, VOCAB.unk_index):
            continue
        if token in first:
            table[r], found = first[token], found + 1
        elif token.lower() in first:
            table[r], found, lowercase = first[token.lower()], found + 1, lowercase + 1
    table[VOCAB.pad_index] = 0
    return table, found, lowercase


@pytest.fixture
def init():
    return np.random.default_rng(7).standard_normal((len(VOCAB), DIM)).astype(np.float32)


@pytest.mark.parametrize("layout", ["glove", "word2vec", "glove.gz", "word2vec.gz", "crlf-trailing-space", "bom"])
def test_every_layout_gives_the_same_table_and_coverage(layout, init, tmp_path):
    rows = file_vectors()
    name = tmp_path / ("vectors.txt.gz" if layout.endswith(".gz") else "vectors.txt")
    header = f"{len(rows)} {DIM}" if layout.startswith("word2vec") else None
    end = " \r\n" if layout == "crlf-trailing-space" else "\n"
    path = write(name, rows, header, gzip.open if layout.endswith(".gz") else open, end)
    if layout == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    weight, coverage = load_word_vectors(path, VOCAB, init)
    table, found, lowercase = expected_table(rows, init)
    np.testing.assert_array_equal(weight, table)
    assert weight.dtype == init.dtype and not np.shares_memory(weight, init)
    words = len(VOCAB) - 2
    assert (coverage.found, coverage.missing, coverage.words, coverage.lowercase) == \
        (found, words - found, words, lowercase)
    assert coverage.dim == DIM and vector_file_dimension(path) == DIM
    assert str(coverage) == f"{found} of {words} vocabulary words found in {path} ({100 * found / words:.1f}%)"
    missing = [t for t in VOCAB.itos[2:] if t not in dict(rows) and t.lower() not in dict(rows)]
    assert coverage.missing_examples == missing[:MISSING_SHOWN]


def test_exact_case_beats_lowercase_first_occurrence_wins_and_specials_are_not_looked_up(init, tmp_path):
    rows = [("apple", [1.0, 1.0, 1.0]), ("Apple", [2.0, 2.0, 2.0]), ("paris", [3.0, 3.0, 3.0]),
            ("Paris", [4.0, 4.0, 4.0]), ("the", [5.0, 5.0, 5.0]), ("the", [6.0, 6.0, 6.0]),
            ("<unk>", [7.0, 7.0, 7.0]), ("<pad>", [8.0, 8.0, 8.0])]
    weight, coverage = load_word_vectors(write(tmp_path / "v.txt", rows), VOCAB, init)
    row = VOCAB.stoi
    assert weight[row["Apple"]].tolist() == [2.0] * 3 and weight[row["apple"]].tolist() == [1.0] * 3
    assert weight[row["Paris"]].tolist() == [4.0] * 3            # found later in its own case: exact wins
    assert weight[row["the"]].tolist() == [5.0] * 3
    np.testing.assert_array_equal(weight[VOCAB.unk_index], init[VOCAB.unk_index])
    np.testing.assert_array_equal(weight[VOCAB.pad_index], 0)
    assert coverage.lowercase == 0 and coverage.found == 4


def test_a_word_holding_a_space_and_the_default_initialisation(tmp_path):
    path = write(tmp_path / "v.txt", [("dog", [1.0, 2.0, 3.0]), ("new york", [0.5, -0.5, 0.25])])
    weight, coverage = load_word_vectors(path, VOCAB, seed=3)
    assert weight.dtype == np.float64 and weight.shape == (len(VOCAB), DIM)
    assert weight[VOCAB.stoi["new york"]].tolist() == [0.5, -0.5, 0.25]
    again, _ = load_word_vectors(path, VOCAB, seed=3)
    np.testing.assert_array_equal(weight, again)                          # seeded rows for the missing words
    assert np.abs(weight[VOCAB.stoi["cat"]]).sum() > 0 and coverage.found == 1


def test_only_vocabulary_vectors_are_parsed_but_every_line_is_counted(init, tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("cat 1 2 3\nunused 1 oops 3\n")                      # never parsed: not a vocabulary word
    weight, _ = load_word_vectors(path, VOCAB, init)
    assert weight[VOCAB.stoi["cat"]].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("content, message", [
    ("the 1 2 3\ncat 1 2\n", "v.txt:2: expected a word and 3 numbers (the dimension of the first vector), found 3 "
                             "fields"),
    ("the 1 2 3\n\ncat 1 2 3 4\n", "v.txt:3: expected a word and 3 numbers"),      # not the word 'cat 1'
    ("the 1 2 3\n 1 2 3\n", "v.txt:2: expected a word and 3 numbers"),
    ("the 1 2 3\ncat 1 two 3\n", "v.txt:2: 'two' is not a number"),
    ("the 1 2 3\ncat 1 nan 3\n", "v.txt:2: the vector holds NaN or inf"),
    ("the\n", "v.txt:1: expected a word followed by its vector's numbers, found one field"),
    ("", "v.txt: the file is empty (no word vectors)"),
    ("\n \n", "v.txt: the file is empty (no word vectors)"),
    ("2 3\n", "v.txt: holds no word vectors after its header"),
    ("3 3\nthe 1 2 3\ncat 1 2 3\n", "v.txt: the header announces 3 vectors, the file holds 2 (truncated?)"),
    ("2 0\n", "v.txt:1: the header announces 0-dimensional vectors"),
])
def test_bad_files_name_the_file_and_line(content, message, init, tmp_path):
    path = tmp_path / "v.txt"
    path.write_text(content)
    with pytest.raises(DataError, match=re.escape(message)):
        load_word_vectors(path, VOCAB, init)


def test_missing_binary_damaged_and_mismatched_files(init, tmp_path):
    with pytest.raises(DataError, match="nope.txt: no such file"):
        vector_file_dimension(tmp_path / "nope.txt")
    (tmp_path / "w2v.bin").write_bytes(b"2 3\nthe \xff\xfe\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\n")
    with pytest.raises(DataError, match=r"w2v.bin:2: not UTF-8 text \(a binary word2vec .bin file"):
        load_word_vectors(tmp_path / "w2v.bin", VOCAB, init)
    data = gzip.compress(b"the 1 2 3\n" * 1000)
    (tmp_path / "cut.txt.gz").write_bytes(data[:len(data) // 2])
    with pytest.raises(DataError, match=r"cut.txt.gz: not a readable gzip file \(truncated or damaged"):
        load_word_vectors(tmp_path / "cut.txt.gz", VOCAB, init)
    path = write(tmp_path / "v.txt", file_vectors())
    with pytest.raises(DataError, match=r"holds 3-dimensional vectors; the table to fill has shape \(14, 4\)"):
        load_word_vectors(path, VOCAB, np.zeros((len(VOCAB), 4)))
