"""Sphinx extension for rnnscratch's website: what would otherwise be hand-kept lists that rot.

* The course: every ``notebooks/*.ipynb`` is copied to ``docs/course/`` before the build reads its sources
  (MyST-NB reads only files inside the source folder), so a notebook added later appears by itself.
* ``.. public-api:: rnnscratch.MODULE``: one API page per public module, generated from the module itself:
  its docstring, a summary table and an entry for every public name (``__all__``, else every public
  function and class defined there). A package's page is organised by submodule, each with its docstring
  (where the equations are) and its names, including public names the package does not re-export;
  ``:flat:`` keeps a package to its ``__all__`` (the course's grader, the application). The build warns
  (an error under ``-W``) when a public module of ``rnnscratch`` has no page.
* ``.. results-folder:: PATH``: every result file of ``benchmarks/results/``, grouped by name: the figure,
  the rows as a table, the run's settings, and download links to the raw files.
"""
from __future__ import annotations

import csv
import filecmp
import hashlib
import importlib
import inspect
import json
import os
import pathlib
import pkgutil
import re
import shutil
import textwrap

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from docutils.utils import new_document
from sphinx.util import logging
from sphinx.transforms import SphinxTransform
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

logger = logging.getLogger(__name__)

PACKAGE = "rnnscratch"


# -- the course ------------------------------------------------------------------------------------------
def copy_notebooks(app, config):
    """Mirror ``notebooks/*.ipynb`` into ``docs/course/``; unchanged copies keep their time stamps, so an
    incremental build re-reads only the notebooks that changed."""
    source = pathlib.Path(app.confdir).parent / "notebooks"
    target = pathlib.Path(app.srcdir) / "course"
    target.mkdir(exist_ok=True)
    wanted = {path.name: path for path in sorted(source.glob("*.ipynb"))}
    if not wanted:
        logger.warning(f"no notebooks found in {source}")
    for stale in target.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    for name, path in wanted.items():
        copy = target / name
        if not copy.exists() or not filecmp.cmp(path, copy, shallow=False):
            shutil.copyfile(path, copy)


class MarkdownInDetails(SphinxTransform):
    """Render the Markdown inside a ``<details>`` block written without a blank line after ``<summary>``.

    The course folds its answers away as ``<details><summary>Answer</summary>text with $math$ and `code`
    </details>``. Without a blank line, CommonMark keeps the whole block as raw HTML, so the page would show
    ``$h W^T$`` and backticks literally (Jupyter renders them). This parses the text between the tags as
    MyST Markdown, keeping the tags around it; blocks with the blank line are already parsed that way.
    """
    default_priority = 200
    DETAILS = re.compile(r"^\s*<details>\s*<summary>(.*?)</summary>(.+?)</details>\s*$", re.DOTALL)

    def apply(self):
        from myst_parser.parsers.sphinx_ import MystParser

        for raw in list(self.document.findall(nodes.raw)):
            match = self.DETAILS.match(raw.astext())
            if "html" not in raw.get("format", "").split() or not match or isinstance(raw.parent, nodes.TextElement):
                continue
            summary, text = match.groups()
            first, _, rest = text.partition("\n")
            content = new_document(raw.source or self.document["source"], self.document.settings)
            MystParser().parse(first.strip() + "\n" + textwrap.dedent(rest), content)
            raw.replace_self([nodes.raw("", f"<details><summary>{summary}</summary>", format="html"),
                              *content.children, nodes.raw("", "</details>", format="html")])


# -- the API pages ---------------------------------------------------------------------------------------
def _is_public(name):
    return not name.startswith("_")


def _defined_here(module):
    """Public functions and classes defined in ``module`` itself, in source order."""
    return [name for name, value in vars(module).items()
            if _is_public(name) and (inspect.isfunction(value) or inspect.isclass(value))
            and value.__module__ == module.__name__]


def public_names(module):
    """``module.__all__`` when it has one, else the public functions and classes it defines."""
    names = getattr(module, "__all__", None)
    return [name for name in names if name != "__version__"] if names is not None else _defined_here(module)


def public_submodules(module):
    if not hasattr(module, "__path__"):
        return []
    return [importlib.import_module(f"{module.__name__}.{info.name}")
            for info in pkgutil.iter_modules(module.__path__) if _is_public(info.name) and info.name != "__main__"]


