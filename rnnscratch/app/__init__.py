"""The application: the jobs behind the command line, callable from Python without argparse.

Data preparation, the training job, inference (predict, sample, translate, evaluate), the benchmark and the
self-check live here, each taking explicit parameters. The library (backend, functional, nn, optim,
train, data, gradcheck, viz) never imports this package; :mod:`rnnscratch.cli` only parses arguments
and calls it.

Modules: ``config`` (``TrainConfig``, the defaults table, ``RunInfo``: what a checkpoint records),
``data`` (format detection, loading, splitting, encoding, batches, the data summary and its checks),
``run_folder`` (one run per output folder: the lock, earlier results, stray temporaries), ``training``
(``train(config)``, metrics.json, history.png), ``inference`` (load a trained checkpoint, predict, sample,
translate, evaluate),
``selfcheck`` (the gradient check of every backward pass), ``bench`` (speed against PyTorch).

    from rnnscratch.app import TrainConfig, train, predict
    metrics = train(TrainConfig(epochs=3, out="runs/quick"))
    predict("runs/quick/best.npz", ["not bad"])
"""
from .config import RunInfo, TrainConfig
from .inference import evaluate, load_trained, predict, sample, translate
from .training import train

__all__ = ["TrainConfig", "RunInfo", "train", "load_trained", "predict", "sample", "translate", "evaluate"]
