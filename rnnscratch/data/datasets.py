"""Dataset loaders for the formats the tutorials use. Each returns a :class:`TextDataset`.

* :func:`imdb` — the Large Movie Review Dataset (``aclImdb_v1.tar.gz``, an extracted ``aclImdb/``, or
  any archive with that layout, such as ``aclImdb_labeled.tar.gz``).
* :func:`text_corpus` — a plain-text file for language modelling, split by position.
* :func:`fasttext_labels` — ``__label__N text`` lines (plain or ``.bz2``), as in Amazon reviews.
* :func:`folder_per_class` — one file per class, one example per line (the surnames data).
* :func:`text_label_file` — CSV/TSV with a text and a label column.
* :func:`sentiment_phrases` — the small negation set shipped inside the package.

Bad rows (a malformed fastText line, a label outside the known set, a short CSV row, an empty text) are
skipped and reported as ``file:line: reason`` in ``dataset.problems`` (with one warning), so one bad line
never loses the others; ``strict=True`` raises instead. Bytes that are not UTF-8 are replaced and counted.
Missing files, missing splits, empty files, binary files (NUL bytes) and a CSV whose quoting breaks (an
unterminated quote would swallow every row after it into one field) raise :class:`DataError` naming the
file and line.
"""
from __future__ import annotations

import bz2
import csv
import io
import os
import re
import tarfile
import warnings
from dataclasses import dataclass, field

import numpy

from .download import fetch
from .phrases import phrase_rows

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
TINYSHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
TINYSHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


class DataError(ValueError):
    """Data that cannot be loaded; the message names the file (and line)."""


@dataclass
class TextDataset:
    """Texts with integer labels (``label_names[k]`` is label k's name); ``ratings`` for IMDB."""
    texts: list
    labels: list
    label_names: list
    source: str = ""
    ratings: list | None = None
    problems: list = field(default_factory=list)
    decode_errors: int = 0
    columns: str = ""            # CSV/TSV: which columns were read, and whether they were guessed

    def __len__(self):
        return len(self.texts)

    def subset(self, indices):
        pick = lambda xs: None if xs is None else [xs[i] for i in indices]  # noqa: E731
        return TextDataset(pick(self.texts), pick(self.labels), self.label_names, self.source, pick(self.ratings),
                           columns=self.columns)

    def split(self, test_fraction=0.2, seed=0):
        """A seeded random ``(train, held_out)`` split."""
        train, held_out = split_indices(len(self), test_fraction, seed)
        return self.subset(train), self.subset(held_out)


def split_indices(n, test_fraction, seed=0):
    """``(train indices, held-out indices)`` of ``n`` examples, a seeded random split, each list in order;
    at least one example is held out."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction: expected a fraction in (0, 1), got {test_fraction}")
    order = numpy.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_fraction)))
    return sorted(order[n_test:]), sorted(order[:n_test])


def _decode(data: bytes):
    """UTF-8 text and whether bytes had to be replaced."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True


def read_bytes(path, first_line=False):
    """The bytes of ``path`` (decompressed when it ends in ``.bz2``), or only its ``first_line``;
    ``DataError`` for a ``.bz2`` file that is not one."""
    opener = bz2.open if str(path).endswith(".bz2") else open
    try:
        with opener(path, "rb") as f:
            return f.readline() if first_line else f.read()
    except (OSError, EOFError) as exc:
        if not str(path).endswith(".bz2"):
            raise
        raise DataError(f"{path}: not a readable bzip2 file ({exc})") from None


def _read_text(path):
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    data = read_bytes(path)
    if not data.strip():
        raise DataError(f"{path}: the file is empty")
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise DataError(f"{path}:{line}: not a text file (NUL bytes: binary data, or text not saved as UTF-8)")
    return data


