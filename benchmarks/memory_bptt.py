"""Memory against time: plain BPTT, checkpointing through time, and what BPTT must keep.

One LSTM layer forward+backward over a long sequence (default T=10,000, B=16, I=64, H=256, float32).
Peak memory is measured with tracemalloc (NumPy reports its allocations to it) by
rnnscratch.app.bench.step_memory, in a fresh process per configuration; "kept" is what the forward keeps for the
backward (rnnscratch.app.bench.kept_bytes of the layer's saved_arrays(): no input, no weights): every state and gate
for plain BPTT, only the segment starts when checkpointing.
Writes benchmarks/results/memory-<machine>.json and prints a markdown table.

Usage: python benchmarks/memory_bptt.py [--steps 10000] [--segments 50,200,1000]
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))



def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--input-size", type=int, default=64)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--segments", default="50,200,1000")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    a = p.parse_args()
    rows = []
    for segment in [0] + [int(s) for s in a.segments.split(",")]:
        # a fresh process per configuration, so that one's peak is not another's leftovers
        worker = (f"import json; from rnnscratch.app.bench import step_memory; print(json.dumps(step_memory("
                  f"'lstm', {a.steps}, {a.batch}, {a.input_size}, {a.hidden}, checkpoint_every={segment or None})))")
        done = subprocess.run([sys.executable, "-c", worker], check=True, capture_output=True, text=True)
        rows.append({"segment": segment, **json.loads(done.stdout.strip().splitlines()[-1])})
    plain = rows[0]
    print(f"LSTM forward+backward, T={a.steps}, B={a.batch}, I={a.input_size}, H={a.hidden}, float32\n")
    print("| BPTT | peak memory (MiB) | kept for the backward (MiB) | time (s) | time vs plain |\n|---|---|---|---|---|")
    for r in rows:
        name = "plain" if not r["segment"] else f"checkpointed, segments of {r['segment']}"
        print(f"| {name} | {r['peak_bytes'] / 2**20:.0f} | {r['kept_bytes'] / 2**20:.1f} | {r['seconds']:.2f} | "
              f"{r['seconds'] / plain['seconds']:.2f}x |")
    from rnnscratch.app.bench import machine_name
    from rnnscratch.files import atomic_open
    with atomic_open(os.path.join(a.out, f"memory-{machine_name()}.json"), "w") as f:
        json.dump({"machine": machine_name(), "T": a.steps, "B": a.batch, "I": a.input_size, "H": a.hidden,
                   "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
