"""``python -m rnnscratch.app.bench``: the benchmark's worker command line (see :mod:`.worker`)."""
from .worker import main

main()
