"""The generated sequence-to-sequence tasks: addition and date normalisation."""
import datetime
import re

import pytest

from rnnscratch.data import DATE_FORMATS, addition, dates, format_date, synthetic_pairs
from rnnscratch.data.synthetic import TWO_DIGIT_YEARS

# The template fields as C-locale strptime reads them: an oracle independent of format_date.
_STRPTIME = {"monthname": "%B", "Monthname": "%B", "MONTHNAME": "%B", "mon": "%b", "Mon": "%b",
             "weekday": "%A", "Weekday": "%A", "WEEKDAY": "%A", "wkd": "%a", "Wkd": "%a",
             "day": "%d", "dd": "%d", "nth": "%d", "month": "%m", "mm": "%m", "year": "%Y", "yy": "%y"}


def parse(text, template):
    pattern = re.sub(r"\{(\w+)\}", lambda m: _STRPTIME[m.group(1)], template)
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)          # "27th" -> "27" (strptime has no ordinals)
    return datetime.datetime.strptime(text, pattern).date()


def test_addition_pairs_are_right_distinct_and_seeded():
    ds = addition(3000, seed=3)
    assert len(ds) == 3000 and len(set(ds.sources)) == 3000
    for source, target in zip(ds.sources, ds.targets):
        a, b = source.split("+")
        assert 0 <= int(a) <= 999 and 0 <= int(b) <= 999 and int(target) == int(a) + int(b)
        assert source == f"{int(a)}+{int(b)}" and target == str(int(target))      # no padding, no leading zeros
    assert addition(3000, seed=3).sources == ds.sources and addition(3000, seed=4).sources != ds.sources
    assert max(len(s) for s in ds.sources) == 7 and max(len(t) for t in ds.targets) == 4
    assert ds.location(4) == "addition(seed=3): pair 5"


def test_addition_can_exhaust_a_small_range_and_refuses_more():
    ds = addition(100, max_operand=9)
    assert sorted(ds.sources) == sorted(f"{a}+{b}" for a in range(10) for b in range(10))
    with pytest.raises(ValueError, match="n: 101 distinct addition .* pairs asked for, only 100 found"):
        addition(101, max_operand=9)
    with pytest.raises(ValueError, match="max_operand: expected an integer >= 1, got 0"):
        addition(5, max_operand=0)
    with pytest.raises(ValueError, match="n: expected at least 1 pair, got 0"):
        addition(0)


@pytest.mark.parametrize("template", DATE_FORMATS)
def test_every_date_format_reads_back_as_its_date(template):
    days = [datetime.date(1994, 9, 27), datetime.date(1969, 1, 1), datetime.date(2068, 12, 31),
            datetime.date(2000, 2, 29), datetime.date(1999, 11, 11)] + \
        [datetime.date(2021, 3, d) for d in (1, 2, 3, 12, 13, 21, 22, 23, 31)]
    for day in days:
        text = format_date(day, template)
        assert parse(text, template) == day, text
        if "weekday" in template.lower() or "wkd" in template.lower():
            assert day.strftime("%a").lower() in text.lower()      # the weekday is the date's own


def test_date_formats_are_many_and_examples_of_the_issue_are_among_them():
    assert len(DATE_FORMATS) >= 15 and len(set(DATE_FORMATS)) == len(DATE_FORMATS)
    day = datetime.date(1994, 9, 27)
    written = {format_date(day, t) for t in DATE_FORMATS}
    assert {"september 27, 1994", "9/27/94", "TUESDAY, SEPTEMBER 27, 1994", "27 sep 1994", "1994.09.27"} <= written


def test_dates_are_iso_targets_of_many_formats_within_the_years():
    ds = dates(4000, seed=1)
    assert len(set(ds.sources)) == 4000
    shapes = set()
    for source, target in zip(ds.sources, ds.targets):
        day = datetime.date.fromisoformat(target)
        assert 1900 <= day.year <= 2099 and target == day.isoformat()
        shapes.add(re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", source))))
        if re.fullmatch(r"\d{1,2}/\d{1,2}/\d\d", source) or re.fullmatch(r"\d+ [a-z]{3} \d\d", source):
            assert TWO_DIGIT_YEARS[0] <= day.year <= TWO_DIGIT_YEARS[1]
    assert len(shapes) >= 15
    assert dates(50, seed=1).sources == ds.sources[:50]          # seeded: the same first pairs
    narrow = dates(300, seed=0, years=(1900, 1910))
    assert all(1900 <= int(t[:4]) <= 1910 for t in narrow.targets)
    assert not any(re.fullmatch(r"\d{1,2}/\d{1,2}/\d\d", s) for s in narrow.sources)    # none before 1969
    with pytest.raises(ValueError, match="years: expected"):
        dates(5, years=(2000, 1990))


def test_synthetic_pairs_hold_out_distinct_sources():
    train, test = synthetic_pairs("dates", 2000, 500, seed=2)
    assert len(train) == 2000 and len(test) == 500 and not set(train.sources) & set(test.sources)
    train_b, _ = synthetic_pairs("dates", 2000, 500, seed=2)
    assert train_b.sources == train.sources and train.source == "dates(seed=2)"
    smaller, same_test = synthetic_pairs("dates", 300, 500, seed=2)        # fewer training pairs, same held-out ones
    assert same_test.sources == test.sources and smaller.sources == train.sources[:300]
    train, test = synthetic_pairs("addition", 900, 100)
    assert not set(train.sources) & set(test.sources)
    with pytest.raises(ValueError, match="name: expected one of addition, dates, got 'sums'"):
        synthetic_pairs("sums")
    with pytest.raises(ValueError, match="n_test: expected at least 1 pair, got 0"):
        synthetic_pairs("addition", 10, 0)
