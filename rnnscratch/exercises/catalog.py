"""Every exercise by name, in the order of the course: checking gradients, the vanilla RNN, the layers
around it, the losses, training and generation, the gated cells, reading a trained network, sequence
to sequence."""
from __future__ import annotations

from . import analysis, gated, gradients, layers, losses, rnn, seq2seq, training

TOPICS = (gradients, rnn, layers, losses, training, gated, analysis, seq2seq)
EXERCISES = {exercise.name: exercise for topic in TOPICS for exercise in topic.EXERCISES}
