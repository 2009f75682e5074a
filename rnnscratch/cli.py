"""The command line: ``rnnscratch COMMAND [options]`` (also ``python -m rnnscratch``).

Commands: train, evaluate, predict, sample, translate, plot, gradcheck, bench. Every error ends with one line on stderr
naming the cause, never a traceback (``rnnscratch --debug COMMAND`` adds it): exit status 2 when the
input is refused (an option out of range, a missing or malformed file, a data set a classifier cannot
learn from, a damaged or non-finite checkpoint, an output folder in use or holding another run's
results), 1 when the job fails while running (training diverged, a write failed, an unexpected error).
Warnings are one line each too. Nothing in the library imports this module.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
import traceback
import warnings

from . import __version__, backend
from .app import inference, plots, selfcheck, training
from .app.config import (DATA_DEFAULTS, FORMATS, LABELLED_FORMATS, LEGACY_TASKS, NAMED_SOURCES, SCHEDULES,
                         TASK_DEFAULTS, TASKS, ConfigError, TrainConfig, read_settings)
from .app.run_folder import describe_results
from .data import TOKENIZERS
from .functional.cells import CELL_NAMES
from .gradcheck import DEFAULT_TOLERANCE
from .nn.models import POOLINGS
from .nn.seq2seq import ATTENTIONS
from .optim import OPTIMIZERS

EXIT_FAILED = 1          # the job ran and failed: training diverged, a write failed, an unexpected error
EXIT_BAD_INPUT = 2       # refused: an option, a file, a data set, a checkpoint or an output folder
EXIT_INTERRUPTED = 130


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows each option's default, except an unset one (None) whose help says what it means."""

    def _get_help_string(self, action):
        if action.default is None or "(default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _with_task_defaults(parser):
    """Append to the help of each option whose default depends on the task its default per task,
    e.g. ``(default: classify 64, lm 256)`` (from :data:`~rnnscratch.app.config.TASK_DEFAULTS`)."""
    for action in parser._actions:
        per_task = {task: table[action.dest] for task, table in TASK_DEFAULTS.items() if action.dest in table}
        if per_task and all(v is None for v in per_task.values()):
            continue
        if per_task:
            shown = ", ".join(f"{task} {v}" for task, v in per_task.items())
            action.help = f"{action.help or ''} (default: {shown})".strip()


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _task_name(text):
    """A ``--task`` value; the names of earlier versions (``sentiment``, ``names``, ``charlm``) still work
    (``train`` warns, :func:`_warn_legacy_task`)."""
    return LEGACY_TASKS.get(text, text)


def _warn_legacy_task(argv):
    """Warn when ``argv`` names the task by an earlier version's name (``--task charlm``: today's ``lm``)."""
    for k, arg in enumerate(argv):
        old = argv[k + 1] if arg == "--task" and k + 1 < len(argv) else arg.partition("--task=")[2]
        if old in LEGACY_TASKS:
            warnings.warn(f"--task {old} is now called --task {LEGACY_TASKS[old]}", stacklevel=2)


def _non_negative_float(text):
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


# -- train ---------------------------------------------------------------------------------------
def _cmd_train(args) -> int:
    _warn_legacy_task(args.train_argv)
    given = _given_options(args)
    if args.config and args.resume:
        raise ConfigError("--config and --resume: a resumed run takes its options from its checkpoint; give one")
    if args.resume:
        config = training.resumed_config(args.resume, **{k: v for k, v in given.items() if k != "resume"})
    else:
        config = TrainConfig(**{**(read_settings(args.config) if args.config else {}), **given})
    metrics = training.train(config)
    config = config.resolved()                # where the run went (train resolved its own copy)
    print(_result_line(metrics))
    print("\n".join(describe_results(config.out, config.task)))
    return 0


