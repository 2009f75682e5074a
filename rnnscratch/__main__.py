"""``python -m rnnscratch`` is the ``rnnscratch`` command."""
import sys

from .cli import main

sys.exit(main())
