"""Shared test fixtures: seeded generators, and the ``gpu`` marker that skips without CuPy/CUDA."""
import os

import numpy as np
import pytest

from rnnscratch import backend

GPU_AVAILABLE = backend.cupy_available()


def pytest_collection_modifyitems(config, items):
    if GPU_AVAILABLE:
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device (pip install 'rnnscratch[gpu]' on a GPU machine)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def data_dir():
    """The real data folder from RNNSCRATCH_DATA_DIR; tests that need it skip when it is unset."""
    path = os.environ.get("RNNSCRATCH_DATA_DIR")
    if not path or not os.path.isdir(path):
        pytest.skip("RNNSCRATCH_DATA_DIR is not set to a folder with the real data sets")
    return path