def _result_line(metrics) -> str:
    """The run's result in one line: the test part's metrics, else the validation part's, else training time."""
    done = (f"({metrics['epochs']} epochs, {metrics['steps']} steps, {metrics['train_seconds']:.1f} s, "
            f"{metrics['tokens_per_second']:.0f} tokens/s)")
    part = next((p for p in ("test", "val") if f"{p}_loss" in metrics), None)
    if part is None:
        return f"trained, with no validation or test part to measure  {done}"
    name, m = {"test": "test", "val": "validation"}[part], {k[len(part) + 1:]: v for k, v in metrics.items()
                                                            if k.startswith(part + "_")}
    if "accuracy" in m:
        return f"{name} accuracy {100 * m['accuracy']:.2f}%  {name} loss {m['loss']:.4f}  {done}"
    if "exact_match" in m:
        return (f"{name} exact match {100 * m['exact_match']:.2f}%  token accuracy {100 * m['token_accuracy']:.2f}%  "
                f"{name} loss {m['loss']:.4f}  {done}")
    return f"{name} loss {m['loss']:.4f} nats/token (perplexity {m['perplexity']:.2f})  {done}"


def _given_options(args) -> dict:
    """The :class:`TrainConfig` options given on the command line (not left at their defaults), by name:
    what overrides a --config file or a resumed run's recorded options."""
    parser = args.train_parser
    saved = {action.dest: action.default for action in parser._actions}
    try:
        for action in parser._actions:
            action.default = argparse.SUPPRESS
        explicit, _ = parser.parse_known_args(args.train_argv)
    finally:
        for action in parser._actions:
            action.default = saved[action.dest]
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    return {name: value for name, value in vars(explicit).items() if name in fields}


def _task_defaults_text():
    tables = [(task, table) for task, table in TASK_DEFAULTS.items()]
    tables += [(f"{task} --data {data}", table) for (task, data), table in DATA_DEFAULTS.items()]
    return "\n".join(f"  {name}: " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in table.items() if v is not None)
                     for name, table in tables)


