"""``rnnscratch.datasets``: the dataset loaders (they live in :mod:`rnnscratch.data.datasets`)."""
from .data.datasets import (IMDB_SHA256, IMDB_URL, TINYSHAKESPEARE_SHA256, TINYSHAKESPEARE_URL, DataError,
                            TextDataset, fasttext_labels, folder_per_class, imdb, sentiment_phrases, text_corpus,
                            text_label_file)

__all__ = ["imdb", "text_corpus", "fasttext_labels", "folder_per_class", "text_label_file", "sentiment_phrases",
           "TextDataset", "DataError", "IMDB_URL", "IMDB_SHA256", "TINYSHAKESPEARE_URL", "TINYSHAKESPEARE_SHA256"]
