"""Pretrained word vectors (GloVe, word2vec, fastText ``.vec``) in their text format, mapped onto a :class:`Vocab`.

Two layouts, plain or gzip-compressed (``.gz``, recognised by its first bytes):

* GloVe: one vector per line, ``word v1 v2 ... vd`` (``glove.6B.100d.txt`` from
  https://nlp.stanford.edu/projects/glove/).
* word2vec / fastText text: the same lines after a header line ``count dim`` (``-binary 0`` output of
  word2vec, ``.vec`` files of fastText). The binary ``.bin`` format is not read.

The dimension is the first vector's; every line must have it. A word may itself hold spaces (a few
GloVe 840B tokens do; not the first line's word, which gives the dimension): the numbers are the last
``d`` fields of a line. Only the vectors of vocabulary
words are parsed (a 400,000-word file for a 10,000-word vocabulary reads 10,000 vectors).

:func:`load_word_vectors` builds the embedding table ``(V, d)``: each vocabulary word takes the vector of
the same word in the file, or else of its lowercase form (exact first: ``Apple`` and ``apple`` keep
their own vectors when the file has both); the first occurrence of a word in the file counts. Rows of
words the file lacks keep their initial values (``init``: normally the model's own random
initialisation, so they are learned like any row unless the table is frozen), the padding row is
zero, and ``<unk>`` keeps its initial row. The :class:`VectorCoverage` says how many words were found.

Errors (:class:`~rnnscratch.data.DataError`) name the file, and the line where one is at fault: a missing,
empty or unreadable file, a line with another number of values than the first, a value that is not a
finite number, a word2vec header whose count does not match the lines that follow.
"""
from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass, field

import numpy

from .datasets import DataError
from .vocab import Vocab

MISSING_SHOWN = 5            # the coverage report names this many missing words, the most frequent first
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"           # a UTF-8 byte-order mark, which some editors write first


@dataclass
class VectorCoverage:
    """How much of a vocabulary a vector file covers.

    Attributes:
        path: the vector file.
        found: vocabulary words that got a vector (``lowercase`` of them through their lowercase form).
        missing: vocabulary words that kept their initial row.
        missing_examples: the first :data:`MISSING_SHOWN` missing words, in vocabulary order (the most
            frequent first for a vocabulary built by :meth:`Vocab.build`).
        dim: the vectors' dimension.
    The special tokens (``<pad>``, ``<unk>``) are not words: they are counted in neither.
    """
    path: str
    found: int
    missing: int
    dim: int
    lowercase: int = 0
    missing_examples: list = field(default_factory=list)

    @property
    def words(self) -> int:
        return self.found + self.missing

    @property
    def fraction(self) -> float:
        return self.found / self.words if self.words else 0.0

    def __str__(self):
        """``"9,812 of 10,000 vocabulary words found in FILE (98.1%)"``."""
        return f"{self.found:,} of {self.words:,} vocabulary words found in {self.path} ({100 * self.fraction:.1f}%)"


