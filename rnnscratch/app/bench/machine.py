"""What the benchmark runs on: NumPy's BLAS and its kernels, the CPU, a file-name-safe machine name,
and the libraries this machine can time."""
from __future__ import annotations

import os

AVX2_KERNELS = ("haswell", "zen")      # OpenBLAS kernel sets that use AVX2 at most


def available_libraries():
    """The libraries this machine can time: numpy always; torch and the GPU ones when present."""
    import importlib.util
    from ...backend import cupy_available
    found = ["numpy"]
    if cupy_available():
        found.append("cupy")
    if importlib.util.find_spec("torch") is not None:
        found.append("torch")
        try:
            import torch
            if torch.cuda.is_available():
                found.append("torch-cuda")
        except Exception:  # pragma: no cover - a broken torch install
            pass
    return found


def blas_info():
    """NumPy's BLAS as it runs: the ``OPENBLAS_*`` environment variables and, if threadpoolctl is
    installed, the library, version, kernel architecture and thread count it reports."""
    import numpy  # noqa: F401  (loads the BLAS that threadpoolctl inspects)
    info = {"environment": {k: v for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_")}}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return info
    pool = next((p for p in threadpool_info() if p.get("user_api") == "blas"), {})
    info.update({k: pool.get(k) for k in ("internal_api", "version", "architecture", "num_threads")})
    return info


def cpuinfo_field(name, path="/proc/cpuinfo"):
    """The value of the first ``name`` line of /proc/cpuinfo (or ``path``), or None (no such line, or
    no such file)."""
    try:
        with open(path) as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith(name)), None)
    except OSError:
        return None


def cpu_flags():
    """The CPU's feature flags (an empty set where /proc/cpuinfo does not list them)."""
    return set((cpuinfo_field("flags") or "").split())


def avx512_hint(info, flags):
    """A one-line advice when OpenBLAS runs AVX2 kernels on a CPU with AVX-512, else None.

    OpenBLAS picks its kernels when NumPy loads: from the CPU model, unless ``OPENBLAS_CORETYPE``
    forces a set (this project's development machines force ``Haswell`` on an AVX-512 AMD EPYC). Only
    the environment of a new process can change the choice, so the suite reports it rather than act.
    """
    architecture = (info.get("architecture") or "").lower()
    if info.get("internal_api") != "openblas" or architecture not in AVX2_KERNELS or "avx512f" not in flags:
        return None
    forced = info.get("environment", {}).get("OPENBLAS_CORETYPE")
    cause = f"OPENBLAS_CORETYPE={forced} is set" if forced else "it did not recognise the CPU"
    return (f"note: OpenBLAS runs its {info['architecture']} (AVX2) kernels on this AVX-512 CPU ({cause}); "
            "OPENBLAS_CORETYPE=SkylakeX in a new process's environment selects its AVX-512 kernels")


def machine_name():
    """A file-name-safe description of this machine: its processor model and core count."""
    import platform
    import re
    model = cpuinfo_field("model name") or platform.processor() or platform.machine()
    name = f"{model}-{os.cpu_count()}cores"
    return re.sub(r"[^A-Za-z0-9.]+", "-", name).strip("-").lower()
