"""TrainConfig: task defaults resolved in one place, choices checked; RunInfo: round trip, legacy task names."""
import dataclasses
import os

import pytest

from rnnscratch.app.config import LEGACY_TASKS, TASK_DEFAULTS, RunInfo, TrainConfig
from rnnscratch.train import TASK_NAMES as TASKS


@pytest.mark.parametrize("task", TASKS)
def test_unset_options_take_the_tasks_defaults(task):
    config = TrainConfig(task=task).resolved()
    for key, value in TASK_DEFAULTS[task].items():
        assert getattr(config, key) == value, key
    assert config.out == os.path.join("runs", task)


def test_every_task_has_defaults_and_they_differ():
    assert set(TASK_DEFAULTS) == set(TASKS)
    assert TASK_DEFAULTS["classify"] != TASK_DEFAULTS["lm"]


def test_explicit_options_win_and_the_original_is_untouched():
    config = TrainConfig(task="lm", hidden=7, model="gru", out="somewhere", val_split=0.0)
    resolved = config.resolved()
    assert (resolved.hidden, resolved.model, resolved.out, resolved.val_split) == (7, "gru", "somewhere", 0.0)
    assert resolved.layers == TASK_DEFAULTS["lm"]["layers"]
    assert config.layers is None and config.out == "somewhere"          # resolved() returned a copy
    assert resolved.resolved() == resolved


@pytest.mark.parametrize("field, value", [("task", "sentiment"), ("model", "tcn"), ("optimizer", "lion"),
                                          ("format", "xml"), ("tokenizer", "bpe"), ("schedule", "linear"),
                                          ("pooling", "attention"), ("dtype", "float16")])
def test_bad_choices_are_named(field, value):
    with pytest.raises(ValueError, match=f"{field}: expected one of .*got '{value}'"):
        TrainConfig(**{field: value}).resolved()


def test_run_info_round_trip():
    info = RunInfo(task="classify", tokenizer="char", max_len=40, label_names=["a", "b"], data="x.csv",
                   format="csv", test_data="t.csv", test_format="csv", seed=3, test_split=0.3, val_split=0.2,
                   batch_size=16)
    record = info.to_dict()
    assert set(record) == {f.name for f in dataclasses.fields(RunInfo)}
    assert RunInfo.from_dict(record) == info
    assert RunInfo.from_dict({**record, "from_the_future": 1}) == info      # unknown keys are ignored


@pytest.mark.parametrize("old, new", sorted(LEGACY_TASKS.items()))
def test_legacy_task_names_are_mapped_on_reading(old, new):
    record = {"task": old, "tokenizer": "char", "max_len": None, "label_names": ["x", "y"], "data": "d",
              "format": None, "test_data": None, "seed": 0, "test_split": 0.2, "val_split": 0.1, "batch_size": 32}
    info = RunInfo.from_dict(record)
    assert info.task == new and new in TASKS
    assert info.to_dict()["task"] == new                    # written back with the new name


def test_a_record_without_task_or_with_an_unknown_task_is_refused():
    with pytest.raises(KeyError, match="no 'task'"):
        RunInfo.from_dict({"tokenizer": "word"})
    with pytest.raises(ValueError, match="task: expected one of"):
        RunInfo.from_dict({"task": "translate", "tokenizer": "word"})


def test_run_info_of_a_run_copies_the_config():
    config = TrainConfig(task="classify", data="embedded", seed=5, batch_size=8).resolved()
    info = RunInfo.of_run(config, ("neg", "pos"))
    assert (info.task, info.seed, info.batch_size, info.tokenizer) == ("classify", 5, 8, "word")
    assert info.label_names == ["neg", "pos"] and info.val_split == config.val_split
