"""Parallel text: the TSV/CSV loader, the pair encoder (vocabularies, reversed source, target limit) and
the sequence-to-sequence batches."""
import bz2

import numpy as np
import pytest

from rnnscratch.data import (DataError, PairEncoder, PairIterator, ParallelDataset, Vocab, parallel_text,
                             synthetic_pairs)
from rnnscratch.functional.losses import IGNORE_INDEX


def test_tsv_with_a_header_skips_and_counts_bad_rows_with_file_and_line(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("source\ttarget\n16+75\t91\n\t12\n3+4\t\n\n1+1\t2\textra\n2+2\t4\n")
    with pytest.warns(UserWarning, match=r"skipped 4 bad row\(s\): .*pairs.tsv:3: empty source \(and 3 more\)"):
        ds = parallel_text(path)
    assert ds.sources == ["16+75", "2+2"] and ds.targets == ["91", "4"]
    assert ds.where == [f"{path}:2", f"{path}:7"] and ds.location(1) == f"{path}:7"
    assert ds.problems == [f"{path}:3: empty source", f"{path}:4: empty target",
                           f"{path}:5: empty line (no source, no target)",
                           f"{path}:6: expected 2 columns like the first row, got 3"]
    assert ds.columns == "source: column 'source', target: column 'target'"
    with pytest.raises(DataError, match=r"pairs.tsv:3: empty source"):
        parallel_text(path, strict=True)


def test_tsv_without_header_keeps_quotes_and_ignores_a_third_column(tmp_path):
    path = tmp_path / "fra.txt"
    path.write_text('Go.\tVa !\tCC-BY 2.0 #1\n"Hi," he said.\t« Salut », dit-il.\tCC-BY 2.0 #2\r\n')
    ds = parallel_text(path)
    assert ds.sources == ["Go.", '"Hi," he said.'] and ds.targets == ["Va !", "« Salut », dit-il."]
    assert ds.columns == "source: column 0, target: column 1 of 3" and ds.problems == []


def test_csv_with_quotes_and_columns_named_in_another_order(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text('target,source\n"1,000","999+1"\n7,3+4\n')
    ds = parallel_text(path)
    assert ds.sources == ["999+1", "3+4"] and ds.targets == ["1,000", "7"]
    path.write_text("a,b\nc,d\n")                                 # no known header: every row is a pair
    assert parallel_text(path).sources == ["a", "c"]
    assert parallel_text(path, header=True).sources == ["c"]


def test_bz2_and_files_that_cannot_be_pairs(tmp_path):
    (tmp_path / "p.tsv.bz2").write_bytes(bz2.compress(b"a\tb\n"))
    assert parallel_text(tmp_path / "p.tsv.bz2").targets == ["b"]
    (tmp_path / "one.tsv").write_text("only a source\nanother\n")
    with pytest.raises(DataError, match=r"one.tsv:1: expected a source and a target separated by '\\t', got one "
                                        "column: 'only a source'"):
        parallel_text(tmp_path / "one.tsv")
    (tmp_path / "commas.csv").write_text(",\n ,\n")
    with pytest.raises(DataError, match="commas.csv: no row has a source or a target"):
        parallel_text(tmp_path / "commas.csv")
    (tmp_path / "none.tsv").write_text("a\t\n\tb\n")
    with pytest.warns(UserWarning), pytest.raises(DataError, match=r"none.tsv: no usable rows \(2 bad, the first: "):
        parallel_text(tmp_path / "none.tsv")
    with pytest.raises(DataError, match="no such file"):
        parallel_text(tmp_path / "missing.tsv")


def test_parallel_dataset_split_is_seeded_and_keeps_locations():
    ds = ParallelDataset([str(k) for k in range(20)], [str(-k) for k in range(20)], "x", [f"x:{k}" for k in range(20)])
    a, b = ds.split(0.25, seed=3)
    assert len(b) == 5 and sorted(a.sources + b.sources, key=int) == ds.sources
    assert all(w == f"x:{s}" for s, w in zip(b.sources, b.where)) and ds.split(0.25, seed=3)[1].sources == b.sources


def test_pair_encoder_reverses_the_source_and_round_trips_the_target():
    train = ParallelDataset(["ab+c", "ba"], ["xy", "yyz"])
    enc = PairEncoder.build(train, reverse_source=True)
    assert enc.source_vocab.itos[:2] == ["<pad>", "<unk>"]
    assert enc.target_vocab.itos[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    src = enc.source_vocab
    assert enc.encode_source("ab+c") == [src.stoi[t] for t in "c+ba"]
    assert PairEncoder.build(train).encode_source("ab+c") == [src.stoi[t] for t in "ab+c"]
    assert enc.encode_source("a?") == [src.unk_index, src.stoi["a"]] and enc.unknown_source_tokens("a?q?") == ["?", "q"]
    tgt = enc.target_vocab
    ids = enc.encode_target("yzx")
    assert ids == [tgt.stoi["y"], tgt.stoi["z"], tgt.stoi["x"]]
    assert enc.decode_target([tgt.bos_index] + ids + [tgt.eos_index, tgt.stoi["x"], 0]) == "yzx"
    assert enc.decode_target(ids + [tgt.unk_index]) == "yzx<unk>"
    again = PairEncoder.from_dict(enc.to_dict())
    assert again.encode_source("ab+c") == enc.encode_source("ab+c") and again.target_vocab.itos == tgt.itos


def test_pair_encoder_words_and_an_empty_source():
    train = ParallelDataset(["I like it.", "You like it!"], ["j'aime ça .", "tu aimes ça !"])
    enc = PairEncoder.build(train, "word", "word")
    assert enc.source_tokens("I like it.") == ["i", "like", "it", "."]
    assert enc.decode_target(enc.encode_target("tu aimes ça .")) == "tu aimes ça ."
    assert enc.encode_source("<br />") == [enc.source_vocab.unk_index]       # no token: one <unk> step


def test_pair_encoder_refuses_a_long_target_naming_its_line(tmp_path):
    path = tmp_path / "p.tsv"
    path.write_text("a\tshort\nb\tmuch too long\nc\tlonger than six\n")
    ds = parallel_text(path)
    enc = PairEncoder.build(ds)
    sources, targets = enc.encode(ds, max_target_len=15)
    assert len(sources) == 3 and [len(t) for t in targets] == [5, 13, 15]
    with pytest.raises(DataError, match=r"p.tsv:2: the target has 13 char tokens, more than --max-len 6 "
                                        r"\(2 targets are longer\); raise --max-len"):
        enc.encode(ds, max_target_len=6, limit_name="--max-len")
    generated = ParallelDataset(["1+1"], ["2222"], "addition(seed=0)")
    with pytest.raises(DataError, match=r"addition\(seed=0\): pair 1: the target has 4 char tokens, more than "
                                        "max_target_len 3;"):
        PairEncoder.build(generated).encode(generated, max_target_len=3)


def test_pair_encoder_argument_errors():
    vocab = Vocab.build([["a"]])
    with pytest.raises(ValueError, match="target_vocab: expected <bos> and <eos>"):
        PairEncoder(vocab, vocab)
    with pytest.raises(ValueError, match="source_tokenizer: expected one of 'char', 'word', got 'bpe'"):
        PairEncoder(vocab, vocab, source_tokenizer="bpe")


def test_pair_iterator_batches_cover_every_pair_once_with_bos_eos_and_ignored_padding(rng):
    # source k starts with the id 10 + k, so a batch's column says which pair it holds
    sources = [[10 + k] + rng.integers(4, 9, size=rng.integers(0, 11)).tolist() for k in range(203)]
    targets = [rng.integers(4, 9, size=rng.integers(0, 6)).tolist() for _ in range(203)]
    it = PairIterator(sources, targets, batch_size=16, bos=2, eos=3, seed=5, pool=4)
    seen = []
    for src, src_lengths, tgt_in, tgt_out in it(0):
        B = src.shape[1]
        assert src.shape == (src_lengths.max(), B) and tgt_in.shape == tgt_out.shape and tgt_in.shape[1] == B
        assert list(src_lengths) == sorted(src_lengths, reverse=True)
        batch = [int(src[0, b]) - 10 for b in range(B)]
        assert tgt_in.shape[0] == max(len(targets[k]) for k in batch) + 1
        for b, k in enumerate(batch):
            n = len(targets[k])
            assert src[:src_lengths[b], b].tolist() == sources[k] and np.all(src[src_lengths[b]:, b] == 0)
            assert tgt_in[0, b] == 2 and tgt_in[1:n + 1, b].tolist() == targets[k] and np.all(tgt_in[n + 1:, b] == 0)
            assert tgt_out[:n, b].tolist() == targets[k] and tgt_out[n, b] == 3
            assert np.all(tgt_out[n + 1:, b] == IGNORE_INDEX)
        seen += batch
    assert sorted(seen) == list(range(203)) and len(it) == 13


def test_pair_iterator_is_seeded_per_epoch_and_buckets_by_source_length():
    train, _ = synthetic_pairs("dates", 3000, 10)
    enc = PairEncoder.build(train)
    sources, targets = enc.encode(train)
    it = PairIterator(sources, targets, 64, enc.target_vocab.bos_index, enc.target_vocab.eos_index, seed=1)
    first = [b[1].tolist() for b in it(0)]
    assert first == [b[1].tolist() for b in it(0)] and first != [b[1].tolist() for b in it(1)]
    plain = PairIterator(sources, targets, 64, 2, 3, seed=1, bucket=False)
    assert it.padding_fraction() < plain.padding_fraction() / 4
    with pytest.raises(ValueError, match="targets: expected 2 targets"):
        PairIterator([[1], [2]], [[1]], 4, 2, 3)
