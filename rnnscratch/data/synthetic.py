"""Sequence-to-sequence tasks the package generates itself: seeded, offline, nothing to download.

* :func:`addition` — ``"16+75"`` -> ``"91"``, both operands drawn uniformly from ``0 .. 999``
  ("Deep Learning from Scratch 2", chapter 7).
* :func:`dates` — a date written in one of :data:`DATE_FORMATS` (``"september 27, 1994"``, ``"9/27/94"``,
  ``"TUESDAY, SEPTEMBER 27, 1994"``, ``"27 sep 1994"``, ``"1994.09.27"``, ...) -> ``"1994-09-27"``
  (chapter 8).
* :func:`synthetic_pairs` — a named task's training and held-out pairs, with no source in both.

Every source is distinct, so a held-out pair is never a training pair. Sources are not padded: DLFS2
pads every addition question to 7 characters and every answer to 5 with spaces because its models have
no notion of length; here each batch carries the sources' lengths, the encoder stops at them and
attention gives padding no weight, so trailing spaces would only be extra tokens to learn.
"""
from __future__ import annotations

import datetime

import numpy

from .parallel import ParallelDataset

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")   # date.weekday() order

# str.format templates over the fields of _date_fields: a month or weekday name in lower case
# ({monthname}), capitalised ({Monthname}) or upper case ({MONTHNAME}); {mon}/{Mon}/{wkd}/{Wkd} the three-letter
# abbreviations; {month}/{day} unpadded numbers, {mm}/{dd} two digits; {yy} a two-digit year; {nth} "27th".
# Slashes always mean month/day/year and dots with the year last day.month.year, so no source is ambiguous.
DATE_FORMATS = (
    "{monthname} {day}, {year}",                # september 27, 1994
    "{Monthname} {day}, {year}",                # September 27, 1994
    "{MONTHNAME} {day}, {year}",                # SEPTEMBER 27, 1994
    "{month}/{day}/{yy}",                       # 9/27/94
    "{mm}/{dd}/{yy}",                           # 09/27/94
    "{mm}/{dd}/{year}",                         # 09/27/1994
    "{WEEKDAY}, {MONTHNAME} {day}, {year}",     # TUESDAY, SEPTEMBER 27, 1994
    "{Weekday}, {Monthname} {day}, {year}",     # Tuesday, September 27, 1994
    "{weekday}, {monthname} {day}, {year}",     # tuesday, september 27, 1994
    "{day} {mon} {year}",                       # 27 sep 1994
    "{day} {Monthname} {year}",                 # 27 September 1994
    "{day} {mon} {yy}",                         # 27 sep 94
    "{year}.{mm}.{dd}",                         # 1994.09.27
    "{dd}.{mm}.{year}",                         # 27.09.1994
    "{mon} {day}, {year}",                      # sep 27, 1994
    "{Mon} {day} {year}",                       # Sep 27 1994
    "{dd}-{Mon}-{year}",                        # 27-Sep-1994
    "{year}/{mm}/{dd}",                         # 1994/09/27
    "{wkd}, {day} {mon} {year}",                # tue, 27 sep 1994
    "{Wkd} {Mon} {dd} {year}",                  # Tue Sep 27 1994
    "{Monthname} {nth}, {year}",                # September 27th, 1994
    "{nth} of {monthname} {year}",              # 27th of september 1994
    "{year}-{mm}-{dd}",                         # 1994-09-27 (already normal)
    "{year}{mm}{dd}",                           # 19940927
)

# Two-digit years are read as POSIX strptime reads %y: 69-99 -> 1969-1999, 00-68 -> 2000-2068, so a
# format with {yy} only writes dates of those years.
TWO_DIGIT_YEARS = (1969, 2068)
SYNTHETIC_TASKS = ("addition", "dates")


def _ordinal(day):
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _date_fields(date):
    month, weekday = MONTHS[date.month - 1], WEEKDAYS[date.weekday()]
    return {"year": date.year, "yy": f"{date.year % 100:02d}", "month": date.month, "mm": f"{date.month:02d}",
            "day": date.day, "dd": f"{date.day:02d}", "nth": _ordinal(date.day),
            "monthname": month, "Monthname": month.capitalize(), "MONTHNAME": month.upper(),
            "mon": month[:3], "Mon": month[:3].capitalize(),
            "weekday": weekday, "Weekday": weekday.capitalize(), "WEEKDAY": weekday.upper(),
            "wkd": weekday[:3], "Wkd": weekday[:3].capitalize()}


def format_date(date, template) -> str:
    """``date`` (a :class:`datetime.date`) written as ``template`` (one of :data:`DATE_FORMATS`), in English
    whatever the locale."""
    return template.format(**_date_fields(date))