def _add_train(sub):
    d = TrainConfig()                       # the defaults that do not depend on the task
    p = sub.add_parser("train", formatter_class=_Formatter, help="train a model (default: the embedded sentiment set)",
                       description="Train a classifier (sentiment over words, names over characters) or a "
                       "language model.\n\n"
                       "examples:\n  rnnscratch train                                  # embedded phrases, vanilla RNN\n"
                       "  rnnscratch train --data imdb --model lstm --bptt 50 --hidden 256 --embed 100\n"
                       "  rnnscratch train --task lm --data tinyshakespeare --steps 1000\n"
                       "  rnnscratch train --task classify --tokenizer char --data data/names/ --model gru --hidden 128\n"
                       "  rnnscratch train --task seq2seq --data dates       # then: rnnscratch translate "
                       "runs/seq2seq/best.npz 'sep 27, 1994'\n\n"
                       "Options whose default depends on the task:\n" + _task_defaults_text())
    g = p.add_argument_group("data")
    g.add_argument("--task", choices=TASKS, default=d.task, type=_task_name,
                   help="classify: many-to-one over words (sentiment) or, with --tokenizer char, characters "
                        "(names); lm: language model; seq2seq: encoder-decoder from source to target texts")
    g.add_argument("--data", help=f"a named source ({', '.join(NAMED_SOURCES)}: 'embedded' is the shipped negation "
                                  "phrases; addition and dates are generated seq2seq tasks) or a path (CSV/TSV "
                                  "text+label, fastText __label__ file, one-file-per-class folder, IMDB "
                                  "archive/folder, plain text for lm, source<TAB>target or 2-column CSV for seq2seq)")
    g.add_argument("--format", choices=FORMATS, help="force the format of --data instead of detecting it from the path")
    g.add_argument("--text-column", help="CSV/TSV: the text column, a header name or a 0-based number "
                                         "(None: guessed from the header, else column 0)")
    g.add_argument("--label-column", help="CSV/TSV: the label column, a header name or a 0-based number "
                                          "(None: guessed from the header, else the last column)")
    g.add_argument("--test-data", help="a separate labelled test file (else the source's own test split or a "
                                       "seeded held-out part of --data)")
    g.add_argument("--test-format", choices=LABELLED_FORMATS, help="format of --test-data")
    g.add_argument("--test-split", type=float,
                   help="held-out test fraction, in [0, 1), for sources without a test split (None: 0.2, or 0 "
                        "with --test-data; 0: no test part)")
    g.add_argument("--val-split", type=float, help="validation fraction taken from the training data, in [0, 1) "
                                                   "(lm: the last part of the text; classify, None: 0.1 when that "
                                                   "is 100 examples or more, else 0: too few to choose a model "
                                                   "by, so training uses all and keeps the last weights)")
    g.add_argument("--tokenizer", choices=tuple(TOKENIZERS), help="how texts become tokens")
    g.add_argument("--max-len", type=int, help="classify: keep at most the last N tokens of each "
                                               "text; lm: the sequence length of a batch; seq2seq: the longest "
                                               "target in tokens (a longer one is an error naming its line)")
    g.add_argument("--vocab-size", type=int, default=d.vocab_size, help="largest vocabulary (specials included)")
    g.add_argument("--min-freq", type=int, default=d.min_freq, help="drop tokens seen fewer times than this")
    g.add_argument("--limit", type=int, help="use only N examples (classify), characters (lm) or training pairs "
                                             "(seq2seq): smoke runs")
    g = p.add_argument_group("model")
    g.add_argument("--model", choices=CELL_NAMES, help="recurrent cell")
    g.add_argument("--layers", type=int, help="stacked recurrent layers")
    g.add_argument("--hidden", type=int, help="hidden size H")
    g.add_argument("--embed", type=int, help="embedding size (lm: 0 feeds one-hot tokens)")
    g.add_argument("--bidirectional", action="store_true", help="read sequences both ways (classify; seq2seq: "
                                                                 "the encoder)")
    g.add_argument("--dropout", type=float, default=d.dropout, help="dropout between layers and before the head")
    g.add_argument("--pooling", choices=POOLINGS, help="classifier pooling over time (None: last with truncated "
                                                     "BPTT, which classifies from the last state, else mean)")
    g.add_argument("--embeddings", metavar="FILE",
                   help="initialise the embedding from pretrained word vectors: GloVe or word2vec text format, "
                        "plain or .gz (e.g. glove.6B.100d.txt.gz); --embed defaults to their dimension; words "
                        "the file lacks keep a random vector")
    g.add_argument("--freeze-embeddings", action="store_true",
                   help="keep the --embeddings vectors fixed during training (only the rest of the model learns)")
    _add_seq2seq_train_options(p)
    g = p.add_argument_group("training")
    g.add_argument("--bptt", type=int, help="truncated BPTT with k1 = k2 = K (default: full BPTT)")
    g.add_argument("--k1", type=int, help="truncated BPTT: update every k1 steps ...")
    g.add_argument("--k2", type=int, help="... backpropagating k2 >= k1 steps")
    g.add_argument("--clip", type=float, help="clip the global gradient norm to this (0: no clipping)")
    g.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default=d.optimizer, help="the update rule")
    g.add_argument("--lr", type=float, help="learning rate (finite, > 0)")
    g.add_argument("--weight-decay", type=float, default=d.weight_decay, help="L2 weight decay (decoupled for adamw)")
    g.add_argument("--schedule", choices=SCHEDULES, default=d.schedule, help="learning-rate schedule per epoch")
    g.add_argument("--epochs", type=int, help="passes over the training data (with --steps alone: as many as "
                                               "the steps take; classify, None: 12, or more so that training "
                                               "takes at least 500 optimizer steps on small data)")
    g.add_argument("--steps", type=int, help="train exactly this many optimizer steps (or fewer, when --epochs "
                                              "ends first)")
    g.add_argument("--batch-size", type=int, help="sequences per batch")
    g.add_argument("--patience", type=int, help="early stopping: epochs without a better validation loss")
    g.add_argument("--seed", type=int, default=d.seed, help="seeds initialisation, dropout, splits and batch order")
    g = p.add_argument_group("machine and output")
    g.add_argument("--backend", choices=backend.BACKENDS,
                   help="array library (cupy needs a GPU; None: $RNNSCRATCH_BACKEND, else numpy)")
    g.add_argument("--dtype", choices=backend.FLOAT_DTYPES, help="float dtype (None: $RNNSCRATCH_DTYPE, else float32)")
    g.add_argument("--out", help="output folder: checkpoints, settings.json (every option of the run), vocab.json, "
                                 "history.json/csv, history.png, metrics.json "
                                 "(default runs/<task>; with --resume, the checkpoint's folder). One run at a "
                                 "time: a second run on a folder in use is refused, and so is a new run into a "
                                 "folder holding an earlier run's results, unless --overwrite")
    g.add_argument("--overwrite", action="store_true",
                   help="replace the results (checkpoints, history, metrics) of an earlier run in --out; they "
                        "are deleted when the new run starts")
    g.add_argument("--resume", help="continue a run: a run folder (its interrupted.npz, else last.npz) or a "
                                    "checkpoint, in its folder, with the options recorded in it; no other flag "
                                    "is needed (--epochs, --steps, --patience, --log-every, --quiet, --backend "
                                    "may change)")
    g.add_argument("--config", help="train with the options of a settings file (a run folder's settings.json); "
                                    "options given on the command line override it")
    g.add_argument("--quiet", action="store_true", help="no progress output (no bars, lines or per-epoch "
                                                        "reports); the result and the closing message remain")
    g.add_argument("--log-every", type=int, metavar="N",
                   help="history.json gets a row every N optimizer steps (training loss since the previous row, "
                        "learning rate, time), besides one per epoch. Progress: on a terminal, a bar per epoch and "
                        "per evaluation with the total, ETA, loss, accuracy or perplexity and tokens/s; when "
                        "stderr is not a terminal (a log file, CI), a plain line every N steps instead, and one "
                        "every 10 s of a long evaluation. None: about 10 rows an epoch, at most 50 steps apart")
    _with_task_defaults(p)
    p.set_defaults(func=_cmd_train, train_parser=p)


