"""The backend switch: selection, dtype, context manager, conversions, clear errors."""
import numpy as np
import pytest

from rnnscratch import backend


def test_numpy_is_the_default_and_switchable():
    assert backend.get_backend() == "numpy" and backend.get_xp() is np
    with backend.use_backend("numpy", dtype="float64") as xp:
        assert xp is np and backend.get_default_dtype() == np.float64
    assert backend.get_default_dtype() == np.float32


def test_use_backend_restores_on_error():
    with pytest.raises(RuntimeError):
        with backend.use_backend(dtype="float64"):
            raise RuntimeError("boom")
    assert backend.get_default_dtype() == np.float32


def test_unknown_backend_and_dtype_are_refused():
    with pytest.raises(ValueError, match="backend must be one of \\('numpy', 'cupy'\\), got 'jax'"):
        backend.set_backend("jax")
    with pytest.raises(ValueError, match="default dtype must be one of"):
        backend.set_default_dtype("float16")


@pytest.mark.skipif(backend.cupy_available(), reason="this machine has CuPy and a GPU")
def test_cupy_request_without_gpu_explains_what_is_missing():
    with pytest.raises(backend.BackendError, match="cupy") as err:
        backend.set_backend("cupy")
    assert "pip install" in str(err.value) or "CUDA device" in str(err.value)
    assert backend.get_backend() == "numpy"


def test_to_numpy_and_to_device_round_trip():
    a = [[1, 2], [3, 4]]
    d = backend.to_device(a, dtype="float64")
    assert isinstance(d, np.ndarray) and d.dtype == np.float64
    np.testing.assert_array_equal(backend.to_numpy(d), a)


def test_array_module_names_the_mixed_argument():
    class FakeCupyArray:
        pass
    FakeCupyArray.__module__ = "cupy._core.core"
    with pytest.raises(backend.BackendError, match="'h0' is cupy.ndarray \\(GPU\\) but 'x' is numpy.ndarray"):
        backend.array_module(x=np.zeros(2), h0=FakeCupyArray())
    assert backend.array_module(x=np.zeros(2), y=None) is np


def test_scatter_add_accumulates_repeats():
    target = np.zeros((3, 2))
    backend.scatter_add(target, np.array([0, 2, 0]), np.ones((3, 2)))
    np.testing.assert_array_equal(target, [[2, 2], [0, 0], [1, 1]])


def test_environment_variables_select_backend_and_dtype(tmp_path):
    import subprocess
    import sys
    code = "from rnnscratch import backend; print(backend.get_backend(), backend.get_default_dtype())"
    env = {"RNNSCRATCH_BACKEND": "numpy", "RNNSCRATCH_DTYPE": "float64", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["numpy", "float64"]
    env["RNNSCRATCH_DTYPE"] = "int8"        # the import still works; the first use names the variable
    bad = subprocess.run([sys.executable, "-c", "import rnnscratch.nn; " + code], env=env, capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "RNNSCRATCH_DTYPE=int8: expected one of float32, float64" in bad.stderr


def test_an_unusable_environment_variable_is_kept_until_overridden(monkeypatch):
    monkeypatch.setattr(backend._State, "env_errors", {})
    monkeypatch.setenv("RNNSCRATCH_BACKEND", "jax")
    backend._configure_from_environment()
    with pytest.raises(backend.BackendError, match="RNNSCRATCH_BACKEND=jax: expected one of numpy, cupy"):
        backend.get_xp()
    with pytest.raises(backend.BackendError, match="RNNSCRATCH_BACKEND=jax"):
        backend.check_environment()
    with backend.use_backend("numpy"):
        assert backend.get_xp() is np              # an explicit choice overrides the variable ...
    with pytest.raises(backend.BackendError):
        backend.get_backend()                      # ... for as long as it lasts
    backend.set_backend("numpy")
    backend.check_environment()


@pytest.mark.gpu
def test_cupy_backend_round_trip():
    with backend.use_backend("cupy") as xp:
        d = backend.to_device(np.arange(4.0))
        assert backend.is_cupy_array(d) and xp.__name__ == "cupy"
        np.testing.assert_array_equal(backend.to_numpy(d * 2), np.arange(4.0) * 2)
        with pytest.raises(backend.BackendError, match="mixed array libraries"):
            backend.array_module(x=d, W=np.zeros(2))