def _distinct_pairs(n, draw, rng, what, chunk=4096):
    """The first ``n`` pairs with distinct sources of the seeded stream that ``draw(rng, chunk)`` proposes,
    ``chunk`` candidates at a time: a prefix of the same stream whatever ``n``."""
    if n < 1:
        raise ValueError(f"n: expected at least 1 pair, got {n}")
    pairs, idle = {}, 0
    while len(pairs) < n:
        before = len(pairs)
        for source, target in draw(rng, chunk):
            pairs.setdefault(source, target)
        idle = 0 if len(pairs) > before else idle + 1
        if idle == 20:                                  # 20 chunks with nothing new: every pair has been drawn
            raise ValueError(f"n: {n} distinct {what} pairs asked for, only {len(pairs)} found; ask for fewer")
    pairs = list(pairs.items())[:n]
    return [s for s, _ in pairs], [t for _, t in pairs]


def addition(n, seed=0, max_operand=999) -> ParallelDataset:
    """``n`` distinct additions ``"a+b"`` -> ``"a+b's value"``, ``a`` and ``b`` uniform in ``[0, max_operand]``."""
    if not (isinstance(max_operand, int) and max_operand >= 1):
        raise ValueError(f"max_operand: expected an integer >= 1, got {max_operand!r}")

    def draw(rng, k):
        a, b = rng.integers(0, max_operand + 1, size=(2, k))
        return ((f"{x}+{y}", str(x + y)) for x, y in zip(a.tolist(), b.tolist()))

    sources, targets = _distinct_pairs(n, draw, numpy.random.default_rng(seed), f"addition (operands up to "
                                       f"{max_operand}, {(max_operand + 1) ** 2} possible)")
    return ParallelDataset(sources, targets, f"addition(seed={seed})")


def dates(n, seed=0, years=(1900, 2099)) -> ParallelDataset:
    """``n`` distinct dates in a human format -> ISO ``YYYY-MM-DD``; dates uniform over the ``years``
    (inclusive), each written in a format drawn uniformly from :data:`DATE_FORMATS` (a two-digit-year
    format only for the years of :data:`TWO_DIGIT_YEARS`)."""
    first, last = years
    if not 1 <= first <= last <= 9999:
        raise ValueError(f"years: expected (first, last) with 1 <= first <= last <= 9999, got {years!r}")
    spans = []                          # (template, first day's ordinal, last day's ordinal) of each usable format
    for template in DATE_FORMATS:
        lo, hi = first, last
        if "{yy}" in template:
            lo, hi = max(first, TWO_DIGIT_YEARS[0]), min(last, TWO_DIGIT_YEARS[1])
        if lo <= hi:
            spans.append((template, datetime.date(lo, 1, 1).toordinal(), datetime.date(hi, 12, 31).toordinal()))

    templates = [template for template, _, _ in spans]
    lows, highs = (numpy.array([span[k] for span in spans]) for k in (1, 2))

    def draw(rng, k):
        chosen = rng.integers(0, len(spans), size=k)
        days = rng.integers(lows[chosen], highs[chosen] + 1)         # one draw per pair, within its format's span
        for f, day in zip(chosen.tolist(), days.tolist()):
            date = datetime.date.fromordinal(day)
            yield format_date(date, templates[f]), date.isoformat()

    sources, targets = _distinct_pairs(n, draw, numpy.random.default_rng(seed), f"date ({first}-{last})")
    return ParallelDataset(sources, targets, f"dates(seed={seed})")


def synthetic_pairs(name, n_train=45000, n_test=5000, seed=0):
    """``(train, held_out)``: ``n_train`` and ``n_test`` pairs of the task ``name`` (one of
    :data:`SYNTHETIC_TASKS`), drawn as distinct sources so that no source is in both.

    The held-out pairs are the first ``n_test`` of the seeded stream, so they stay the same whatever
    ``n_train``: a smaller training set is measured on the same held-out pairs. The defaults are the
    sizes of DLFS2's data sets (50,000 pairs, 10% held out).
    """
    generators = {"addition": addition, "dates": dates}
    if name not in generators:
        raise ValueError(f"name: expected one of {', '.join(SYNTHETIC_TASKS)}, got {name!r}")
    for what, n in (("n_train", n_train), ("n_test", n_test)):
        if n < 1:
            raise ValueError(f"{what}: expected at least 1 pair, got {n}")
    pairs = generators[name](n_test + n_train, seed=seed)
    pairs.source = f"{name}(seed={seed})"
    return pairs.subset(range(n_test, n_test + n_train)), pairs.subset(range(n_test))
