"""Sequence to sequence, ours against PyTorch: the same architecture, initial weights, data and batches,
trained side by side in one process, taking turns every few batches, so that the machine's noise hits both
alike.

Settings ("Deep Learning from Scratch 2", chapter 8, as ``rnnscratch train --task seq2seq``): one LSTM
layer encoder and decoder, embedding 16, Luong dot attention whose context vector is concatenated with
the decoder's output before one Linear (or no attention), Adam 1e-3, batch 128, global-norm clip 5,
reversed source; hidden 256 for dates, 128 for addition. Data: the package's generated task, the 5,000
test pairs that ``rnnscratch train --task seq2seq --data TASK`` tests on and the 45,000 training pairs
drawn after them (that command, which also holds out 5,000 validation pairs, trains on the 45,000 after those),
cut into the same batches in the same order for both: bucketed by source length (the default here), or
plain random batches (``--batching random``: what ``rnnscratch train`` trains on, as DLFS2; on the dates it
learns faster per epoch, since a bucketed batch holds the few formats of one length only). The PyTorch
model (``torch.nn.LSTM`` with packed sources, masked softmax, autograd) starts from our model's initial
weights unless ``--torch-init own``.

Each epoch: both train on the epoch's batches, ``--interleave`` batches at a time each, taking turns
(who goes first alternates); then both are evaluated on the test pairs: exact match of greedily decoded
whole sequences, teacher-forced loss. Whole epochs in turn were not enough on the shared development
machine: other users' jobs come and go within a minute, and one such run measured whichever side went
first 2.5-3 times slower in each of its first three epochs. Both libraries get the same number of
threads (``--threads``: ``torch.set_num_threads`` and NumPy's BLAS through threadpoolctl); on a loaded
2-core machine use 1: two-thread teams whose second thread is descheduled spin and stall.
Writes ``seq2seq-TASK-ATTENTION[-random]-MACHINE.{json,md}`` into ``--out`` and prints the table.

Usage: python benchmarks/seq2seq_compare.py --data dates --epochs 5 --threads 1 [--attention none] [--batching random]
       python benchmarks/seq2seq_compare.py --quick --out /tmp/x     (tiny sizes: checks the script runs)
"""
import argparse
import json
import os
import sys
import time

import numpy

from rnnscratch import nn, optim
from rnnscratch.app.bench.machine import blas_info, machine_name
from rnnscratch.app.data import load_pairs, pair_batches
from rnnscratch.data import PairEncoder
from rnnscratch.files import atomic_write
from rnnscratch.functional.losses import IGNORE_INDEX
from rnnscratch.train import Seq2SeqTask, Tally, Trainer

HERE = os.path.dirname(os.path.abspath(__file__))
HIDDEN = {"dates": 256, "addition": 128}          # DLFS2's sizes, the CLI's defaults (config.DATA_DEFAULTS)
QUICK = dict(limit=600, hidden=16, epochs=2, batch_size=64)


def torch_seq2seq(torch, src_vocab_size, tgt_vocab_size, embed, hidden, attention):
    """The same model in PyTorch, with our parameter names (state dicts pass straight through).

    Returns ``(model, forward, greedy)``: ``forward(src, lengths, tgt_in) -> logits (T, B, V)``;
    ``greedy(src, lengths, bos, eos, max_len) -> list of token-id lists`` (without ``<eos>``), batched,
    each stopping at its first ``<eos>``. ``src (S, B)`` is sorted longest source first (as our batches are).
    """
    tnn = torch.nn

    class Part(tnn.Module):
        pass

    model = tnn.Module()
    model.encoder, model.decoder = Part(), Part()
    enc, dec = model.encoder, model.decoder
    enc.embedding, dec.embedding = tnn.Embedding(src_vocab_size, embed), tnn.Embedding(tgt_vocab_size, embed)
    enc.rnn, dec.rnn = tnn.LSTM(embed, hidden), tnn.LSTM(embed, hidden)
    dec.head = tnn.Linear(hidden * (1 if attention == "none" else 2), tgt_vocab_size)

    def encode(src, lengths):
        packed = tnn.utils.rnn.pack_padded_sequence(enc.embedding(src), lengths, enforce_sorted=True)
        memory, state = enc.rnn(packed)
        memory, _ = tnn.utils.rnn.pad_packed_sequence(memory, total_length=src.shape[0])
        padding = torch.arange(src.shape[0])[None, :] >= lengths[:, None]           # (B, S)
        return memory, state, padding

    def features(out, memory, padding):
        """``[context; out]`` with Luong's dot score over the real source positions (``out`` alone without)."""
        if attention == "none":
            return out
        scores = torch.einsum("tbh,sbh->tbs", out, memory).masked_fill(padding[None], float("-inf"))
        context = torch.einsum("tbs,sbh->tbh", torch.softmax(scores, dim=2), memory)
        return torch.cat([context, out], dim=2)

    def forward(src, lengths, tgt_in):
        memory, state, padding = encode(src, lengths)
        out, _ = dec.rnn(dec.embedding(tgt_in), state)
        return dec.head(features(out, memory, padding))

    def greedy(src, lengths, bos, eos, max_len):
        with torch.no_grad():
            memory, state, padding = encode(src, lengths)
            tokens = torch.full((src.shape[1],), bos, dtype=torch.long)
            chosen = []
            for _ in range(max_len):
                out, state = dec.rnn(dec.embedding(tokens)[None], state)
                tokens = dec.head(features(out, memory, padding))[0].argmax(dim=1)
                chosen.append(tokens)
                if bool((torch.stack(chosen) == eos).any(dim=0).all()):
                    break
        decoded = []
        for row in torch.stack(chosen).T.tolist():
            decoded.append(row[:row.index(eos)] if eos in row else row)
        return decoded

    return model, forward, greedy


