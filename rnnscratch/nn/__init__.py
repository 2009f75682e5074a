"""PyTorch-shaped modules that hold parameters and call the equations in :mod:`rnnscratch.functional`."""
from . import init
from .layers import Dropout, Embedding, Linear, OneHot
from .models import MODELS, LanguageModel, SequenceClassifier, build_model
from .module import Module, Parameter
from .recurrent import GRU, LSTM, RNN, RNNBase, make_recurrent, reverse_within_lengths

__all__ = ["Module", "Parameter", "RNN", "LSTM", "GRU", "RNNBase", "make_recurrent", "reverse_within_lengths",
           "Linear", "Embedding", "Dropout", "OneHot", "SequenceClassifier", "LanguageModel", "build_model",
           "MODELS", "init"]
