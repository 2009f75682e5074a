"""The jobs behind the command line: prepare data, build the model, train, evaluate, predict, sample.

Three tasks:

* ``sentiment`` — many-to-one classification of word-tokenised texts (embedded phrases, IMDB, CSV/TSV,
  fastText files);
* ``names`` — many-to-one classification of character-tokenised lines (one file per class);
* ``charlm`` — a character (or word) language model on a plain-text corpus.

Everything needed to use a trained model later — the vocabulary, the tokenizer, the label names, the
maximum length, where the data came from — goes into the checkpoint, so ``evaluate``, ``predict`` and
``sample`` need nothing but the checkpoint file.
"""
from __future__ import annotations

import json
import os
import time
from types import SimpleNamespace

import numpy

from . import backend, nn, optim
from .data import (BucketIterator, CharTokenizer, DataError, Vocab, WordTokenizer, datasets, stream_batches)
from .data.vocab import PAD, UNK
from .train import Trainer, TruncatedBPTT, load_checkpoint

TASKS = ("sentiment", "charlm", "names")
FORMATS = ("imdb", "csv", "tsv", "fasttext", "folder", "text")
NAMED_SOURCES = ("embedded", "imdb", "tinyshakespeare")

# Defaults that differ by task; the command line overrides any of them.
TASK_DEFAULTS = {
    "sentiment": dict(data="embedded", model="rnn", hidden=64, embed=32, layers=1, epochs=12, batch_size=32,
                      lr=5e-3, tokenizer="word", max_len=None, clip=5.0, val_split=0.1),
    "names": dict(data=None, model="gru", hidden=128, embed=32, layers=1, epochs=10, batch_size=64, lr=3e-3,
                  tokenizer="char", max_len=None, clip=5.0, val_split=0.1),
    "charlm": dict(data="tinyshakespeare", model="lstm", hidden=256, embed=64, layers=2, epochs=1, batch_size=64,
                   lr=2e-3, tokenizer="char", max_len=100, clip=5.0, val_split=0.1),
}


def detect_format(path):
    """Guess a data file's format from its name (and first line); ``--format`` overrides this."""
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
    opener = __import__("bz2").open if name.endswith(".bz2") else open
    with opener(path, "rb") as f:
        first = f.readline()
    if first.startswith(b"__label__"):
        return "fasttext"
    return "text"


_LABELLED_LOADERS = {"csv": datasets.text_label_file, "tsv": datasets.text_label_file,
                     "fasttext": datasets.fasttext_labels, "folder": datasets.folder_per_class}


def _read_labelled(source, fmt, imdb_split="test"):
    """Every row of a labelled file or folder (an IMDB archive gives ``imdb_split``)."""
    fmt = fmt or detect_format(source)
    if fmt == "imdb":
        return datasets.imdb(imdb_split, path=source)
    if fmt not in _LABELLED_LOADERS:
        raise DataError(f"{source}: format '{fmt}' holds no labels; a classifier needs csv, tsv, fasttext, folder "
                        "or imdb")
    return _LABELLED_LOADERS[fmt](source)


def load_labelled(source, fmt, split, seed, test_split):
    """A labelled :class:`TextDataset` for ``split`` ("train" or "test") from a named source or a path.

    Sources without their own test split are split here, seeded, with ``test_split`` held out.
    """
    if source == "embedded":
        return datasets.sentiment_phrases(split)
    if source == "imdb":
        return datasets.imdb(split)
    if (fmt or detect_format(source)) == "imdb":
        return datasets.imdb(split, path=source)
    train, test = _read_labelled(source, fmt).split(test_split, seed=seed)
    return train if split == "train" else test


def _relabel(dataset, label_names, source):
    """Express a separate test file's labels with the training set's label numbering."""
    index = {name: k for k, name in enumerate(label_names)}
    unknown = sorted({dataset.label_names[y] for y in dataset.labels} - set(index))
    if unknown:
        raise DataError(f"{source}: label {unknown[0]!r} does not occur in the training data ({label_names})")
    dataset.labels = [index[dataset.label_names[y]] for y in dataset.labels]
    dataset.label_names = list(label_names)
    return dataset


