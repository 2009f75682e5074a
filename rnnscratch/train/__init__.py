"""Training: BPTT strategies, the trainer loop, checkpoints."""
from .bptt import TruncatedBPTT, full_bptt, tbptt_classify, tbptt_stream

__all__ = ["TruncatedBPTT", "full_bptt", "tbptt_stream", "tbptt_classify"]
