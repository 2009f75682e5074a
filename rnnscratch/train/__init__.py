"""Training: BPTT strategies, one object per task, the trainer loop, checkpoints."""
from .bptt import TruncatedBPTT, chunk_steps, tbptt_classify, tbptt_stream
from .checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from .tasks import TASK_NAMES, TASKS, ClassificationTask, LanguageModelTask, Seq2SeqTask, Tally, get_task
from .trainer import NonFiniteError, Position, Trainer

__all__ = ["TruncatedBPTT", "tbptt_stream", "tbptt_classify", "chunk_steps", "Trainer", "Position", "NonFiniteError",
           "save_checkpoint", "load_checkpoint", "Checkpoint", "CheckpointError", "TASKS", "TASK_NAMES",
           "ClassificationTask", "LanguageModelTask", "Seq2SeqTask", "Tally", "get_task"]
