"""PyTorch-shaped modules that hold parameters and call the equations in :mod:`rnnscratch.functional`."""
from . import init
from .attention import Attention
from .decoding import Decoded, beam_search, greedy_decode
from .layers import Dropout, Embedding, Linear, OneHot
from .models import MODELS, LanguageModel, SequenceClassifier, build_model
from .module import Module, Parameter
from .recurrent import GRU, LSTM, RNN, RNNBase, make_recurrent, reverse_within_lengths
from .seq2seq import ATTENTIONS, Decoder, DecoderState, Encoder, Seq2Seq

__all__ = ["Module", "Parameter", "RNN", "LSTM", "GRU", "RNNBase", "make_recurrent", "reverse_within_lengths",
           "Linear", "Embedding", "Dropout", "OneHot", "SequenceClassifier", "LanguageModel", "build_model",
           "MODELS", "init", "Attention", "Encoder", "Decoder", "DecoderState", "Seq2Seq", "ATTENTIONS",
           "greedy_decode", "beam_search", "Decoded"]
