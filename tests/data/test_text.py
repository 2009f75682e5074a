"""Tokenizers, vocabulary and batching."""
import numpy as np
import pytest

from rnnscratch.data import (BucketIterator, CharTokenizer, Vocab, WordTokenizer, bucket_batches, get_tokenizer,
                             pad_sequences, stream_batches)


def test_word_tokenizer_lowercases_strips_html_and_splits_punctuation():
    tok = WordTokenizer()
    assert tok("I didn't LIKE it.<br /><br />2/10!") == ["i", "didn't", "like", "it", ".", "2", "/", "10", "!"]
    assert WordTokenizer(digits=True, urls=True)("See http://x.org/a?b in 1999, 3.5 stars") == \
        ["see", "<url>", "in", "<num>", ",", "<num>", "stars"]


def test_char_tokenizer_round_trip():
    tok = CharTokenizer()
    assert tok("a b\n") == ["a", " ", "b", "\n"] and tok.detokenize(tok("hi there")) == "hi there"


def test_get_tokenizer():
    assert isinstance(get_tokenizer("word"), WordTokenizer)
    assert get_tokenizer(str.split)("a b") == ["a", "b"]
    with pytest.raises(ValueError, match="tokenizer: expected 'char', 'word' or a callable"):
        get_tokenizer("bpe")


def test_vocab_build_limits_ties_and_specials(tmp_path):
    streams = [["b", "a", "c", "a"], ["b", "d", "a", "e", "e"]]
    v = Vocab.build(streams, max_size=5, min_freq=1)
    assert v.itos == ["<pad>", "<unk>", "a", "b", "e"]          # a:3, then b and e tie at 2 -> alphabetical
    assert v.pad_index == 0 and v.unk_index == 1
    assert v.encode(["a", "zzz"]) == [2, 1] and v.decode([3, 4]) == ["b", "e"]
    assert Vocab.build(streams, min_freq=2).itos == ["<pad>", "<unk>", "a", "b", "e"]
    assert v.most_common(2) == [("a", 3), ("b", 2)]
    v.save(tmp_path / "v.json")
    w = Vocab.load(tmp_path / "v.json")
    assert w.itos == v.itos and w.encode(["e", "?"]) == [4, 1]


def test_vocab_errors():
    with pytest.raises(ValueError, match="max_size: expected at least 2"):
        Vocab.build([["a"]], max_size=1)
    with pytest.raises(KeyError, match="'z' is not in the vocabulary"):
        Vocab(["a", "b"]).encode(["z"])


@pytest.mark.parametrize("padding, truncating, ids_b0, ids_b1", [
    ("post", "post", [1, 2, 3], [4, 0, 0]),
    ("pre", "post", [1, 2, 3], [0, 0, 4]),
    ("post", "pre", [2, 3, 9], [4, 0, 0]),
])
def test_pad_sequences(padding, truncating, ids_b0, ids_b1):
    ids, lengths = pad_sequences([[1, 2, 3, 9], [4]], max_len=3, padding=padding, truncating=truncating)
    assert ids.shape == (3, 2) and lengths.tolist() == [3, 1]
    assert ids[:, 0].tolist() == ids_b0 and ids[:, 1].tolist() == ids_b1


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="every sequence needs at least one token"):
        pad_sequences([[1], []])
    with pytest.raises(ValueError, match="padding: expected 'pre' or 'post'"):
        pad_sequences([[1]], padding="middle")


def test_bucket_iterator_covers_everything_once_sorted_and_reproducible():
    rng = np.random.default_rng(0)
    seqs = [list(range(1, n + 1)) for n in rng.integers(1, 60, size=301)]
    labels = np.arange(301)
    it = BucketIterator(seqs, labels, batch_size=16, seed=4, pool=4)
    seen = []
    for ids, lengths, y in it(0):
        assert ids.shape == (lengths.max(), len(y))
        assert list(lengths) == sorted(lengths, reverse=True)
        for b, k in enumerate(y):
            assert ids[:lengths[b], b].tolist() == seqs[k] and np.all(ids[lengths[b]:, b] == 0)
        seen += y.tolist()
    assert sorted(seen) == list(range(301))
    assert [b[2].tolist() for b in it(0)] == [b[2].tolist() for b in it(0)]
    assert [b[2].tolist() for b in it(0)] != [b[2].tolist() for b in it(1)]
    random = BucketIterator(seqs, labels, batch_size=16, seed=4, bucket=False)
    assert it.padding_fraction() < 0.5 * random.padding_fraction()
    assert len(it) == 19


def test_bucket_iterator_max_len_keeps_the_end_and_checks_labels():
    it = BucketIterator([[1, 2, 3, 4]], [0], batch_size=2, max_len=2)
    ids, lengths, _ = next(iter(it))
    assert ids[:, 0].tolist() == [3, 4]
    with pytest.raises(ValueError, match="labels: expected 2 labels"):
        BucketIterator([[1], [2]], [0], batch_size=1)


def test_stream_batches_are_continuous_columns():
    stream = np.arange(23)
    batches = list(stream_batches(stream, batch_size=2, seq_len=4))
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    assert x.shape == (11, 2) and [b[0].shape[0] for b in batches] == [4, 4, 3]
    assert x[:, 0].tolist() == list(range(0, 11)) and x[:, 1].tolist() == list(range(11, 22))
    np.testing.assert_array_equal(y, x + 1)
    with pytest.raises(ValueError, match="too short for batch_size=5"):
        list(stream_batches(np.arange(4), 5, 2))


@pytest.mark.parametrize("n, batch_size, seq_len", [(23, 2, 4), (21, 2, 5), (9, 4, 1), (100, 3, 50)])
def test_stream_batches_know_their_number(n, batch_size, seq_len):
    """len() is the number of (T, B) windows a pass yields, for a progress bar's total."""
    batches = stream_batches(np.arange(n), batch_size, seq_len)
    assert len(batches) == len(list(batches)) >= 1
    assert next(stream_batches(np.arange(n), batch_size, seq_len))[0].shape == (min(seq_len, (n - 1) // batch_size),
                                                                                 batch_size)


def test_bucket_batches_sort_each_pool_and_shuffle_the_batches():
    lengths = np.arange(40) % 7
    batches = bucket_batches(lengths, 4, seed=2, epoch=0, pool=10)
    assert sorted(np.concatenate(batches).tolist()) == list(range(40)) and len(batches) == 10
    assert all(list(lengths[b]) == sorted(lengths[b], reverse=True) for b in batches)
    assert all(np.array_equal(a, b) for a, b in zip(batches, bucket_batches(lengths, 4, seed=2, epoch=0, pool=10)))
    plain = bucket_batches(lengths, 4, shuffle=False, bucket=False)
    assert [b.tolist() for b in plain] == [list(range(k, k + 4)) for k in range(0, 40, 4)]
