"""Training: BPTT strategies, the trainer loop, checkpoints."""
from .bptt import TruncatedBPTT, tbptt_classify, tbptt_stream
from .checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from .trainer import NonFiniteError, Trainer

__all__ = ["TruncatedBPTT", "tbptt_stream", "tbptt_classify", "Trainer", "NonFiniteError",
           "save_checkpoint", "load_checkpoint", "Checkpoint", "CheckpointError"]
