"""The PyTorch reference for the char-LM comparison: the same data, batches and schedule as
``rnnscratch train --task lm``, with torch.nn.LSTM and autograd instead of our code.

Usage: python benchmarks/charlm_torch.py --steps 1000 [--data tinyshakespeare] [--out result.json]
Needs torch (pip install torch==2.13.0) and the corpus (RNNSCRATCH_DATA_DIR or a download).
"""
import argparse
import json
import math
import time

import torch

from rnnscratch.data import Vocab, datasets, stream_batches


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="tinyshakespeare")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--seq-len", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--clip", type=float, default=5.0)
    p.add_argument("--val-split", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    # the same split and vocabulary as rnnscratch.app.data.prepare_language_model
    text = datasets.text_corpus(a.data, "all")
    n_val = int(len(text) * a.val_split)
    vocab = Vocab.build([list(text)], specials=())
    train_ids = vocab.encode(list(text[:len(text) - n_val]))
    val_ids = vocab.encode(list(text[len(text) - n_val:]))
    V = len(vocab)

    class CharLM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(V, a.embed)
            self.rnn = torch.nn.LSTM(a.embed, a.hidden, a.layers)
            self.head = torch.nn.Linear(a.hidden, V)

        def forward(self, ids, state=None):
            out, state = self.rnn(self.embedding(ids), state)
            return self.head(out), state

    model = CharLM()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    step, start, state = 0, time.perf_counter(), None
    while step < a.steps:
        state = None                                        # reset at every pass over the text
        for x, y in stream_batches(train_ids, a.batch_size, a.seq_len):
            if step >= a.steps:
                break
            logits, state = model(torch.from_numpy(x), state)
            state = tuple(s.detach() for s in state)        # carry the values, cut the gradient
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.from_numpy(y).reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            step += 1
    train_seconds = time.perf_counter() - start
    val_batch = min(a.batch_size, max(1, (len(val_ids) - 1) // a.seq_len))
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for x, y in stream_batches(val_ids, val_batch, a.seq_len):
            logits, state = model(torch.from_numpy(x), state)
            total += torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.from_numpy(y).reshape(-1),
                                                       reduction="sum").item()
            count += y.size
    result = {"library": f"torch {torch.__version__}", "steps": step, "val_loss": total / count,
              "val_perplexity": math.exp(total / count), "train_seconds": train_seconds,
              "threads": torch.get_num_threads()}
    print(json.dumps(result))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