def _add_seq2seq_train_options(p):
    g = p.add_argument_group("sequence to sequence (--task seq2seq)",
                             "addition/dates: 45,000 generated training pairs (or --limit), and held out apart from "
                             "them a ninth as many for the test and as many again for validation (none with "
                             "--val-split 0); a pairs file is split by --test-split and --val-split")
    g.add_argument("--target-tokenizer", choices=tuple(TOKENIZERS), help="how targets become tokens (None: as "
                                                                         "--tokenizer)")
    g.add_argument("--attention", choices=ATTENTIONS, help="none: the encoder's last state only; additive "
                                                           "(Bahdanau), dot or general (Luong)")
    g.add_argument("--reverse-source", action=argparse.BooleanOptionalAction,
                   help="read each source last token first (None: yes for seq2seq)")
    g.add_argument("--input-feeding", action="store_true", help="feed the previous attention context to the "
                                                                "decoder with each input")


# -- evaluate / predict / sample / translate / gradcheck / bench ---------------------------------
def _cmd_evaluate(args) -> int:
    m = inference.evaluate(args.checkpoint, data=args.data, fmt=args.format, split=args.split, quiet=args.quiet)
    if "exact_match" in m:
        print(f"exact match {100 * m['exact_match']:.2f}%  token accuracy {100 * m['token_accuracy']:.2f}%  "
              f"loss {m['loss']:.4f} nats/token  ({m['examples']} pairs)")
    elif "accuracy" in m:
        print(f"accuracy {100 * m['accuracy']:.2f}%  loss {m['loss']:.4f}  ({m['examples']} examples)\n")
        print(inference.format_confusion(m["confusion"], m["labels"]))
    else:
        print(f"loss {m['loss']:.4f} nats/token  perplexity {m['perplexity']:.2f}")
    return 0


