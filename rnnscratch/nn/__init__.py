"""PyTorch-shaped modules that hold parameters and call the equations in :mod:`rnnscratch.functional`."""
from . import init
from .layers import Dropout, Embedding, Linear, OneHot
from .module import Module, Parameter
from .recurrent import GRU, LSTM, RNN, RNNBase, reverse_within_lengths

__all__ = ["Module", "Parameter", "RNN", "LSTM", "GRU", "RNNBase", "Linear", "Embedding", "Dropout", "OneHot",
           "reverse_within_lengths", "init"]
from .models import (MODELS, CharLM, LanguageModel, SequenceClassifier, SequenceTagger, build_model,
                     make_recurrent)

__all__ += ["SequenceClassifier", "LanguageModel", "CharLM", "SequenceTagger", "build_model", "make_recurrent",
            "MODELS"]