def _finish(dataset, strict):
    if dataset.problems:
        if strict:
            raise DataError(dataset.problems[0])
        more = f" (and {len(dataset.problems) - 1} more)" if len(dataset.problems) > 1 else ""
        warnings.warn(f"{dataset.source}: skipped {len(dataset.problems)} bad row(s): {dataset.problems[0]}{more}",
                      stacklevel=3)
    if dataset.decode_errors:
        warnings.warn(f"{dataset.source}: {dataset.decode_errors} row(s) had bytes that are not UTF-8; "
                      "they were replaced with U+FFFD", stacklevel=3)
    if len(dataset) == 0:
        why = f" ({len(dataset.problems)} bad, the first: {dataset.problems[0]})" if dataset.problems else ""
        raise DataError(f"{dataset.source}: no usable rows{why}")
    return dataset


def _label_index(names, known, where, problems):
    """Map label strings to ints, over a known set (given) or the sorted set found."""
    label_names = list(known) if known is not None else sorted(set(names), key=_natural_key)
    index = {name: k for k, name in enumerate(label_names)}
    labels, keep = [], []
    for k, (name, line) in enumerate(zip(names, where)):
        if name in index:
            labels.append(index[name])
            keep.append(k)
        else:
            problems.append(f"{line}: label {name!r} is not one of {label_names}")
    return labels, keep, label_names


def _natural_key(s):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s)]


# -- IMDB --------------------------------------------------------------------------------------------
_IMDB_FILE = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
_imdb_cache = {}


def _imdb_records(path):
    """``{split: [(label, id, rating, text, decode_error)]}`` from an archive or a folder (cached)."""
    key = (os.path.abspath(path), os.path.getmtime(path))
    if key in _imdb_cache:
        return _imdb_cache[key]
    records = {"train": [], "test": []}

    def add(name, data):
        m = _IMDB_FILE.search(name.replace(os.sep, "/"))
        if m:
            text, bad = _decode(data)
            records[m.group(1)].append((int(m.group(2) == "pos"), int(m.group(3)), int(m.group(4)), text, bad))

    if os.path.isdir(path):
        root = path if os.path.basename(os.path.normpath(path)) == "aclImdb" else os.path.join(path, "aclImdb")
        for dirpath, _, files in os.walk(root):
            for f in files:
                full = os.path.join(dirpath, f)
                with open(full, "rb") as fh:
                    add("aclImdb/" + os.path.relpath(full, root), fh.read())
    else:
        try:
            with tarfile.open(path, "r:*") as tar:
                for member in tar:
                    if member.isfile() and _IMDB_FILE.search(member.name):
                        add(member.name, tar.extractfile(member).read())
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise DataError(f"{path}: not a readable tar archive ({exc})") from exc
    for rows in records.values():
        rows.sort()
    _imdb_cache.clear()
    _imdb_cache[key] = records
    return records


