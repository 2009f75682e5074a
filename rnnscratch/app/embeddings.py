"""Pretrained word vectors for a training run: ``--embeddings FILE`` and ``--freeze-embeddings``.

The vector file (GloVe or word2vec text format, plain or ``.gz``: :mod:`rnnscratch.data.vectors`) sets
the embedding size when ``--embed`` is unset and must agree with it otherwise; its vectors replace the
model's initial embedding rows of the vocabulary words it holds (the others keep their random
initialisation and are learned, unless the table is frozen). Every error names the option.
"""
from __future__ import annotations

import warnings

from .. import backend
from ..data import DataError, load_word_vectors, vector_file_dimension

LOW_COVERAGE = 0.5           # below this share of the vocabulary found, a warning: the wrong file or tokenizer?


def _named(exc) -> DataError:
    """The loader's error (``FILE:LINE: why``) as the option's: ``--embeddings FILE:LINE: why``."""
    return DataError(f"--embeddings {exc}")


def vectors_dimension(path) -> int:
    """The dimension of the vectors in ``path`` (``DataError`` naming ``--embeddings`` when unreadable)."""
    try:
        return vector_file_dimension(path)
    except DataError as exc:
        raise _named(exc) from None


def prepare_embedding(model, vocab, config) -> list:
    """Apply ``config.embeddings`` / ``config.freeze_embeddings`` to a freshly built ``model``; returns the
    summary lines to print. A resumed run takes its embedding, and the flag, from the checkpoint instead."""
    if not config.embeddings:
        return []
    if config.resume:
        return [f"embeddings: as in {config.resume} (initialised from {config.embeddings})"]
    return [use_pretrained(model, vocab, config.embeddings, config.freeze_embeddings)]


def use_pretrained(model, vocab, path, freeze=False) -> str:
    """Fill ``model.embedding``'s rows with the vectors of ``path`` for the words of ``vocab`` (and freeze the
    table when ``freeze``); returns the coverage line ``"embeddings: 9,812 of 10,000 vocabulary words found
    in FILE (98.1%)"``. Warns when less than :data:`LOW_COVERAGE` of the words are found."""
    weight = model.embedding.weight
    try:
        table, coverage = load_word_vectors(path, vocab, init=backend.to_numpy(weight.data))
    except DataError as exc:
        raise _named(exc) from None
    weight.data[...] = backend.array_module(w=weight.data).asarray(table)
    weight.requires_grad = not freeze
    if coverage.fraction < LOW_COVERAGE:
        shown = ", ".join(coverage.missing_examples)
        warnings.warn(f"--embeddings: only {coverage} (missing, for example: {shown}); vectors of another "
                      "language, or another tokenizer?", stacklevel=2)
    lowercase = f", {coverage.lowercase:,} of them by their lowercase form" if coverage.lowercase else ""
    return f"embeddings: {coverage}{lowercase}" + ("; frozen" if freeze else "")