def _read_texts(args, keep_blank=False) -> list:
    """The texts of ``predict`` and ``translate``: the TEXT arguments (``-``: the lines of standard input), then
    the lines of ``--file`` (``-``: standard input); with neither, standard input when it is not a terminal.
    Blank lines of a file or of standard input are skipped, unless ``keep_blank`` (one output line per input
    line)."""
    def lines_of(name):
        if name == "-":
            lines = sys.stdin.read().splitlines()
        else:
            try:
                with open(name, encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except FileNotFoundError:
                raise ConfigError(f"--file {name}: no such file") from None
            except UnicodeDecodeError as exc:
                raise ConfigError(f"--file {name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        return lines if keep_blank else [line for line in lines if line.strip()]

    texts = []
    for text in args.text:
        texts += lines_of("-") if text == "-" else [text]
    if args.file:
        texts += lines_of(args.file)
    if not args.text and not args.file:
        if sys.stdin.isatty():
            raise ConfigError("no text: give TEXT arguments, --file FILE, or texts on standard input (--file -)")
        texts = lines_of("-")
    if not texts:
        where = f"--file {args.file}" if args.file and args.file != "-" else "standard input"
        raise ConfigError(f"{where}: no text in it (only blank lines)")
    return texts


def _cmd_predict(args) -> int:
    texts = _read_texts(args)
    for text, (label, p, _) in zip(texts, inference.predict(args.checkpoint, texts)):
        print(f"{label}\t{p:.4f}\t{text}")
    return 0


def _cmd_plot(args) -> int:
    print(f"curves of {args.run_dir} drawn into {plots.plot_run(args.run_dir, args.out, args.overwrite)}")
    return 0


def _cmd_sample(args) -> int:
    print(inference.sample(args.checkpoint, args.prefix, args.length, args.temperature, args.top_k, args.seed))
    return 0


def _cmd_translate(args) -> int:
    texts = _read_texts(args, keep_blank=True)
    for translation in inference.translate(args.checkpoint, texts, beam=args.beam, length_penalty=args.length_penalty):
        print(translation.text)
    return 0


def _add_translate(sub):
    p = sub.add_parser("translate", formatter_class=_Formatter, help="translate texts with a seq2seq model",
                       description="Translate each TEXT (or each line of stdin with '-', or of --file) with a "
                                   "trained sequence-to-sequence model; prints one line per input, in order.")
    p.add_argument("checkpoint", help="a run folder of `rnnscratch train --task seq2seq` (its best.npz, else "
                                      "last.npz) or a checkpoint")
    p.add_argument("text", nargs="*", help="texts to translate (quote each); '-' reads lines from stdin")
    p.add_argument("--file", help="also translate every line of this UTF-8 file")
    p.add_argument("--beam", type=_positive_int, help="beam search of this width (default: greedy search)")
    p.add_argument("--length-penalty", type=_non_negative_float, default=1.0,
                   help="beam search ranks score / length ** this (0: raw log probability)")
    p.set_defaults(func=_cmd_translate)


def _cmd_gradcheck(args) -> int:
    start = time.perf_counter()
    reports = selfcheck.run_all(seed=args.seed, T=args.steps, B=args.batch, I=args.input_size, H=args.hidden)
    print(f"Gradient check, float64 central differences (T={args.steps}, B={args.batch}, "
          f"I={args.input_size}, H={args.hidden}, seed={args.seed}, tolerance {DEFAULT_TOLERANCE:.0e})\n")
    print(selfcheck.format_table(reports))
    failed = [name for name, r in reports.items() if not r.passed()]
    print(f"\n{len(reports) - len(failed)}/{len(reports)} passed in {time.perf_counter() - start:.1f} s")
    for name in (reports if args.verbose else failed):
        print(f"\n{name}\n{reports[name]}")
    return 1 if failed else 0


def _cmd_bench(args) -> int:
    from .app.bench import run_suite
    return run_suite(quick=args.quick, libraries=args.libraries, out_dir=args.out, rounds=args.rounds,
                           cells=args.cells, plot=not args.no_plot, dtypes=args.dtypes)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnnscratch", formatter_class=_Formatter,
                                     description="Recurrent networks from scratch in NumPy/CuPy: train, check, use "
                                                 "and benchmark them.",
                                     epilog="An error ends with one line naming its cause; exit status 2: the input "
                                            "was refused, 1: the job failed while running, 130: interrupted.")
    parser.add_argument("--version", action="version", version=f"rnnscratch {__version__}")
    parser.add_argument("--debug", action="store_true", help="on an error, also print the traceback (for bug reports)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_train(sub)
    p = sub.add_parser("evaluate", formatter_class=_Formatter, help="accuracy/loss (or perplexity) of a checkpoint",
                       description="Evaluate a trained model on a split of its own data (recorded in the "
                                   "checkpoint) or of --data; classifiers also print a confusion matrix, "
                                   "sequence-to-sequence models the exact match and per-token accuracy.")
    p.add_argument("checkpoint", help="a run folder of `rnnscratch train` (its best.npz, else last.npz) or a "
                                      "checkpoint in it (e.g. runs/classify/best.npz)")
    p.add_argument("--data", help="evaluate on this source instead of the one the model was trained on")
    p.add_argument("--format", choices=FORMATS)
    p.add_argument("--split", choices=inference.SPLITS, default="test",
                   help="which split (lm: test means the held-out end of the text)")
    p.add_argument("--quiet", action="store_true", help="no progress output (a bar on a terminal, else a line "
                                                        "every 10 s)")
    p.set_defaults(func=_cmd_evaluate)
    p = sub.add_parser("predict", formatter_class=_Formatter, help="label and probability for texts",
                       description="Classify each TEXT (or each line of --file, or of standard input) with a "
                                   "trained classifier; prints label, probability, text, one line per text. Warns "
                                   "when most words of a text are unknown to the model's vocabulary.")
    p.add_argument("checkpoint", help="a run folder (its best.npz, else last.npz) or a checkpoint")
    p.add_argument("text", nargs="*", help="one or more texts (quote each); '-' reads lines from stdin")
    p.add_argument("--file", help="also read texts from this file, one per line (-: standard input)")
    p.set_defaults(func=_cmd_predict)
    p = sub.add_parser("sample", formatter_class=_Formatter, help="generate text with a language model",
                       description="Generate text from a trained language model, continuing --prefix.")
    p.add_argument("checkpoint", help="a run folder (its best.npz, else last.npz) or a checkpoint")
    p.add_argument("--prefix", default="\n", help="text to start from")
    p.add_argument("--length", type=_positive_int, default=300, help="tokens to generate")
    p.add_argument("--temperature", type=_non_negative_float, default=0.8,
                   help="softmax temperature; 0 = always the most likely")
    p.add_argument("--top-k", type=_positive_int, help="sample only among the k most likely tokens")
    p.add_argument("--seed", type=int, help="makes the sample reproducible")
    p.set_defaults(func=_cmd_sample)
    p = sub.add_parser("plot", formatter_class=_Formatter, help="draw a run's training curves (PNG)",
                       description="Draw the loss and the accuracy (classifiers) or perplexity (language models) "
                                   "of a training run, finished or interrupted, against optimizer steps, from "
                                   "its history.json. Needs matplotlib: pip install 'rnnscratch[plot]'.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="the --out folder of a training run (e.g. runs/classify)")
    p.add_argument("--out", metavar="FILE.png", help="where to write the PNG (default: RUN_DIR/history.png, "
                                                      "redrawn from the same history)")
    p.add_argument("--overwrite", action="store_true", help="replace --out FILE.png when it exists")
    p.set_defaults(func=_cmd_plot)
    _add_translate(sub)
    g = sub.add_parser("gradcheck", formatter_class=_Formatter, help="prove every backward pass against finite differences",
                       description=f"Gradient-check every registered recurrent cell ({', '.join(CELL_NAMES)}; "
                                   "with and without variable lengths), linear, embedding, dropout and both "
                                   "losses in float64, and print one row per function. Exit status 1 if any "
                                   "check fails.")
    g.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    g.add_argument("--steps", type=_positive_int, default=6, help="sequence length T")
    g.add_argument("--batch", type=_positive_int, default=3, help="batch size B")
    g.add_argument("--input-size", type=_positive_int, default=4, help="input features I")
    g.add_argument("--hidden", type=_positive_int, default=5, help="hidden size H")
    g.add_argument("-v", "--verbose", action="store_true", help="print every array's error, not only failures")
    g.set_defaults(func=_cmd_gradcheck)
    b = sub.add_parser("bench", formatter_class=_Formatter, help="forward+backward speed against PyTorch",
                       description="Time RNN/LSTM/GRU forward+backward for NumPy (and CuPy, PyTorch CPU/CUDA when "
                                   "present), each library in its own process, rounds alternated; print a table "
                                   "and write JSON/CSV (and a PNG) to --out.")
    b.add_argument("--quick", action="store_true", help="tiny shapes, one round: checks the suite runs")
    b.add_argument("--libraries", help="comma-separated subset of numpy,cupy,torch,torch-cuda (default: all present)")
    b.add_argument("--cells", default="rnn,lstm,gru", help="comma-separated cells")
    b.add_argument("--dtypes", default=",".join(backend.FLOAT_DTYPES), help="comma-separated dtypes")
    b.add_argument("--rounds", type=_positive_int, default=5, help="alternating rounds per library")
    b.add_argument("--out", default=os.path.join("benchmarks", "results"), help="folder for the result files")
    b.add_argument("--no-plot", action="store_true", help="skip the PNG")
    b.set_defaults(func=_cmd_bench)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if args.command == "train":               # what follows the command: to tell given options from defaults
        args.train_argv = argv[argv.index("train") + 1:]
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = lambda message, *_, **__: print(f"rnnscratch {args.command}: warning: {message}",
                                                               file=sys.stderr)
        try:
            backend.check_environment()
            return args.func(args)
        except KeyboardInterrupt:
            print(f"rnnscratch {args.command}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except Exception as exc:                  # noqa: BLE001 - every error gets its one line
            status, message = explain(exc)
            if args.debug:
                traceback.print_exc()
            print(f"rnnscratch {args.command}: error: {message}", file=sys.stderr)
            return status


def explain(exc) -> tuple:
    """``(exit status, one-line message)`` for an exception that ends a command."""
    from .data import DataError, DownloadError
    from .train import CheckpointError, NonFiniteError
    if isinstance(exc, NonFiniteError):
        return EXIT_FAILED, f"training stopped: {exc}"
    if isinstance(exc, plots.PlotExtraMissing):
        return EXIT_BAD_INPUT, str(exc)
    if isinstance(exc, KeyError) and exc.args:
        return EXIT_BAD_INPUT, str(exc.args[0])
    if isinstance(exc, (DataError, DownloadError, CheckpointError, backend.BackendError, FileNotFoundError,
                        ValueError, KeyError)):
        return EXIT_BAD_INPUT, str(exc)
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return EXIT_FAILED, f"could not read or write{where}: {exc.strerror or exc}"
    return EXIT_FAILED, (f"unexpected {type(exc).__name__}: {exc} (a bug? `rnnscratch --debug ...` shows where; "
                         "please report it)")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
