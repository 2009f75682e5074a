"""The application: the jobs behind the command line, callable from Python without argparse.

Data preparation, the training job, inference (predict, sample, evaluate), the benchmark and the
self-check live here, each taking explicit parameters. The library (backend, functional, nn, optim,
train, data, gradcheck, viz) never imports this package; :mod:`rnnscratch.cli` only parses arguments
and calls it.
"""
