"""Every exercise by name, in the order of the course: checking gradients, the vanilla RNN, the layers
around it, the losses, training and generation, the gated cells."""
from __future__ import annotations

from . import gated, gradients, layers, losses, rnn, training

TOPICS = (gradients, rnn, layers, losses, training, gated)
EXERCISES = {exercise.name: exercise for topic in TOPICS for exercise in topic.EXERCISES}
