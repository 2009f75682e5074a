"""Sphinx configuration of rnnscratch's website: the README's pages, the course, the API, the CLI, results.

Build (the README's Documentation section): ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
The course's notebooks are copied from ``notebooks/`` and executed by MyST-NB during the build; their outputs
are cached in ``docs/_build/.jupyter_cache/<key>``, where the key changes with the package's source, so a
change to the library re-executes every notebook instead of showing stale outputs.
"""
import hashlib
import os
import pathlib
import shutil
import sys

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
# document the working tree's package, also without installing it; the notebooks' kernels (subprocesses)
# import the same one, so the API pages and the course's outputs never come from two versions
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
os.environ.setdefault("MPLBACKEND", "Agg")

import rnnscratch  # noqa: E402

project = "rnnscratch"
author = "rnnscratch contributors"
copyright = "rnnscratch contributors, MIT License"
release = version = rnnscratch.__version__

extensions = [
    "myst_nb",                      # Markdown pages and executed notebooks
    "sphinx.ext.autodoc",           # the API from the docstrings
    "sphinx.ext.autosummary",       # the one-line tables at the top of each API page
    "sphinx.ext.napoleon",          # the docstrings are Google style (Args:, Returns:, Attributes:)
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",       # MathJax shipped in _static: the site needs no network
    "sphinxarg.ext",                # the CLI reference from rnnscratch.cli.build_parser
    "rnnscratch_docs",              # docs/_ext: the course's notebooks, the API pages, the results folder
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
templates_path = []
html_static_path = ["_static"]
html_css_files = ["rnnscratch.css"]
html_theme = "furo"
html_title = f"rnnscratch {release}"
html_favicon = "_static/favicon.svg"  # without one, browsers ask for /favicon.ico and log a 404
smartquotes_action = "qe"          # quotes and ellipses only: "--data" must not become an en dash
html_copy_source = False            # no _sources/ copies of the notebooks and pages
html_show_sourcelink = False

# -- MyST and the notebooks --------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3            # README links such as [GPU](#gpu) resolve as they do on a code host
myst_ref_domains = ["std", "py"]    # where a README link to another page's section (#gpu) is looked up


def _package_key():
    """A digest of what the notebooks' outputs depend on besides their own code: the package and the data."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "rnnscratch").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    digest.update(os.environ.get("RNNSCRATCH_DATA_DIR", "").encode())
    return digest.hexdigest()[:16]


rnnscratch_package_key = _package_key()
_caches = DOCS / "_build" / ".jupyter_cache"
for _stale in (_caches.iterdir() if _caches.is_dir() else []):
    if _stale.is_dir() and _stale.name != rnnscratch_package_key:
        shutil.rmtree(_stale)           # outputs of an older package: never shown again
nb_execution_mode = "cache"
nb_execution_cache_path = str(_caches / rnnscratch_package_key)
nb_execution_timeout = 600          # per cell, as tests/test_notebooks.py
nb_execution_raise_on_error = True  # a notebook that fails fails the build
nb_execution_show_tb = True
nb_merge_streams = True

# -- autodoc -------------------------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True    # show defaults as written (``dtype=None``), not their repr
autosummary_generate = False        # the tables link to entries on the same page; no stub files
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True            # dataclass "Attributes:" as fields of the class, not duplicate entries
napoleon_use_param = False          # "W_ih, W_hh, b_ih, b_hh: ..." stays one entry, not four copies
