"""A training run's output folder: one run at a time, and no run's results replaced unasked.

:func:`run_folder` holds the folder for the whole run: it creates it, takes its lock
(:func:`rnnscratch.files.folder_lock`: a second run on the same folder is refused, naming the first one's
pid; the lock of a killed run is taken over), refuses a folder that already holds another run's results
unless ``overwrite`` (then they are deleted, and said so, when the run is ready to start: after its data
and model are built, so a run refused for its data deletes nothing) or the run resumes a checkpoint of
that folder, and sweeps the temporary files that a killed writer left there. A folder it created is removed
again if the run leaves nothing in it (a run refused for its data leaves no empty folder behind).

:func:`describe_results` closes a run: the files it left in the folder and the commands that use them.
"""
from __future__ import annotations

import contextlib
import os
import shlex
import sys
from dataclasses import dataclass

from ..files import FolderInUse, folder_lock, remove_stale_temporaries_in
from .config import ConfigError, same_folder

# What a run writes into its folder: the files that make a folder "hold the results of a run".
RESULT_FILES = ("last.npz", "best.npz", "interrupted.npz", "history.json", "history.csv", "history.png",
                "metrics.json", "settings.json", "vocab.json")


@contextlib.contextmanager
def run_folder(out, resume=None, overwrite=False, quiet=False):
    """Hold the folder ``out`` for one run (see the module's docstring); yields a :class:`RunFolder`.

    ``resume``: the checkpoint the run continues (its own folder's results are the run's, not another's).
    Raises :class:`~rnnscratch.app.config.ConfigError` naming ``--out`` (in use, results there, not a
    folder, not writable) before anything is written.
    """
    created = []
    with contextlib.ExitStack() as stack:
        stack.callback(_remove_if_empty, created)
        _make_folders(out, created)
        try:
            stack.enter_context(folder_lock(out))
        except FolderInUse as exc:
            raise ConfigError(f"--out {out} is in use by another training run ({exc.holder}); wait for it to "
                              "end, or choose another --out") from None
        except PermissionError as exc:
            raise ConfigError(f"--out {out}: cannot write there ({exc.strerror}); choose another --out") from None
        found = [name for name in RESULT_FILES if os.path.exists(os.path.join(out, name))]
        continuing = resume is not None and same_folder(out, os.path.dirname(resume) or ".")
        if found and not continuing:
            if not overwrite:
                raise ConfigError(f"--out {out} already holds the results of a run ({', '.join(found)}); add "
                                  "--overwrite to replace them, --resume a checkpoint of it to continue it, or "
                                  "choose another --out")
        removed = remove_stale_temporaries_in(out, legacy=True)
        if removed and not quiet:
            print(f"removed {len(removed)} temporary file(s) left in {out} by an interrupted writer", file=sys.stderr)
        yield RunFolder(out, [] if continuing else found)


@dataclass
class RunFolder:
    """A held output folder: its ``path`` and the ``earlier`` run's result files that ``overwrite`` replaces."""
    path: str
    earlier: list

    def clear_earlier(self):
        """Delete the earlier run's results (``--overwrite``), saying so; call it when the new run starts."""
        for name in self.earlier:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.path, name))
        if self.earlier:
            print(f"--overwrite: deleted the earlier run's {', '.join(self.earlier)} in {self.path}", file=sys.stderr)
        self.earlier = []


def written_files(out) -> list:
    """The result files (:data:`RESULT_FILES`) present in the folder ``out``, in that order."""
    return [name for name in RESULT_FILES if os.path.isfile(os.path.join(out, name))]


def describe_results(out, task) -> list:
    """The closing lines of a run: the files in ``out`` and the commands that use them (``task``:
    ``"classify"``, ``"lm"`` or ``"seq2seq"``)."""
    files = written_files(out)
    lines = [f"files in {out}: {', '.join(files) if files else 'none'}"]
    checkpoint = next((name for name in ("best.npz", "last.npz", "interrupted.npz") if name in files), None)
    if checkpoint is None:
        return lines
    path = shlex.quote(os.path.join(out, checkpoint))
    use = {"lm": [(f"rnnscratch evaluate {path}", "loss and perplexity on the held-out text"),
                  (f"rnnscratch sample {path} --length 300", "generate text (--prefix: from your own start)")],
           "seq2seq": [(f"rnnscratch evaluate {path}", "exact match and per-token accuracy on the test pairs"),
                       (f"rnnscratch translate {path} 'a source text'", "the model's output (--beam K: beam search)")],
           }.get(task, [(f"rnnscratch evaluate {path}", "accuracy and confusion matrix on the test set"),
                        (f"rnnscratch predict {path} 'a text to classify'", "label and probability")])
    commands = use + [(f"rnnscratch plot {shlex.quote(out)}", "draw the curves of history.json into a PNG")]
    width = max(len(command) for command, _ in commands)
    return lines + ["next:"] + [f"  {command.ljust(width)}  # {why}" for command, why in commands]


def _make_folders(out, created):
    """Create ``out`` and its missing parents, appending each folder made to ``created`` (outermost first)."""
    missing, path = [], os.path.abspath(out)
    while not os.path.exists(path):
        missing.append(path)
        path = os.path.dirname(path)
    if not os.path.isdir(path):
        raise ConfigError(f"--out {out}: {path} is a file, not a folder")
    for folder in reversed(missing):
        try:
            os.mkdir(folder)
        except OSError as exc:
            raise ConfigError(f"--out {out}: cannot create {folder} ({exc.strerror}); choose another --out") from None
        created.append(folder)


def _remove_if_empty(folders):
    for folder in reversed(folders):            # innermost first; a folder with anything in it stays
        with contextlib.suppress(OSError):
            os.rmdir(folder)
