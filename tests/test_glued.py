"""rnnlib.display.glued hands myst-nb plain Python values, whatever numeric type a lesson computed."""

import numpy as np
import pytest
import torch

from rnnlib.display import glued


@pytest.fixture
def glued_values(monkeypatch):
    seen = {}

    def fake_glue(key, value, display=True):
        assert display is False  # a glued number is never shown in its cell
        seen[key] = value

    monkeypatch.setattr(glued, "glue", fake_glue)
    return seen


def test_numpy_scalars_become_python_numbers(glued_values):
    glued.glue_value("a", np.float64(0.25))
    glued.glue_value("b", np.int64(7))
    glued.glue_value("c", "solved at step 300")
    assert glued_values == {"a": 0.25, "b": 7, "c": "solved at step 300"}
    assert type(glued_values["a"]) is float and type(glued_values["b"]) is int
    assert format(glued_values["a"], ".2f") == "0.25"


def test_glue_numbers_makes_every_value_a_float(glued_values):
    glued.glue_numbers({"x": np.array(1.5), "y": torch.tensor(2.0), "z": 3})
    assert glued_values == {"x": 1.5, "y": 2.0, "z": 3.0}
    assert all(type(v) is float for v in glued_values.values())


def test_a_value_that_is_not_a_number_is_refused(glued_values):
    with pytest.raises((TypeError, ValueError)):
        glued.glue_numbers({"bad": np.array([1.0, 2.0])})
