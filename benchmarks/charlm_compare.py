"""Char-LM on tiny-shakespeare, ours against PyTorch, same settings and number of steps, one after the
other on the same machine. Prints a markdown table and writes benchmarks/results/charlm-<machine>.json.

Settings (issue: the tutorials' setup): 2-layer LSTM, hidden 256, embedding 64, sequence 100, batch 64,
Adam 2e-3, clip 5; validation loss in nats/char on the last 10% of the file.

Usage: RNNSCRATCH_DATA_DIR=../shared/data python benchmarks/charlm_compare.py --steps 1000
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from rnnscratch.app.bench import machine_name

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    a = p.parse_args()
    common = ["--steps", str(a.steps)]
    with tempfile.TemporaryDirectory() as tmp:
        ours_cmd = [sys.executable, "-m", "rnnscratch", "train", "--task", "lm", "--data", "tinyshakespeare",
                    "--layers", "2", "--hidden", "256", "--embed", "64", "--max-len", "100", "--batch-size", "64",
                    "--lr", "2e-3", "--clip", "5", "--epochs", "1000", "--out", tmp, "--quiet", *common]
        subprocess.run(ours_cmd, check=True)
        with open(os.path.join(tmp, "metrics.json")) as f:
            m = json.load(f)
        samples = subprocess.run([sys.executable, "-m", "rnnscratch", "sample", os.path.join(tmp, "last.npz"),
                                  "--prefix", "ROMEO:", "--length", "400", "--temperature", "0.8", "--seed", "1"],
                                 check=True, capture_output=True, text=True).stdout
    ours = {"library": "rnnscratch (NumPy float32)", "steps": m["steps"], "val_loss": m["val_loss"],
            "val_perplexity": m["val_perplexity"], "train_seconds": m["train_seconds"]}
    done = subprocess.run([sys.executable, os.path.join(HERE, "charlm_torch.py"), *common],
                          check=True, capture_output=True, text=True)
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    rows = [ours, theirs]
    print("| library | steps | validation loss (nats/char) | perplexity | wall time (s) |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['library']} | {r['steps']} | {r['val_loss']:.4f} | {r['val_perplexity']:.2f} | "
              f"{r['train_seconds']:.0f} |")
    print("\nsample at temperature 0.8:\n" + samples)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, f"charlm-{machine_name()}.json"), "w") as f:
        json.dump({"machine": machine_name(), "rows": rows, "sample": samples}, f, indent=2)


if __name__ == "__main__":
    main()
