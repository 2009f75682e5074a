"""Training: BPTT strategies, one object per task, the trainer loop, checkpoints, history and progress."""
from .bptt import TruncatedBPTT, chunk_steps, tbptt_classify, tbptt_stream
from .checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from .history import epoch_rows, read_history, step_rows
from .progress import PROGRESS_MODES
from .tasks import TASK_NAMES, TASKS, ClassificationTask, LanguageModelTask, Seq2SeqTask, Tally, get_task
from .trainer import NonFiniteError, Position, Trainer

__all__ = ["TruncatedBPTT", "tbptt_stream", "tbptt_classify", "chunk_steps", "Trainer", "Position", "NonFiniteError",
           "save_checkpoint", "load_checkpoint", "Checkpoint", "CheckpointError", "TASKS", "TASK_NAMES",
           "ClassificationTask", "LanguageModelTask", "Seq2SeqTask", "Tally", "get_task", "read_history", "epoch_rows", "step_rows",
           "PROGRESS_MODES"]
