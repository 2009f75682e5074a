"""Progress while training: a tqdm bar when tqdm is installed (and not quiet), else a plain line now and then."""
from __future__ import annotations

import sys


class Progress:
    """``update(**stats)`` once per batch; ``close()`` at the end of the pass."""

    def __init__(self, total, desc, quiet, every=50):
        self.quiet, self.every, self.count, self.desc, self.total = quiet, every, 0, desc, total
        self.bar = None
        if not quiet:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)
            except ImportError:
                pass

    def update(self, **stats):
        self.count += 1
        if self.quiet:
            return
        text = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in stats.items())
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(text)
        elif self.count % self.every == 0:
            of = f"/{self.total}" if self.total else ""
            print(f"{self.desc} batch {self.count}{of}  {text}", file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
