"""The self-check reads the cell registry: one row per registered cell (and its variable-length run)."""
from rnnscratch.app import selfcheck
from rnnscratch.functional import cells


def test_rows_follow_the_registry_and_pass():
    reports = selfcheck.run_all(T=3, B=2, I=2, H=3)
    recurrent = [name for name in reports if name.split(" ")[0] in cells.CELLS]
    assert recurrent == [row for name in cells.CELL_NAMES for row in (name, f"{name} (lengths)")]
    assert all(report.passed() for report in reports.values())
    table = selfcheck.format_table(reports)
    assert len(table.splitlines()) == len(reports) + 2 and "FAIL" not in table


def test_a_newly_registered_cell_is_checked_with_no_edit(monkeypatch):
    monkeypatch.setitem(cells.CELLS, "gru_again", cells.get_cell("gru"))
    reports = selfcheck.run_all(T=2, B=2, I=2, H=2)
    assert "gru_again" in reports and "gru_again (lengths)" in reports
    assert reports["gru_again"].passed()
