"""plots.plot_norms_by_lag: what it draws, read back from the axes."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from rnnlib.display import plots  # noqa: E402


def test_plot_norms_by_lag_draws_each_run_by_lag_with_its_rate():
    norms = {"a": 0.5 ** np.arange(10), "bound": np.array([1.0, 0.0, np.inf, 2.0])}
    ax = plots.plot_norms_by_lag(norms, rates={"a": 0.5}, styles={"bound": {"ls": "--"}})
    a, bound = ax.get_lines()
    assert np.array_equal(a.get_xdata(), np.arange(10)) and np.allclose(a.get_ydata(), norms["a"])
    assert np.isnan(bound.get_ydata()[1:3]).all() and bound.get_linestyle() == "--"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a: x0.50/step", "bound"]
    assert ax.get_yscale() == "log" and "lag" in ax.get_xlabel()
