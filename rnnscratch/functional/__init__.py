"""The equations: pure forward/backward functions, no classes, no state.

``*_forward(...) -> (*outputs, cache)`` and ``*_backward(*d_outputs, cache) -> dict of gradients``
keyed by the forward's argument names. One file per idea: ``rnn``, ``lstm``, ``gru`` (and their registry,
``cells``), ``layers``, ``losses``, ``activations``, ``pooling``, ``sampling``, ``checkpointing``,
``attention``.
"""
from .activations import log_softmax, softmax
from .attention import (SCORES, additive_score_backward, additive_score_forward, attention_backward,
                        attention_forward, context_backward, context_forward, dot_score_backward, dot_score_forward,
                        general_score_backward, general_score_forward, masked_softmax_backward,
                        masked_softmax_forward)
from .cells import CELL_NAMES, CELLS, Cell, get_cell
from .gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .layers import (dropout_backward, dropout_forward, dropout_mask, embedding_backward, embedding_forward,
                     linear_backward, linear_forward)
from .losses import IGNORE_INDEX, binary_cross_entropy_with_logits, sequence_cross_entropy, softmax_cross_entropy
from .pooling import temporal_pool_backward, temporal_pool_forward
from .lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from .sampling import sample_token
from .workspace import Workspace

__all__ = [
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
    "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward",
    "linear_forward", "linear_backward", "embedding_forward", "embedding_backward",
    "dropout_forward", "dropout_backward", "dropout_mask",
    "softmax_cross_entropy", "sequence_cross_entropy", "binary_cross_entropy_with_logits",
    "temporal_pool_forward", "temporal_pool_backward",
    "softmax", "log_softmax", "sample_token", "IGNORE_INDEX",
    "Cell", "CELLS", "CELL_NAMES", "get_cell", "Workspace",
    "dot_score_forward", "dot_score_backward", "general_score_forward", "general_score_backward",
    "additive_score_forward", "additive_score_backward", "masked_softmax_forward", "masked_softmax_backward",
    "context_forward", "context_backward", "attention_forward", "attention_backward", "SCORES",
]