class Ours:
    """rnnscratch's side: ``nn.Seq2Seq``, each batch trained by :class:`~rnnscratch.train.Seq2SeqTask` with our
    Adam and global-norm clipping (what ``rnnscratch train --task seq2seq`` runs, less its logging), and
    evaluated by the library's :class:`~rnnscratch.train.Trainer`."""

    name, label = "rnnscratch", "rnnscratch (NumPy float32)"

    def __init__(self, model, lr, clip):
        self.model, self.clip, self.task = model, clip, Seq2SeqTask()
        self.optimizer = optim.Adam(model.parameters(), lr=lr)
        self.trainer = Trainer(model, self.optimizer, self.task, quiet=True, progress="off")
        self.tally = Tally()

    def warm_up(self, batch):
        """One forward and backward, no update (the next batch's ``zero_grad`` clears the gradients)."""
        src, lengths, tgt_in, tgt_out = batch
        self.model.backward(self.model.loss(self.model(src, lengths, tgt_in), tgt_out)[1])
        self.model.zero_grad()

    def _update(self, loss):
        optim.clip_grad_norm_(self.model.parameters(), self.clip)
        self.optimizer.step()

    def train(self, batches):
        """Train on ``batches`` (part of an epoch); the epoch's running loss is in :meth:`epoch_loss`."""
        self.model.train()
        for batch in batches:
            self.task.train_batch(self.model, batch, None, None, self._update, self.tally)

    def epoch_loss(self):
        """The mean training loss per target token since the last call."""
        loss, self.tally = self.tally.mean_loss, Tally()
        return loss

    def evaluate(self, batches):
        metrics = self.trainer.evaluate(batches)
        return metrics["exact_match"], metrics["loss"]


class Theirs:
    """PyTorch's side: the same loop written with autograd, ``torch.optim.Adam`` and ``clip_grad_norm_``."""

    def __init__(self, torch, model, forward, greedy, lr, clip):
        self.torch, self.model, self.forward, self.greedy, self.clip = torch, model, forward, greedy, clip
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.name, self.label = "torch", f"torch {torch.__version__} (float32)"
        self.loss_sum = self.count = 0.0

    def _tensors(self, batch):
        return tuple(self.torch.from_numpy(numpy.asarray(a, dtype=numpy.int64)) for a in batch)

    def _loss(self, logits, tgt_out, reduction="mean"):
        return self.torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                                                      ignore_index=IGNORE_INDEX, reduction=reduction)

    def warm_up(self, batch):
        """One forward and backward, no update."""
        src, lengths, tgt_in, tgt_out = self._tensors(batch)
        self._loss(self.forward(src, lengths, tgt_in), tgt_out).backward()
        self.optimizer.zero_grad()

    def train(self, batches):
        self.model.train()
        for batch in batches:
            src, lengths, tgt_in, tgt_out = self._tensors(batch)
            loss = self._loss(self.forward(src, lengths, tgt_in), tgt_out)
            self.optimizer.zero_grad()
            loss.backward()
            self.torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
            self.optimizer.step()
            n = int((tgt_out != IGNORE_INDEX).sum())
            self.loss_sum, self.count = self.loss_sum + loss.item() * n, self.count + n

    def epoch_loss(self):
        loss = self.loss_sum / max(self.count, 1)
        self.loss_sum = self.count = 0.0
        return loss

    def evaluate(self, batches):
        """Exact match (greedy decoding, as :class:`~rnnscratch.train.Seq2SeqTask` counts it) and loss."""
        self.model.eval()
        exact = decoded = 0
        total = count = 0.0
        with self.torch.no_grad():
            for batch in batches:
                src, lengths, tgt_in, tgt_out = self._tensors(batch)
                total += self._loss(self.forward(src, lengths, tgt_in), tgt_out, reduction="sum").item()
                count += int((tgt_out != IGNORE_INDEX).sum())
                references = Seq2SeqTask.references(batch[3])
                bos, eos = int(batch[2][0, 0]), int(batch[3][len(references[0]), 0])
                hypotheses = self.greedy(src, lengths, bos, eos, max_len=tgt_out.shape[0])
                exact += sum(h == r for h, r in zip(hypotheses, references))
                decoded += len(references)
        return exact / decoded, total / count