def make_tokenizer(name):
    return CharTokenizer() if name == "char" else WordTokenizer()


def encode_texts(texts, tokenizer, vocab):
    """Token ids per text; a text with no tokens becomes one ``<unk>`` (a sequence needs a step)."""
    out = []
    for text in texts:
        ids = vocab.encode(tokenizer(text))
        out.append(ids if ids else [vocab.unk_index])
    return out


def _limit(dataset, n, seed):
    if not n or n >= len(dataset):
        return dataset
    return dataset.subset(sorted(numpy.random.default_rng(seed).permutation(len(dataset))[:n]))


def prepare_classification(args):
    train = load_labelled(args.data, args.format, "train", args.seed, args.test_split)
    if args.test_data:
        test = _relabel(_read_labelled(args.test_data, args.test_format), train.label_names, args.test_data)
    else:
        test = _relabel(load_labelled(args.data, args.format, "test", args.seed, args.test_split),
                        train.label_names, args.data)
    train, test = _limit(train, args.limit, args.seed), _limit(test, args.limit, args.seed + 1)
    val = None
    if args.val_split > 0:
        train, val = train.split(args.val_split, seed=args.seed)
    tokenizer = make_tokenizer(args.tokenizer)
    vocab = Vocab.build((tokenizer(t) for t in train.texts), max_size=args.vocab_size, min_freq=args.min_freq)
    batches = lambda ds, shuffle: BucketIterator(encode_texts(ds.texts, tokenizer, vocab), ds.labels,  # noqa: E731
                                                 args.batch_size, max_len=args.max_len, shuffle=shuffle,
                                                 seed=args.seed)
    model = nn.SequenceClassifier(len(vocab), len(train.label_names), embed_dim=args.embed, hidden_size=args.hidden,
                                  cell=args.model, num_layers=args.layers, bidirectional=args.bidirectional,
                                  dropout=args.dropout, pooling=args.pooling, padding_idx=vocab.pad_index,
                                  rng=args.seed)
    return SimpleNamespace(kind="classify", model=model, vocab=vocab, label_names=train.label_names,
                    train=batches(train, True), val=None if val is None else list(batches(val, False)(0)),
                    test=list(batches(test, False)(0)), sizes=(len(train), 0 if val is None else len(val), len(test)))


