"""Data: tokenizers, vocabularies, batching and dataset loaders. Knows no model."""
from .batching import BucketIterator, PairIterator, bucket_batches, pad_sequences, stream_batches
from .datasets import (DataError, TextDataset, fasttext_labels, folder_per_class, imdb, sentiment_phrases,
                       text_corpus, text_label_file)
from .download import DownloadError, cache_dir, fetch, sha256sum
from .parallel import PairEncoder, ParallelDataset, parallel_text
from .synthetic import DATE_FORMATS, SYNTHETIC_TASKS, addition, dates, format_date, synthetic_pairs
from .tokenize import TOKENIZERS, CharTokenizer, WordTokenizer, get_tokenizer
from .vectors import VectorCoverage, load_word_vectors, vector_file_dimension
from .vocab import BOS, EOS, PAD, TARGET_SPECIALS, UNK, Vocab

__all__ = ["CharTokenizer", "WordTokenizer", "get_tokenizer", "TOKENIZERS", "Vocab", "PAD", "UNK", "pad_sequences",
           "BucketIterator", "stream_batches", "imdb", "text_corpus", "fasttext_labels", "folder_per_class",
           "text_label_file", "sentiment_phrases", "TextDataset", "DataError", "DownloadError", "fetch",
           "cache_dir", "sha256sum", "load_word_vectors", "vector_file_dimension", "VectorCoverage", "BOS", "EOS",
           "TARGET_SPECIALS", "PairIterator", "bucket_batches", "ParallelDataset", "parallel_text", "PairEncoder",
           "addition", "dates", "format_date", "DATE_FORMATS", "synthetic_pairs", "SYNTHETIC_TASKS"]
