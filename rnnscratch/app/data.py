"""Data preparation: from a source (a name or a path) to a vocabulary and batches. Knows no model.

Classification (``task="classify"``) reads a labelled source — the embedded phrases, IMDB, a CSV/TSV
file, a fastText file or a folder with one file per class — splits it, builds the vocabulary on the
training part and batches ``(ids (T, B), lengths (B,), labels (B,))``. A language model (``task="lm"``)
reads a plain-text corpus, keeps its end for validation and cuts ``(inputs (T, B), targets (T, B))``
from one stream. The loaders themselves are :mod:`rnnscratch.data.datasets`.
"""
from __future__ import annotations

import bz2
import dataclasses
import os
from dataclasses import dataclass
from typing import Callable

import numpy

from ..data import BucketIterator, DataError, TextDataset, Vocab, datasets, get_tokenizer, stream_batches
from ..data.vocab import PAD, UNK
from .config import LABELLED_FORMATS, TrainConfig

_LABELLED_LOADERS = {"csv": datasets.text_label_file, "tsv": datasets.text_label_file,
                     "fasttext": datasets.fasttext_labels, "folder": datasets.folder_per_class}


def detect_format(path) -> str:
    """One of :data:`~rnnscratch.app.config.FORMATS`, guessed from the path (and a file's first line)."""
    path = str(path)
    if os.path.isdir(path):
        if os.path.basename(os.path.normpath(path)) == "aclImdb" or os.path.isdir(os.path.join(path, "aclImdb")):
            return "imdb"
        return "folder"
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file or folder")
    name = path.lower()
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        return "imdb"
    base = name[:-4] if name.endswith(".bz2") else name
    if base.endswith(".csv"):
        return "csv"
    if base.endswith(".tsv"):
        return "tsv"
    opener = bz2.open if name.endswith(".bz2") else open
    with opener(path, "rb") as f:
        first = f.readline()
    return "fasttext" if first.startswith(b"__label__") else "text"


def read_labelled(source, fmt=None, imdb_split="test") -> TextDataset:
    """Every row of a labelled file or folder (``fmt`` None: detected; an IMDB source gives ``imdb_split``)."""
    fmt = fmt or detect_format(source)
    if fmt == "imdb":
        return datasets.imdb(imdb_split, path=source)
    if fmt not in _LABELLED_LOADERS:
        raise DataError(f"{source}: format '{fmt}' holds no labels; a classifier needs one of "
                        f"{', '.join(LABELLED_FORMATS)}")
    return _LABELLED_LOADERS[fmt](source)


def load_labelled(source, fmt, split, seed, test_split) -> TextDataset:
    """The ``split`` (``"train"`` or ``"test"``) of a named source (``embedded``, ``imdb``) or a path.

    A source without its own test split is split here, seeded: ``test_split`` of it is the test part.
    """
    if source == "embedded":
        return datasets.sentiment_phrases(split)
    if source == "imdb":
        return datasets.imdb(split)
    if (fmt or detect_format(source)) == "imdb":
        return datasets.imdb(split, path=source)
    train, test = read_labelled(source, fmt).split(test_split, seed=seed)
    return train if split == "train" else test


def relabel(dataset, label_names, source) -> TextDataset:
    """A copy of ``dataset`` whose labels index ``label_names`` (a training set's numbering).

    ``DataError`` naming ``source`` when a label does not occur in ``label_names``.
    """
    index = {name: k for k, name in enumerate(label_names)}
    unknown = sorted({dataset.label_names[y] for y in dataset.labels} - set(index))
    if unknown:
        raise DataError(f"{source}: label {unknown[0]!r} does not occur in the training data ({label_names})")
    return dataclasses.replace(dataset, labels=[index[dataset.label_names[y]] for y in dataset.labels],
                               label_names=list(label_names))


def limit(dataset, n, seed) -> TextDataset:
    """A seeded random subset of ``n`` examples, in their original order (all of them if ``n`` is None)."""
    if not n or n >= len(dataset):
        return dataset
    return dataset.subset(sorted(numpy.random.default_rng(seed).permutation(len(dataset))[:n]))


def encode_texts(texts, tokenizer, vocab) -> list:
    """Token ids per text (``list[list[int]]``); a text with no tokens becomes ``[<unk>]`` (a sequence
    needs a step)."""
    out = []
    for text in texts:
        ids = vocab.encode(tokenizer(text))
        out.append(ids if ids else [vocab.unk_index])
    return out


def encode_stream(text, tokenizer, vocab) -> numpy.ndarray:
    """One text as an ``int64`` id array ``(N,)``: a language model's stream."""
    return numpy.asarray(vocab.encode(tokenizer(text)), dtype=numpy.int64)


def split_corpus(text, val_split):
    """``(training text, held-out end)``: the last ``val_split`` of the characters are held out."""
    n_val = int(len(text) * val_split)
    return text[:len(text) - n_val], text[len(text) - n_val:]