def imdb(split="train", path=None, quiet=False):
    """The IMDB reviews of one split: 25,000 each, labels 0 = neg, 1 = pos, ratings 1-10.

    ``path``: an archive (``.tar.gz``) or a folder holding ``aclImdb/``; default: the official archive,
    downloaded into the cache and verified (84,125,825 bytes, SHA-256 ``c40f74a1...``). A local path is
    read as given (the checksum guards downloads only).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    if path is None:
        path = fetch(IMDB_URL, "aclImdb_v1.tar.gz", IMDB_SHA256, quiet=quiet)
    path = str(path)
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file or folder (expected aclImdb_v1.tar.gz or a folder with aclImdb/)")
    rows = _imdb_records(path)[split]
    if not rows:
        raise DataError(f"{path}: no reviews for split '{split}' (expected aclImdb/{split}/pos/*_*.txt and "
                        f"aclImdb/{split}/neg/*_*.txt)")
    missing = [name for k, name in enumerate(("neg", "pos")) if not any(r[0] == k for r in rows)]
    if missing:
        raise DataError(f"{path}: split '{split}' has no '{missing[0]}' reviews (aclImdb/{split}/{missing[0]}/ is missing)")
    dataset = TextDataset([r[3] for r in rows], [r[0] for r in rows], ["neg", "pos"], f"{path}:{split}",
                          ratings=[r[2] for r in rows], decode_errors=sum(r[4] for r in rows))
    return _finish(dataset, strict=False)


# -- language-model corpora --------------------------------------------------------------------------
def text_corpus(source, split="train", val_fraction=0.1, test_fraction=0.0, quiet=False):
    """The text of a plain-text corpus, cut by position: ``[train | validation | test]``.

    ``source``: a file path, or ``"tinyshakespeare"`` (the 1.1 MB char-rnn file, downloaded and verified).
    With the defaults, validation is the last 10% of the file.
    """
    if split not in ("train", "validation", "test", "all"):
        raise ValueError(f"split: expected 'train', 'validation', 'test' or 'all', got {split!r}")
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"val_fraction + test_fraction: expected fractions summing below 1, "
                         f"got {val_fraction} + {test_fraction}")
    if source == "tinyshakespeare":
        source = fetch(TINYSHAKESPEARE_URL, "tinyshakespeare/input.txt", TINYSHAKESPEARE_SHA256, quiet=quiet)
    text, bad = _decode(_read_text(source))
    if bad:
        warnings.warn(f"{source}: bytes that are not UTF-8 were replaced with U+FFFD", stacklevel=2)
    n = len(text)
    a, b = int(n * (1 - val_fraction - test_fraction)), int(n * (1 - test_fraction))
    return {"train": text[:a], "validation": text[a:b], "test": text[b:], "all": text}[split]


# -- labelled text files -----------------------------------------------------------------------------
def fasttext_labels(path, labels=None, strict=False):
    """``__label__<name> <text>`` per line (``.bz2`` too). Label names sort naturally: 1, 2, ..., 10."""
    data = _read_text(path)
    texts, names, where, problems, bad_bytes = [], [], [], [], 0
    for number, raw in enumerate(data.splitlines(), 1):
        line, bad = _decode(raw)
        bad_bytes += bad
        if not line.strip():
            continue
        head, _, text = line.partition(" ")
        if not head.startswith("__label__") or len(head) == len("__label__") or not text.strip():
            problems.append(f"{path}:{number}: expected '__label__<name> <text>', got {line[:40]!r}")
            continue
        texts.append(text.strip())
        names.append(head[len("__label__"):])
        where.append(f"{path}:{number}")
    ids, keep, label_names = _label_index(names, labels, where, problems)
    dataset = TextDataset([texts[k] for k in keep], ids, label_names, str(path), problems=problems,
                          decode_errors=bad_bytes)
    return _finish(dataset, strict)


def folder_per_class(path, strict=False):
    """One ``<class>.txt`` file per class in ``path``, one example per line (blank lines skipped)."""
    if not os.path.isdir(path):
        raise DataError(f"{path}: no such folder (expected one text file per class)")
    files = sorted(f for f in os.listdir(path) if os.path.isfile(os.path.join(path, f)) and not f.startswith("."))
    if not files:
        raise DataError(f"{path}: the folder has no class files")
    texts, labels, names, bad_bytes = [], [], [], 0
    for k, name in enumerate(files):
        data = _read_text(os.path.join(path, name))
        names.append(os.path.splitext(name)[0])
        for raw in data.splitlines():
            line, bad = _decode(raw)
            bad_bytes += bad
            if line.strip():
                texts.append(line.strip())
                labels.append(k)
    return _finish(TextDataset(texts, labels, names, str(path), decode_errors=bad_bytes), strict)


_TEXT_NAMES = ("text", "review", "sentence", "content", "comment", "document")
_LABEL_NAMES = ("label", "sentiment", "class", "target", "category", "polarity")


def text_label_file(path, text_column=None, label_column=None, delimiter=None, header=None, labels=None,
                    strict=False):
    """A CSV or TSV file with a text column and a label column (e.g. IMDB's ``review,sentiment`` export).

    Columns are chosen by name (needs a header) or 0-based position (an int, or a string of digits); by
    default the first column named like text/review/sentence and the first named like
    label/sentiment/class, else column 0 and the last (``dataset.columns`` says which were read and
    whether they were guessed). ``delimiter``: default tab for ``.tsv``, else sniffed. ``header``:
    default detected (a first row naming a known or the chosen column).
    """
    data = _read_text(path)
    text, bad = _decode(data)
    if delimiter is None:
        delimiter = "\t" if str(path).endswith((".tsv", ".tsv.bz2")) else _sniff_delimiter(text)
    rows = _csv_rows(text, delimiter, path)
    first = [c.strip().lower() for c in rows[0][1]]
    text_column, label_column = (int(c) if isinstance(c, str) and c.isdigit() else c
                                 for c in (text_column, label_column))
    if header is None:
        header = any(c in _TEXT_NAMES + _LABEL_NAMES for c in first) or \
            (isinstance(text_column, str) or isinstance(label_column, str))
    columns = first if header else []
    text_at = _column(text_column, columns, _TEXT_NAMES, 0, "text_column", path, len(first))
    label_at = _column(label_column, columns, _LABEL_NAMES, len(first) - 1, "label_column", path, len(first))
    if len(first) < 2:
        raise DataError(f"{path}: the first row has one column (delimiter {delimiter!r}); a labelled file needs a "
                        "text column and a label column")
    if text_at == label_at:
        raise DataError(f"{path}: the text and the label would both be column {text_at}")
    texts, names, where, problems = [], [], [], []
    for number, row in rows[1:] if header else rows:
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) <= max(text_at, label_at):
            problems.append(f"{path}:{number}: expected at least {max(text_at, label_at) + 1} columns, got {len(row)}")
        elif not row[text_at].strip():
            problems.append(f"{path}:{number}: empty text")
        else:
            texts.append(row[text_at])
            names.append(row[label_at].strip())
            where.append(f"{path}:{number}")
    ids, keep, label_names = _label_index(names, labels, where, problems)
    def described(role, at, choice):
        return f"{role}: column {repr(columns[at]) if header else at} ({'guessed' if choice is None else 'chosen'})"

    dataset = TextDataset([texts[k] for k in keep], ids, label_names, str(path), problems=problems,
                          decode_errors=int(bad), columns=f"{described('text', text_at, text_column)}, "
                                                          f"{described('label', label_at, label_column)}")
    return _finish(dataset, strict)


def _csv_rows(text, delimiter, path):
    """``[(line number where the row starts, fields)]``, parsed strictly: a quote that is never closed (or
    closed in the wrong place) is a :class:`DataError` naming the line where the row began, never a field
    that swallows the rows after it."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    rows, start = [], 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise DataError(f"{path}:{start}: a quote opened in this row is never closed (the "
                            f"{reader.line_num - start} lines after it would be read as one field); fix or remove "
                            "that quote") from None
        raise DataError(f"{path}:{start}: the quoting of this row is broken ({exc}; lines {start}-{reader.line_num}"
                        " were read as one row); fix the quotes") from None
    return rows


def _sniff_delimiter(text):
    try:
        return csv.Sniffer().sniff(text[:20000], delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def _column(choice, header, known, default, name, path, width):
    if isinstance(choice, int):
        if not 0 <= choice < width:
            raise DataError(f"{path}: {name} {choice}: expected a column number in [0, {width - 1}] "
                            f"(the first row has {width} columns)")
        return choice
    if isinstance(choice, str):
        if choice.lower() not in header:
            raise DataError(f"{path}: {name} {choice!r} is not among the header's columns {header}")
        return header.index(choice.lower())
    for candidate in known:
        if candidate in header:
            return header.index(candidate)
    return default


def sentiment_phrases(split="train"):
    """The embedded negation set (see :mod:`rnnscratch.data.phrases`) as a dataset: 0 = neg, 1 = pos."""
    texts, labels = phrase_rows(split)
    return TextDataset(texts, labels, ["neg", "pos"], f"embedded:sentiment_phrases:{split}")