def load_now():
    """The 1-minute load average (how busy the shared machine was), or None where the OS has none."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", choices=tuple(HIDDEN), default="dates", help="the generated task")
    p.add_argument("--attention", choices=("dot", "none"), default="dot")
    p.add_argument("--epochs", type=int, default=None, help="default 5 (dates) or 50 (addition)")
    p.add_argument("--hidden", type=int, default=None, help="default 256 (dates) or 128 (addition)")
    p.add_argument("--embed", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--clip", type=float, default=5.0)
    p.add_argument("--limit", type=int, default=None, help="training pairs (default 45,000; test pairs: a ninth)")
    p.add_argument("--batching", choices=("bucket", "random"), default="bucket",
                   help="bucket: as rnnscratch train (sources of similar length share a batch); random: plain "
                        "random batches, as DLFS2")
    p.add_argument("--no-reverse-source", dest="reverse_source", action="store_false")
    p.add_argument("--interleave", type=int, default=10,
                   help="train each side this many batches at a time, taking turns (default 10)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="for both libraries (default: the cores)")
    p.add_argument("--torch-init", choices=("ours", "own"), default="ours",
                   help="ours: PyTorch starts from our model's initial weights; own: from PyTorch's default init")
    p.add_argument("--only", choices=("both", "ours", "torch"), default="both", help="train one side only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test of this script)")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    a = p.parse_args(argv)
    if a.quick:                                     # tiny sizes, unless given
        for name, value in QUICK.items():
            if getattr(a, name) is None or name == "batch_size":
                setattr(a, name, value)
    a.hidden = a.hidden or HIDDEN[a.data]
    a.epochs = a.epochs or {"dates": 5, "addition": 50}[a.data]
    return a


def main(argv=None):
    a = parse_args(argv)
    import torch
    from threadpoolctl import threadpool_limits
    torch.set_num_threads(a.threads)
    threadpool_limits(a.threads, user_api="blas")

    # the test pairs of `rnnscratch train --task seq2seq --data TASK`; no validation part: training starts right after
    train, _, test = load_pairs(a.data, None, a.seed, 0.0, 0.0, a.limit)
    pairs = PairEncoder.build(train, "char", "char", reverse_source=a.reverse_source)
    train_batches = pair_batches(train, pairs, a.batch_size, shuffle=True, seed=a.seed)
    train_batches.bucket = a.batching == "bucket"
    test_batches = list(pair_batches(test, pairs, a.batch_size)(0))
    V_src, V_tgt = len(pairs.source_vocab), len(pairs.target_vocab)

    ours_model = nn.Seq2Seq(V_src, V_tgt, embed=a.embed, hidden=a.hidden, cell="lstm", attention=a.attention,
                            rng=a.seed)
    torch.manual_seed(a.seed)
    their_model, forward, greedy = torch_seq2seq(torch, V_src, V_tgt, a.embed, a.hidden, a.attention)
    if a.torch_init == "ours":
        their_model.load_state_dict({k: torch.from_numpy(v) for k, v in ours_model.state_dict().items()})
    sides = []
    if a.only in ("both", "ours"):
        sides.append(Ours(ours_model, a.lr, a.clip))
    if a.only in ("both", "torch"):
        sides.append(Theirs(torch, their_model, forward, greedy, a.lr, a.clip))

    settings = {k: v for k, v in vars(a).items() if k not in ("out", "quick", "only")}
    settings.update(quick=a.quick, train_pairs=len(train), test_pairs=len(test), source_vocab=V_src,
                    target_vocab=V_tgt, batches_per_epoch=len(train_batches))
    print(f"{a.data}, attention {a.attention}: {len(train)} training pairs, {len(test)} test pairs, hidden "
          f"{a.hidden}, {a.threads} threads each; load {load_now()}", flush=True)
    for side in sides:                  # first calls allocate and start thread pools: not part of an epoch's time
        side.warm_up(next(iter(train_batches(0))))
    epochs = []
    for epoch in range(a.epochs):
        batches = list(train_batches(epoch))            # the same batches, in the same order, for both
        row = {"epoch": epoch + 1, "load_before": load_now()}
        seconds = {side.name: 0.0 for side in sides}
        for turn, start in enumerate(range(0, len(batches), a.interleave)):
            chunk = batches[start:start + a.interleave]
            for side in sides if turn % 2 == 0 else sides[::-1]:       # taking turns: noise hits both alike
                begin = time.perf_counter()
                side.train(chunk)
                seconds[side.name] += time.perf_counter() - begin
        for side in sides:
            row[f"{side.name}_train_loss"] = side.epoch_loss()
            row[f"{side.name}_train_seconds"] = seconds[side.name]
        for side in sides if epoch % 2 == 0 else sides[::-1]:
            begin = time.perf_counter()
            row[f"{side.name}_exact_match"], row[f"{side.name}_test_loss"] = side.evaluate(test_batches)
            row[f"{side.name}_eval_seconds"] = time.perf_counter() - begin
        row["load_after"] = load_now()
        epochs.append(row)
        print(" ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)
        if epoch + 1 < a.epochs:
            write_results(a, sides, epochs, settings, torch.get_num_threads(), argv)
    return write_results(a, sides, epochs, settings, torch.get_num_threads(), argv, echo=True)


def write_results(a, sides, epochs, settings, torch_threads, argv, echo=False):
    """The JSON record and the markdown table of the epochs so far (rewritten after every epoch, so that
    a long run stopped early keeps its results); ``echo``: also print the table."""
    names = [side.name for side in sides]
    table = markdown_table(epochs, names)
    if echo:
        print(table)
    command = ["python", "benchmarks/seq2seq_compare.py", *(sys.argv[1:] if argv is None else argv)]
    result = {"machine": machine_name(), "libraries": {side.name: side.label for side in sides},
              "threads": a.threads, "torch_threads": torch_threads, "blas": blas_info(), "settings": settings,
              "command": " ".join(command), "complete": len(epochs) == a.epochs, "epochs": epochs}
    os.makedirs(a.out, exist_ok=True)
    batching = "" if a.batching == "bucket" else "-random"
    stem = os.path.join(a.out, f"seq2seq-{a.data}-{a.attention}{batching}-{machine_name()}")
    atomic_write(stem + ".json", json.dumps(result, indent=2) + "\n")
    atomic_write(stem + ".md", f"`{result['command']}` ({a.threads} threads each)\n\n{table}\n")
    return result


def markdown_table(epochs, names):
    """Per epoch: each library's test exact match, training and evaluation seconds; the time ratio."""
    head = ["epoch"] + [f"{n} exact match" for n in names] + [f"{n} train s" for n in names]
    if len(names) == 2:
        head.append("train time ratio")
    head += [f"{n} eval s" for n in names] + ["load"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in epochs:
        cells = [str(r["epoch"])] + [f"{100 * r[f'{n}_exact_match']:.2f}%" for n in names]
        cells += [f"{r[f'{n}_train_seconds']:.1f}" for n in names]
        if len(names) == 2:
            cells.append(f"{r[f'{names[0]}_train_seconds'] / r[f'{names[1]}_train_seconds']:.2f}")
        cells += [f"{r[f'{n}_eval_seconds']:.1f}" for n in names]
        cells.append(f"{r['load_before']}-{r['load_after']}")
        lines.append("| " + " | ".join(cells) + " |")
    total = {n: sum(r[f"{n}_train_seconds"] for r in epochs) for n in names}
    summary = ", ".join(f"{n} {t:.0f} s" for n, t in total.items())
    if len(names) == 2:
        summary += f" (ratio {total[names[0]] / total[names[1]]:.2f})"
    lines.append(f"\ntraining wall time over {len(epochs)} epochs: {summary}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
