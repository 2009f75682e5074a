"""The library never imports the application or the command line (ARCHITECTURE.md's layers)."""
import ast
import pathlib

import rnnscratch

PACKAGE = pathlib.Path(rnnscratch.__file__).parent
OUTSIDE_THE_LIBRARY = ("app", "cli", "__main__", "bench")     # bench.py is on its way into app/


def imported_modules(path):
    """Absolute names of the rnnscratch modules a file imports (relative imports resolved)."""
    package = ["rnnscratch", *path.relative_to(PACKAGE).parent.parts]
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names += [module] + [f"{module}.{a.name}" for a in node.names]
    return [n for n in names if n.startswith("rnnscratch")]


def test_the_library_imports_neither_app_nor_cli():
    library = [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0].removesuffix(".py")
               not in OUTSIDE_THE_LIBRARY]
    assert len(library) > 20
    offending = {str(p.relative_to(PACKAGE)): n for p in library for n in imported_modules(p)
                 if n.split(".")[1:2] in (["app"], ["cli"])}
    assert offending == {}


def test_the_import_resolver_sees_relative_imports():
    assert "rnnscratch.app.config" in imported_modules(PACKAGE / "cli.py")
    assert "rnnscratch.files" in imported_modules(PACKAGE / "train" / "checkpoint.py")