def _open(path):
    """A binary reader of ``path``, decompressing gzip (by its first bytes, whatever the name)."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    with open(path, "rb") as f:
        gzipped = f.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def _lines(path):
    """``(line number, stripped bytes)`` of the non-blank lines of ``path``; ``DataError`` for a damaged gzip."""
    try:
        with _open(path) as f:
            for number, raw in enumerate(f, 1):
                line = raw.rstrip(b"\r\n ")            # word2vec's own writer ends each line with a space
                if number == 1 and line.startswith(_BOM):
                    line = line[len(_BOM):]
                if line:
                    yield number, line
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"{path}: not a readable gzip file (truncated or damaged: {exc})") from None


def _header(path, number, line):
    """``(count, dim)`` when ``line`` is a word2vec header ``count dim``, else None."""
    fields = line.split()
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        count, dim = int(fields[0]), int(fields[1])
        if dim < 1:
            raise DataError(f"{path}:{number}: the header announces {dim}-dimensional vectors")
        return count, dim
    return None


def _check_text(path, number, line):
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path}:{number}: not UTF-8 text (a binary word2vec .bin file? only the text format "
                        "is read)") from None


def _split(path, number, line, dim):
    """``(word, values)`` (both bytes) of a vector line with ``dim`` values; ``DataError`` otherwise.

    A word may hold spaces (``new york``), but not end in a number: ``cat 1 2 3 4`` with ``dim = 3`` is a
    line with one value too many, not the word ``cat 1``.
    """
    if line.count(b" ") == dim and line[:1] != b" ":     # the common case, without splitting every value
        word, _, values = line.partition(b" ")
        return word, values
    parts = line.rsplit(b" ", dim)
    word = parts[0]
    if len(parts) != dim + 1 or not word.strip() or (b" " in word and _is_float(word.rsplit(b" ", 1)[1])):
        _check_text(path, number, line)          # a binary file fails here first, with its own message
        raise DataError(f"{path}:{number}: expected a word and {dim} numbers (the dimension of the first vector), "
                        f"found {len(line.split())} fields")
    return word, line[len(word) + 1:]


def _vector(path, number, values, dtype):
    """The numbers of ``values`` (bytes, separated by single spaces) as an array of ``dtype``."""
    fields = values.split(b" ")
    try:
        vector = numpy.array(list(map(float, fields)), dtype=dtype)
    except ValueError:
        bad = next(x for x in fields if not _is_float(x))
        raise DataError(f"{path}:{number}: {bad.decode('utf-8', 'replace')!r} is not a number") from None
    if not numpy.isfinite(vector).all():
        raise DataError(f"{path}:{number}: the vector holds NaN or inf")
    return vector


def _is_float(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def vector_file_dimension(path) -> int:
    """The dimension of the vectors in ``path`` (read from its first line or two)."""
    for number, line in _lines(path):
        header = _header(path, number, line)
        if header is not None:
            return header[1]
        values = len(line.split(b" ")) - 1
        if values < 1:
            raise DataError(f"{path}:{number}: expected a word followed by its vector's numbers, found one field")
        return values
    raise DataError(f"{path}: the file is empty (no word vectors)")


def load_word_vectors(path, vocab: Vocab, init=None, seed=0):
    """The embedding table of ``vocab`` from the vectors in ``path``: ``(weight (V, d), VectorCoverage)``.

    ``init (V, d)``: the initial table (a host array, e.g. the model's ``embedding.weight.data``; not
    modified); its rows stay where the file has no vector. None: ``N(0, 1)`` rows (``nn.Embedding``'s
    initialisation) drawn from ``seed``, in float64. The result has ``init``'s dtype; ``vocab.pad_index``'s
    row is zero. ``DataError`` when ``init``'s width is not the file's dimension.
    """
    dim = vector_file_dimension(path)
    if init is None:
        init = numpy.random.default_rng(seed).standard_normal((len(vocab), dim))
    init = numpy.asarray(init)
    if init.shape != (len(vocab), dim):
        raise DataError(f"{path}: holds {dim}-dimensional vectors; the table to fill has shape {init.shape} "
                        f"(expected ({len(vocab)}, {dim}))")
    weight = init.copy()
    specials = {vocab.pad_index, vocab.unk_index}
    exact, lower = {}, {}     # a word of the file (UTF-8 bytes: no line is decoded) -> the rows it may fill
    for row, token in enumerate(vocab.itos):
        if row not in specials:
            exact.setdefault(token.encode("utf-8"), []).append(row)
            lower.setdefault(token.lower().encode("utf-8"), []).append(row)
    found, through_lower = set(), {}            # rows filled by their own word; rows -> their lowercase vector
    count, vectors = None, 0
    for number, line in _lines(path):
        if count is None and vectors == 0:      # the first line: a word2vec header, or already a vector
            header = _header(path, number, line)
            if header is not None:
                count = header[0]
                continue
        vectors += 1
        word, values = _split(path, number, line, dim)
        rows = [r for r in exact.get(word, ()) if r not in found]
        by_lowercase = [r for r in lower.get(word, ()) if r not in found and r not in through_lower]
        if not rows and not by_lowercase:
            continue                             # not a vocabulary word: its numbers are never parsed
        vector = _vector(path, number, values, weight.dtype)
        for r in rows:
            weight[r] = vector
            found.add(r)
        for r in by_lowercase:
            through_lower[r] = vector
    if vectors == 0:
        raise DataError(f"{path}: holds no word vectors after its header")
    if count is not None and count != vectors:
        raise DataError(f"{path}: the header announces {count:,} vectors, the file holds {vectors:,} "
                        "(truncated?)")
    lowercase = [r for r in through_lower if r not in found]       # exact beats lowercase, wherever it came
    for r in lowercase:
        weight[r] = through_lower[r]
    if vocab.pad_index is not None:
        weight[vocab.pad_index] = 0
    missing = [token for r, token in enumerate(vocab.itos)
               if r not in specials and r not in found and r not in through_lower]
    return weight, VectorCoverage(str(path), found=len(found) + len(lowercase), missing=len(missing), dim=dim,
                                  lowercase=len(lowercase), missing_examples=missing[:MISSING_SHOWN])