def _assigned_in(module, name):
    """Whether ``name = ...`` (or an annotated assignment) is in ``module``'s own source."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return False
    return re.search(rf"^{re.escape(name)}\s*(:[^=\n]*)?=", source, re.MULTILINE) is not None


def _entry(path, value):
    """The autodoc directive documenting ``value`` under the dotted ``path``."""
    if inspect.isclass(value):
        kind = "autoexception" if issubclass(value, BaseException) else "autoclass"
        # "Bases: object" says nothing; other bases (Module, RNNBase, ValueError) are worth a link
        inheritance = ["   :show-inheritance:"] if value.__bases__ != (object,) else []
        return [f".. {kind}:: {path}", "   :members:", *inheritance, ""]
    if callable(value):
        return [f".. autofunction:: {path}", ""]
    lines = [f".. autodata:: {path}"]
    if not isinstance(value, (bool, int, float, str)) or len(repr(value)) > 60:
        lines.append("   :no-value:")       # a registry's repr is a wall of text; its docstring says what it holds
    return lines + [""]


def _summary(paths):
    if not paths:
        return []
    return [".. autosummary::", "   :nosignatures:", ""] + [f"   ~{path}" for path in paths] + [""]


def _heading(text, underline):
    return [text, underline * len(text), ""]


def api_page_lines(module_name, flat=False):
    """The reStructuredText of ``module_name``'s API page (below its title)."""
    module = importlib.import_module(module_name)
    names = [n for n in public_names(module) if not inspect.ismodule(getattr(module, n))]
    values = {name: getattr(module, name) for name in names}
    submodules = [] if flat else public_submodules(module)
    # submodules in the order of the package's __all__ (functional: rnn, lstm, gru first), the rest after
    first = {}
    for position, name in enumerate(names):
        first.setdefault(getattr(values[name], "__module__", None), position)
    submodules.sort(key=lambda sub: first.get(sub.__name__, len(names)))

    # where each exported name is documented: under the package, next to its submodule's docstring
    placed, sections = set(), []
    exported = {id(value) for value in values.values()}
    for sub in submodules:
        here = []
        for name in names:
            value = values[name]
            if inspect.isclass(value) or callable(value):
                defined = getattr(value, "__module__", None) == sub.__name__
            else:
                defined = _assigned_in(sub, name)
            if name not in placed and defined:
                placed.add(name)
                # data keeps its submodule's path: autodoc reads its ``#:`` comment from that module's source
                here.append((f"{module_name}.{name}" if callable(value) else f"{sub.__name__}.{name}", value))
        extra = [(f"{sub.__name__}.{name}", getattr(sub, name)) for name in _defined_here(sub)
                 if id(getattr(sub, name)) not in exported]
        sections.append((sub, here, extra))
    own = [(f"{module_name}.{name}", values[name]) for name in names if name not in placed]

    lines = [f".. automodule:: {module_name}", ""]
    # the table sits under the module's own automodule: names relative to it, as autosummary wants
    lines += _summary([path[len(module_name) + 1:] for path, _ in own]
                      + [path[len(module_name) + 1:] for _, here, extra in sections for path, _ in here + extra])
    for path, value in own:
        lines += _entry(path, value)
    for sub, here, extra in sections:
        lines += _heading(f"``{sub.__name__}``", "-")
        lines += [f".. automodule:: {sub.__name__}", ""]
        for path, value in here + extra:
            lines += _entry(path, value)
    return lines


def describe_registries(app, what, name, obj, options, lines):
    """A module-level constant without a ``#:`` comment gets its type's docstring from autodoc (a dict's
    "dict() -> new empty dictionary ..."): replace that with what the constant holds, e.g. a registry's keys."""
    if what not in ("data", "attribute") or obj is None or inspect.isclass(obj) or inspect.isroutine(obj):
        return
    type_doc = inspect.cleandoc(type(obj).__doc__ or "")
    if not type_doc or "\n".join(lines).strip() != type_doc.strip():
        return
    lines.clear()
    if isinstance(obj, dict) and all(isinstance(key, str) for key in obj):
        lines.append("The registry by name: " + ", ".join(f"``{key!r}``" for key in obj) + ".")


class PublicAPI(SphinxDirective):
    """``.. public-api:: rnnscratch.MODULE`` (option ``:flat:``): the module's API page, see the module docstring."""
    required_arguments = 1
    option_spec = {"flat": directives.flag}

    def run(self):
        name = self.arguments[0]
        documented = self.env.domaindata.setdefault("rnnscratch_docs", {}).setdefault("api_modules", {})
        documented[name] = self.env.docname
        container = nodes.container()
        nested_parse_with_titles(self.state, StringList(api_page_lines(name, "flat" in self.options),
                                                        source=f"<public-api {name}>"), container)
        return container.children


def check_every_module_documented(app, env):
    """Warn about each public module of ``rnnscratch`` without a page (besides ``rnnscratch_api_elsewhere``)."""
    documented = env.domaindata.get("rnnscratch_docs", {}).get("api_modules", {})
    package = importlib.import_module(PACKAGE)
    for module in public_submodules(package):
        short = module.__name__.split(".", 1)[1]
        if module.__name__ not in documented and short not in app.config.rnnscratch_api_elsewhere:
            logger.warning(f"{module.__name__} is public but has no API page: add docs/api/{short}.rst "
                           f"(`.. public-api:: {module.__name__}`) to docs/api/index.rst")


