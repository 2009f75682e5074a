"""Training: BPTT strategies, the trainer loop, checkpoints."""
from .bptt import TruncatedBPTT, full_bptt, tbptt_classify, tbptt_stream
from .checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from .trainer import NonFiniteError, Trainer

__all__ = ["TruncatedBPTT", "full_bptt", "tbptt_stream", "tbptt_classify", "Trainer", "NonFiniteError",
           "save_checkpoint", "load_checkpoint", "Checkpoint", "CheckpointError"]
