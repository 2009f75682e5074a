"""Exercises on reading a trained network: which hidden units track a property of the text.

References: the position of each character in its line, and Pearson's correlation of every unit's
activation with a property over time (``numpy.corrcoef``, one unit at a time); no package function
computes either alone.
"""
from __future__ import annotations

import numpy

from ._build import label, mistakes, normal
from .grader import Case, Exercise

TOPIC = "analysis"


# ----------------------------------------------------------------------------- the position in the line

def _position_cases(rng):
    texts = ["ab\ncde\n\nf", "\nhello\nworld\n", "x" * 7]
    words = ["to", "be", "or", "not", "\n"]
    texts.append("".join(rng.choice(words, size=20)))
    return [Case(label(chars=len(t)) + f" {t[:12]!r}", (t,)) for t in texts]


def _reference_positions(text):
    position, column = numpy.zeros(len(text)), 0
    for t, ch in enumerate(text):
        column = 0 if ch == "\n" else column + 1
        position[t] = column
    return position


def _textbook_positions(text, mistake=None):
    position, column = [], 0
    for ch in text:
        if mistake == "no_reset":
            column += 1
        elif mistake == "newline_counted":
            column = 1 if ch == "\n" else column + 1
        elif mistake == "reset_after_newline":
            position.append(column)
            column = 0 if ch == "\n" else column + 1
            continue
        else:
            column = 0 if ch == "\n" else column + 1
        position.append(column)
    return numpy.array(position, dtype=float)


line_positions = Exercise(
    "line_positions", TOPIC, "the position of every character in its line", ("text",), ("position",),
    """
The property a "line-length" unit tracks: how many characters have been read since the last newline.

    position[t] = 0 when text[t] is a newline, else position[t - 1] + 1   (position[-1] = 0)

so the first character of the text and of every line is 1, the newline that ends a line is 0.

    "ab\\ncd" -> [1, 2, 0, 1, 2]

Args:
    text: a str of N characters.

Returns:
    position: (N,) floats.
""",
    _position_cases, _reference_positions,
    mistakes(_textbook_positions,
             ("no_reset", "the count starts again at every newline: position is 0 on a newline."),
             ("newline_counted", "a newline ends the line: its position is 0, and the next character is 1."),
             ("reset_after_newline", "update the count before storing it: the first character is 1, not 0, and the "
                                     "newline itself gets 0.")))


# ----------------------------------------------------------------------------- correlation of every unit

def _correlation_cases(rng):
    cases = []
    for N, H in ((40, 5), (100, 8), (25, 3)):
        states = normal(rng, N, H)
        prop = normal(rng, N) + 3.0                       # a property far from 0: centring matters
        states[:, 0] = 2.0 * prop + 0.1 * normal(rng, N) + 5.0
        states[:, 1] = -prop + 0.5 * normal(rng, N)
        cases.append(Case(label(N=N, H=H), (states, prop)))
    return cases


def _reference_correlations(states, prop):
    return numpy.array([numpy.corrcoef(states[:, j], prop)[0, 1] for j in range(states.shape[1])])


def _textbook_correlations(states, prop, mistake=None):
    s = states if mistake == "not_centred" else states - states.mean(axis=0)
    p = prop if mistake == "not_centred" else prop - prop.mean()
    covariance = (s * p[:, None]).sum(axis=0)
    if mistake == "covariance_only":
        return covariance / len(prop)
    if mistake == "states_not_normalised":
        return covariance / numpy.sqrt((p * p).sum())
    r = covariance / numpy.sqrt((s * s).sum(axis=0) * (p * p).sum())
    return numpy.abs(r) if mistake == "absolute_value" else r


unit_correlations = Exercise(
    "unit_correlations", TOPIC, "Pearson's correlation of every hidden unit with a property of the text",
    ("states", "prop"), ("r",),
    """
Pearson's correlation, over the N time steps, of each unit's activation with a property (such as the
position in the line):

    r_j = sum_t (s_tj - mean_j)(p_t - mean_p) / sqrt( sum_t (s_tj - mean_j)^2 * sum_t (p_t - mean_p)^2 )

r_j is in [-1, 1]: +1 when unit j rises exactly with the property, -1 when it falls with it, 0 when the
two are unrelated (linearly). The sign matters: keep it.

Args:
    states: (N, H) one activation per time step and unit.  prop: (N,) the property at each step.

Returns:
    r: (H,) one correlation per unit.
""",
    _correlation_cases, _reference_correlations,
    mistakes(_textbook_correlations,
             ("not_centred", "subtract each unit's mean and the property's mean first: a correlation compares "
                             "deviations, not raw values."),
             ("covariance_only", "the covariance depends on the scales; divide by both spreads, sqrt(sum s^2 * "
                                 "sum p^2), so r lies in [-1, 1]."),
             ("states_not_normalised", "normalise by the spread of the unit as well as the property's: "
                                       "sqrt(sum_t s_tj^2 * sum_t p_t^2)."),
             ("absolute_value", "keep r's sign: a unit that falls as the property rises has r < 0.")))

EXERCISES = [line_positions, unit_correlations]