def purge_api_modules(app, env, docname):
    documented = env.domaindata.get("rnnscratch_docs", {}).get("api_modules", {})
    for module in [m for m, doc in documented.items() if doc == docname]:
        del documented[module]


# -- the command line ------------------------------------------------------------------------------------
def cli_parser():
    """``rnnscratch.cli.build_parser()`` for sphinx-argparse, each description's indented block (the examples,
    the task defaults) marked as a literal block, so the page keeps its lines as ``--help`` prints them."""
    import argparse

    from rnnscratch.cli import build_parser

    parser = build_parser()
    parsers = [parser] + [sub for action in parser._actions if isinstance(action, argparse._SubParsersAction)
                          for sub in action.choices.values()]
    for each in parsers:
        if each.description:
            each.description = re.sub(r":\n(?=  )", "::\n\n", each.description)
    return parser


# -- the results folder -----------------------------------------------------------------------------------
def _number(value: float) -> str:
    """4 significant digits; large values whole, with thousands separators (not 2.687e+05)."""
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"


def _cell(value):
    """A table cell as a reader wants it: floats rounded (see _number), integers and text as they are."""
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return value if re.fullmatch(r"-?\d+", value) else _number(number)
    return "" if value is None else str(value)


def _table(rows):
    """A list-table of dict rows (columns: every key, in first-seen order)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = [".. list-table::", "   :header-rows: 1", "   :class: results-table", ""]
    for row in [dict(zip(columns, columns))] + rows:
        cells = [_cell(row.get(column)).replace("|", "\\|") or "\\ " for column in columns]
        lines.append(f"   * - {cells[0]}")
        lines += [f"     - {cell}" for cell in cells[1:]]
    return lines + [""]


def results_lines(folder, docdir):
    """The reStructuredText for every result file in ``folder``, grouped by file name without extension."""
    groups = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in {".json", ".csv", ".png"}:
            groups.setdefault(path.stem, {})[path.suffix] = path
    lines = []
    for stem, files in groups.items():
        lines += _heading(stem, "-")
        rel = {suffix: os.path.relpath(path, docdir).replace(os.sep, "/") for suffix, path in files.items()}
        lines += ["Files: " + ", ".join(f":download:`{files[s].name} <{rel[s]}>`" for s in sorted(rel)), ""]
        if ".png" in files:
            lines += [f".. image:: {rel['.png']}", f"   :alt: {stem}", ""]
        settings, rows = {}, None
        if ".json" in files:
            data = json.loads(files[".json"].read_text())
            rows = data.pop("rows", None) if isinstance(data, dict) else None
            settings = data if isinstance(data, dict) else {}
        if rows is None and ".csv" in files:
            with open(files[".csv"], newline="") as handle:
                rows = list(csv.DictReader(handle))
        texts = {key: value for key, value in settings.items() if isinstance(value, str) and "\n" in value}
        fields = {key: value for key, value in settings.items() if key not in texts}
        for key, value in fields.items():
            shown = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
            lines.append(f"* **{key}**: ``{shown}``")
        lines += [""] if fields else []
        if rows:
            lines += _table(rows)
        for key, value in texts.items():
            lines += [f"{key}::", ""] + ["    " + line for line in value.splitlines()] + [""]
    return lines


class ResultsFolder(SphinxDirective):
    """``.. results-folder:: PATH`` (relative to this page): every result file there, see the module docstring."""
    required_arguments = 1

    def run(self):
        docdir = pathlib.Path(self.env.doc2path(self.env.docname)).parent
        folder = (docdir / self.arguments[0]).resolve()
        if not folder.is_dir():
            raise self.error(f"results-folder: no folder {folder}")
        for path in folder.iterdir():
            self.env.note_dependency(str(path))
        container = nodes.container()
        nested_parse_with_titles(self.state, StringList(results_lines(folder, docdir), source=f"<results {folder}>"),
                                 container)
        return container.children


def setup(app):
    # changing the package's source changes this key (docs/conf.py), so every page, and every notebook's
    # execution, is redone rather than served from an older package's outputs
    app.add_config_value("rnnscratch_package_key", "", "env")
    app.add_config_value("rnnscratch_api_elsewhere", {"cli": "docs/cli.md"}, "env")
    app.connect("config-inited", copy_notebooks)
    app.connect("env-purge-doc", purge_api_modules)
    app.connect("env-check-consistency", check_every_module_documented)
    app.connect("autodoc-process-docstring", describe_registries)
    app.add_transform(MarkdownInDetails)
    app.add_directive("public-api", PublicAPI)
    app.add_directive("results-folder", ResultsFolder)
    # and changing this file re-reads every page (Sphinx compares env_version with the saved environment's)
    env_version = int(hashlib.sha256(pathlib.Path(__file__).read_bytes()).hexdigest()[:8], 16)
    return {"version": "1", "env_version": env_version, "parallel_read_safe": False, "parallel_write_safe": True}
