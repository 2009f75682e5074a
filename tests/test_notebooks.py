"""Execute every study notebook top to bottom, twice: as shipped and with the exercises solved.

As shipped, every exercise cell still raises NotImplementedError: the grader must report it as not done
and the notebook must go on with the package's reference. Solved, each exercise cell is replaced by its
solution (``notebooks/solutions/<exercise>.py``) and the grader must report it as passed.

An exercise cell is a code cell tagged ``exercise`` whose source calls ``exercises.check("<name>", ...)``.
"""
import os
import pathlib
import re
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

FOLDER = pathlib.Path(__file__).parent.parent / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = FOLDER / "solutions"
CHECK_CALL = re.compile(r"""exercises\.check\(\s*["'](\w+)["']""")


def exercise_cells(notebook):
    """``[(cell, exercise name)]`` for every cell tagged ``exercise``."""
    found = []
    for cell in notebook.cells:
        if "exercise" in cell.get("metadata", {}).get("tags", []):
            names = CHECK_CALL.findall(cell.source)
            assert len(names) == 1, f"an exercise cell must call exercises.check once:\n{cell.source}"
            found.append((cell, names[0]))
    return found


def execute(notebook, path):
    os.environ.setdefault("MPLBACKEND", "Agg")
    start = time.perf_counter()
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")
    # a figure left as a cell's value must reach the reader as a picture, not as "<Figure size ...>"
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/plain", "")
            if text.startswith("<Figure"):
                assert "image/png" in output["data"], f"{path.name}: a figure was shown as text; add %matplotlib inline"


def printed(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def test_the_course_is_numbered_without_gaps():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{k:02d}" for k in range(1, len(NOTEBOOKS) + 1)]


def test_every_exercise_cell_is_the_graders_stub_and_has_a_solution():
    from rnnscratch import exercises
    known, seen = set(exercises.list_exercises()), []
    for path in NOTEBOOKS:
        for cell, name in exercise_cells(nbformat.read(path, as_version=4)):
            assert name in known, f"{path.name}: no exercise {name!r} in rnnscratch.exercises"
            stub = exercises.describe(name) + f'\n{name} = exercises.check("{name}", {name})'
            assert cell.source == stub, f"{path.name}: the {name} cell is not exercises.describe({name!r})'s stub"
            assert (SOLUTIONS / f"{name}.py").is_file(), f"{path.name}: no notebooks/solutions/{name}.py"
            seen.append(name)
    assert len(seen) == len(set(seen)), "an exercise is used in two notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_as_shipped(path):
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), \
        "notebooks are stored with outputs stripped"
    execute(notebook, path)
    for cell, name in exercise_cells(notebook):
        assert f"{name}: not done yet" in printed(cell), printed(cell)


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if exercise_cells(nbformat.read(p, as_version=4))],
                         ids=lambda p: p.stem)
def test_notebook_runs_solved(path):
    notebook = nbformat.read(path, as_version=4)
    cells = exercise_cells(notebook)
    for cell, name in cells:
        cell.source = (SOLUTIONS / f"{name}.py").read_text().rstrip("\n")
    execute(notebook, path)
    for cell, name in cells:
        assert f"{name}: passed" in printed(cell), printed(cell)