def prepare_language_model(args):
    if args.data in ("embedded", "imdb"):
        raise DataError(f"--data {args.data}: a language model trains on a plain-text corpus "
                        "('tinyshakespeare' or a .txt path)")
    fmt = args.format or ("text" if args.data == "tinyshakespeare" else detect_format(args.data))
    if fmt != "text":
        raise DataError(f"{args.data}: format '{fmt}' is not plain text; charlm needs a text corpus")
    text = datasets.text_corpus(args.data, "all")
    n_val = int(len(text) * args.val_split)
    train_text, val_text = text[:len(text) - n_val], text[len(text) - n_val:]
    if args.limit:
        train_text, val_text = train_text[:args.limit], val_text[:max(args.limit // 10, args.max_len * 2 + 2)]
    tokenizer = make_tokenizer(args.tokenizer)
    if args.tokenizer == "char":       # every character of the corpus gets an id: no <unk> needed
        vocab = Vocab.build([tokenizer(text)], specials=())
    else:
        vocab = Vocab.build([tokenizer(train_text)], max_size=args.vocab_size, min_freq=args.min_freq,
                            specials=(PAD, UNK))
    # arrays once here, not a list converted again by stream_batches at every epoch
    train_ids = numpy.asarray(vocab.encode(tokenizer(train_text)), dtype=numpy.int64)
    val_ids = numpy.asarray(vocab.encode(tokenizer(val_text)), dtype=numpy.int64)
    if len(train_ids) < args.batch_size * 2 + 1:
        raise DataError(f"{args.data}: the training text has {len(train_ids)} tokens, too few for "
                        f"--batch-size {args.batch_size}")
    model = nn.LanguageModel(len(vocab), hidden_size=args.hidden, embed_dim=args.embed or None, cell=args.model,
                             num_layers=args.layers, dropout=args.dropout, rng=args.seed)
    val_batch = min(args.batch_size, max(1, (len(val_ids) - 1) // args.max_len))
    return SimpleNamespace(kind="lm", model=model, vocab=vocab, label_names=None,
                    train=lambda epoch: stream_batches(train_ids, args.batch_size, args.max_len),
                    val=list(stream_batches(val_ids, val_batch, args.max_len)) if len(val_ids) > val_batch + 1 else None,
                    test=None, sizes=(len(train_ids), len(val_ids), 0))


def train(args):
    """Run ``rnnscratch train``; returns the metrics dict it also writes to ``<out>/metrics.json``."""
    backend.set_backend(args.backend)
    backend.set_default_dtype(args.dtype)
    nn.init.manual_seed(args.seed)
    prep = prepare_language_model(args) if args.task == "charlm" else prepare_classification(args)
    model = prep.model
    hyper = {"lr": args.lr}
    if args.weight_decay:
        hyper["weight_decay"] = args.weight_decay
    optimizer = optim.OPTIMIZERS[args.optimizer](model.parameters(), **hyper)
    scheduler = {"none": None, "step": lambda: optim.StepLR(optimizer, max(1, args.epochs // 3), 0.5),
                 "cosine": lambda: optim.CosineAnnealingLR(optimizer, max(1, args.epochs))}[args.schedule]
    k1 = args.k1 or args.bptt
    bptt = TruncatedBPTT(k1, args.k2 or k1) if k1 else None
    extra = {"task": args.task, "tokenizer": args.tokenizer, "max_len": args.max_len, "label_names": prep.label_names,
             "data": args.data, "format": args.format, "test_data": args.test_data, "seed": args.seed,
             "test_split": args.test_split, "val_split": args.val_split, "batch_size": args.batch_size}
    trainer = Trainer(model, optimizer, prep.kind, bptt=bptt, clip=args.clip, scheduler=scheduler and scheduler(),
                      out_dir=args.out, patience=args.patience, vocab=prep.vocab.to_dict(), quiet=args.quiet,
                      extra=extra, max_steps=args.steps)
    if args.resume:
        trainer.resume(args.resume)
    if not args.quiet:
        n_train, n_val, n_test = prep.sizes
        unit = "tokens" if prep.kind == "lm" else "examples"
        print(f"{args.task}: {n_train} train / {n_val} validation / {n_test} test {unit}, vocabulary {len(prep.vocab)}, "
              f"{type(model).__name__} {args.model} with {model.num_parameters():,} parameters, "
              f"backend {args.backend} {args.dtype}", flush=True)
    start = time.perf_counter()
    trainer.fit(prep.train, prep.val, epochs=args.epochs)
    train_seconds = time.perf_counter() - start
    best = os.path.join(args.out, "best.npz")
    if prep.val is not None and os.path.exists(best):
        model.load_state_dict(load_checkpoint(best).model.state_dict())
    metrics = {"task": args.task, "epochs": len(trainer.history), "steps": trainer.step,
               "train_seconds": train_seconds,
               "tokens_per_second": float(numpy.mean([h["tokens_per_second"] for h in trainer.history])),
               "parameters": model.num_parameters()}
    if prep.val is not None:
        val = trainer.evaluate(prep.val)
        metrics.update({f"val_{k}": v for k, v in val.items()})
    if prep.test is not None:
        test = trainer.evaluate(prep.test)
        metrics.update({f"test_{k}": v for k, v in test.items()})
    _write_json(os.path.join(args.out, "metrics.json"), metrics)
    plot_history(trainer.history, os.path.join(args.out, "history.png"))
    return metrics


def _write_json(path, obj):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


def plot_history(history, path):
    """Loss/accuracy curves as a PNG when matplotlib is installed (the ``plot`` extra); else nothing."""
    try:
        from .viz import training_curves
    except ImportError:
        return None
    import matplotlib
    matplotlib.use("Agg")
    fig = training_curves(history)
    fig.savefig(path + ".tmp.png", dpi=100)
    os.replace(path + ".tmp.png", path)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path


# -- using a trained model -----------------------------------------------------------------------
def load_for_use(path):
    """``(checkpoint, vocab, tokenizer, extra)`` from a checkpoint written by ``train``."""
    ckpt = load_checkpoint(path)
    extra = ckpt.meta.get("extra") or {}
    if "task" not in extra or ckpt.vocab is None:
        from .train import CheckpointError
        raise CheckpointError(f"{path}: not written by `rnnscratch train` (no task or vocabulary inside)")
    ckpt.model.eval()
    return ckpt, Vocab.from_dict(ckpt.vocab), make_tokenizer(extra["tokenizer"]), extra


def predict(path, texts):
    """``[(label name, probability, all probabilities)]`` for each text."""
    ckpt, vocab, tokenizer, extra = load_for_use(path)
    if extra["task"] == "charlm":
        raise DataError(f"{path} holds a language model; use `rnnscratch sample`")
    out = []
    for text in texts:
        ids = encode_texts([text], tokenizer, vocab)[0]
        if extra.get("max_len"):
            ids = ids[-extra["max_len"]:]
        p = backend.to_numpy(ckpt.model.predict_proba(numpy.array(ids)[:, None], numpy.array([len(ids)])))[0]
        k = int(p.argmax())
        out.append((extra["label_names"][k], float(p[k]), p))
    return out


def sample(path, prefix, length, temperature=1.0, top_k=None, seed=None):
    ckpt, vocab, tokenizer, extra = load_for_use(path)
    if extra["task"] != "charlm":
        raise DataError(f"{path} holds a classifier; use `rnnscratch predict`")
    tokens = tokenizer(prefix)
    unknown = [t for t in tokens if t not in vocab]
    if unknown and vocab.unk_index is None:
        raise DataError(f"--prefix: {unknown[0]!r} never occurs in the training text")
    ids = ckpt.model.sample(vocab.encode(tokens), length, temperature=temperature, top_k=top_k, seed=seed)
    return tokenizer.detokenize(tokens + vocab.decode(ids))


def evaluate(path, data=None, fmt=None, split="test"):
    """Metrics of a trained model on a split; classifiers also get a confusion matrix."""
    ckpt, vocab, tokenizer, extra = load_for_use(path)
    trainer = Trainer(ckpt.model, None, "lm" if extra["task"] == "charlm" else "classify", quiet=True)
    source = data or extra["data"]
    if extra["task"] == "charlm":
        text = datasets.text_corpus(source, "all")
        n_val = max(int(len(text) * extra.get("val_split", 0.1)), 2)     # the held-out end used in training
        ids = vocab.encode(tokenizer(text[len(text) - n_val:] if split != "train" else text[:len(text) - n_val]))
        batch = max(1, min(extra["batch_size"], (len(ids) - 1) // extra["max_len"]))
        return trainer.evaluate(list(stream_batches(ids, batch, extra["max_len"])))
    if data is None and split == "test" and extra.get("test_data"):
        dataset = _read_labelled(extra["test_data"], None)
    else:
        dataset = load_labelled(source, fmt if data else extra.get("format"), split, extra["seed"], extra["test_split"])
    dataset = _relabel(dataset, extra["label_names"], source)
    batches = list(BucketIterator(encode_texts(dataset.texts, tokenizer, vocab), dataset.labels, 64,
                                  max_len=extra.get("max_len"), shuffle=False)(0))
    metrics = trainer.evaluate(batches, num_classes=len(extra["label_names"]))
    metrics.update({"examples": len(dataset), "labels": extra["label_names"]})
    return metrics


def format_confusion(confusion, labels):
    width = max(8, max(len(x) for x in labels) + 1)
    lines = [" " * width + "predicted".center(width * len(labels))]
    lines.append("true".ljust(width) + "".join(x.rjust(width) for x in labels))
    for name, row in zip(labels, confusion):
        lines.append(name.ljust(width) + "".join(str(v).rjust(width) for v in row))
    return "\n".join(lines)