def classification_batches(dataset, tokenizer, vocab, batch_size, max_len=None, shuffle=False, seed=0):
    """A :class:`~rnnscratch.data.BucketIterator` over ``dataset``: ``iterator(epoch)`` yields
    ``(ids (T, B), lengths (B,), labels (B,))``, texts cut to their last ``max_len`` tokens."""
    return BucketIterator(encode_texts(dataset.texts, tokenizer, vocab), dataset.labels, batch_size,
                          max_len=max_len, shuffle=shuffle, seed=seed)


def stream_eval_batches(ids, batch_size, seq_len):
    """Evaluation batches ``[(inputs (T, B), targets (T, B))]`` of a (short) held-out stream, with as many
    parallel rows as it fills (at most ``batch_size``); None when it is too short for one batch."""
    rows = min(batch_size, max(1, (len(ids) - 1) // seq_len))
    if len(ids) <= rows + 1:
        return None
    return list(stream_batches(ids, rows, seq_len))


@dataclass
class PreparedData:
    """What the training job needs from the data.

    Attributes:
        task: ``"classify"`` or ``"lm"``.
        vocab: the :class:`~rnnscratch.data.Vocab` built on the training part.
        label_names: classify: class names, label k is ``label_names[k]``; lm: None.
        train: ``epoch -> iterable of batches`` (seeded, so a resumed epoch sees the same batches).
        val, test: lists of batches, or None when there is no such part.
        sizes: ``(train, validation, test)`` sizes, in examples (classify) or tokens (lm).
    """
    task: str
    vocab: Vocab
    label_names: list | None
    train: Callable
    val: list | None
    test: list | None
    sizes: tuple


def prepare_classification(config: TrainConfig) -> PreparedData:
    """Load, split, limit, tokenize and batch a labelled source (``config`` resolved)."""
    c = config
    train = load_labelled(c.data, c.format, "train", c.seed, c.test_split)
    if c.test_data:
        test = relabel(read_labelled(c.test_data, c.test_format), train.label_names, c.test_data)
    else:
        test = relabel(load_labelled(c.data, c.format, "test", c.seed, c.test_split), train.label_names, c.data)
    train, test = limit(train, c.limit, c.seed), limit(test, c.limit, c.seed + 1)
    val = None
    if c.val_split > 0:
        train, val = train.split(c.val_split, seed=c.seed)
    tokenizer = get_tokenizer(c.tokenizer)
    vocab = Vocab.build((tokenizer(t) for t in train.texts), max_size=c.vocab_size, min_freq=c.min_freq)

    def batches(dataset, shuffle):
        return classification_batches(dataset, tokenizer, vocab, c.batch_size, c.max_len, shuffle, c.seed)

    return PreparedData("classify", vocab, train.label_names, train=batches(train, True),
                        val=None if val is None else list(batches(val, False)(0)),
                        test=list(batches(test, False)(0)),
                        sizes=(len(train), 0 if val is None else len(val), len(test)))


def prepare_language_model(config: TrainConfig) -> PreparedData:
    """Read a plain-text corpus, hold out its end, tokenize it and cut it into streams (``config`` resolved)."""
    c = config
    if c.data in ("embedded", "imdb"):
        raise DataError(f"--data {c.data}: a language model trains on a plain-text corpus "
                        "('tinyshakespeare' or a .txt path)")
    fmt = c.format or ("text" if c.data == "tinyshakespeare" else detect_format(c.data))
    if fmt != "text":
        raise DataError(f"{c.data}: format '{fmt}' is not plain text; a language model needs a text corpus")
    text = datasets.text_corpus(c.data, "all")
    train_text, val_text = split_corpus(text, c.val_split)
    if c.limit:
        train_text, val_text = train_text[:c.limit], val_text[:max(c.limit // 10, c.max_len * 2 + 2)]
    tokenizer = get_tokenizer(c.tokenizer)
    if c.tokenizer == "char":       # every character of the corpus gets an id: no <unk> needed
        vocab = Vocab.build([tokenizer(text)], specials=())
    else:
        vocab = Vocab.build([tokenizer(train_text)], max_size=c.vocab_size, min_freq=c.min_freq,
                            specials=(PAD, UNK))
    # arrays once here, not a list converted again by stream_batches at every epoch
    train_ids, val_ids = encode_stream(train_text, tokenizer, vocab), encode_stream(val_text, tokenizer, vocab)
    if len(train_ids) < c.batch_size * 2 + 1:
        raise DataError(f"{c.data}: the training text has {len(train_ids)} tokens, too few for "
                        f"--batch-size {c.batch_size}")
    return PreparedData("lm", vocab, None, train=lambda epoch: stream_batches(train_ids, c.batch_size, c.max_len),
                        val=stream_eval_batches(val_ids, c.batch_size, c.max_len), test=None,
                        sizes=(len(train_ids), len(val_ids), 0))


def prepare(config: TrainConfig) -> PreparedData:
    """:func:`prepare_classification` or :func:`prepare_language_model`, by ``config.task``."""
    return prepare_language_model(config) if config.task == "lm" else prepare_classification(config)
