"""Numbers handed from a lesson's cells to its text (myst-nb ``glue``), so that no sentence types them.

A cell calls ``glue_numbers({"ch3-rate": rate})`` or ``glue_value("ch6-outcome", run.outcome)``; the text
shows the value with {glue:text}`ch3-rate:.3f`. Nothing is displayed in the cell. myst-nb formats the
value from its ``repr``, which for a numpy scalar is ``np.float64(0.5)``: values are turned into plain
Python numbers first.
"""

import numpy as np
from myst_nb import glue


def glue_value(key, value):
    """Glue ``value`` under ``key``, numpy scalars as the Python number they hold (strings as they are)."""
    glue(key, value.item() if isinstance(value, np.generic) else value, display=False)


def glue_numbers(values):
    """Glue each ``{key: number}`` as a Python float (numpy scalars, 0-d arrays and tensors included)."""
    for key, value in values.items():
        glue_value(key, float(value))
