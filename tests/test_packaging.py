"""What a user installs: the wheel carries the licence and the typing marker; the CLI knows its version."""
import subprocess
import sys
import zipfile

import pytest

import rnnscratch
from rnnscratch.cli import main


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"rnnscratch {rnnscratch.__version__}"


@pytest.mark.slow
def test_the_wheel_contains_the_license_and_py_typed(tmp_path):
    root = __import__("pathlib").Path(__file__).parent.parent
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path), str(root)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("rnnscratch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "rnnscratch/py.typed" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") or name.endswith(".dist-info/LICENSE") for name in names)
