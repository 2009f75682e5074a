"""Every exercise by name, in the order of the course: checking gradients, the vanilla RNN, the layers
around it, the losses, training and generation, the gated cells, reading a trained network."""
from __future__ import annotations

from . import analysis, gated, gradients, layers, losses, rnn, training

TOPICS = (gradients, rnn, layers, losses, training, gated, analysis)
EXERCISES = {exercise.name: exercise for topic in TOPICS for exercise in topic.EXERCISES}
