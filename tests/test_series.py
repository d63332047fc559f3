"""rnnlib.data.series: the generators' statistics, windows against a plain loop (and never ahead of their
target), the naive forecasts, argument errors."""

import numpy as np
import pytest

from rnnlib.data import series


def test_seasonal_is_a_sine_plus_independent_noise_of_the_given_size():
    y = series.seasonal(24000, 24, np.random.default_rng(1), noise=0.3, amplitude=2.0)
    t = np.arange(24000)
    # least-squares fit of a sine and cosine of the period recovers the amplitude; the residual is the noise
    basis = np.stack([np.sin(2 * np.pi * t / 24), np.cos(2 * np.pi * t / 24)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    residual = y - basis @ coef
    assert abs(np.hypot(*coef) - 2.0) < 0.01
    assert abs(residual.std() - 0.3) < 0.005
    assert abs(np.corrcoef(residual[1:], residual[:-1])[0, 1]) < 0.02


def test_seasonal_trend_and_noiseless_case():
    y = series.seasonal(100, 10, np.random.default_rng(2), noise=0.0, trend=0.5)
    np.testing.assert_allclose(y[10:] - y[:-10], 0.5 * 10, atol=1e-12)  # periodic part cancels over a period


def test_random_walk_steps_are_independent_with_the_given_size():
    y = series.random_walk(50000, np.random.default_rng(3), sigma=2.0, start=5.0)
    steps = np.diff(y)
    assert abs(steps.std() - 2.0) < 0.03 and abs(steps.mean()) < 0.03
    assert abs(np.corrcoef(steps[1:], steps[:-1])[0, 1]) < 0.02
    again = series.random_walk(50000, np.random.default_rng(3), sigma=2.0, start=5.0)
    np.testing.assert_array_equal(y, again)
    first = series.random_walk(1, np.random.default_rng(3), sigma=2.0, start=5.0)[0]
    assert first == 5.0 + 2.0 * np.random.default_rng(3).standard_normal()


def test_windows_match_a_loop_and_never_look_ahead():
    y = np.random.default_rng(4).standard_normal(30)
    xs, targets, times = series.windows(y, 5, start=8, stop=25)
    np.testing.assert_array_equal(times, np.arange(8, 25))
    assert xs.shape == (5, 17, 1)
    for m, t in enumerate(times):
        np.testing.assert_array_equal(xs[:, m, 0], y[t - 5:t])
        assert targets[m] == y[t]
    # changing y at or after a target time changes none of the inputs for that target
    changed = y.copy()
    changed[20:] += 100.0
    xs2, _, _ = series.windows(changed, 5, start=8, stop=25)
    np.testing.assert_array_equal(xs2[:, times <= 20], xs[:, times <= 20])


def test_windows_default_start_is_L():
    _, _, times = series.windows(np.arange(10.0), 3)
    np.testing.assert_array_equal(times, np.arange(3, 10))


def test_naive_and_seasonal_naive_forecasts():
    y = np.arange(20.0) ** 2
    times = np.array([5, 9, 19])
    np.testing.assert_array_equal(series.naive(y, times), y[[4, 8, 18]])
    np.testing.assert_array_equal(series.seasonal_naive(y, times, 4), y[[1, 5, 15]])


def test_naive_forecast_of_a_random_walk_has_the_step_variance():
    y = series.random_walk(40000, np.random.default_rng(6), sigma=0.5)
    times = np.arange(1, 40000)
    assert abs(np.mean((series.naive(y, times) - y[times]) ** 2) - 0.25) < 0.01


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: series.seasonal(0, 24, np.random.default_rng(0)), ValueError, r"T: expected an integer >= 1, got 0"),
    (lambda: series.seasonal(10, 0, np.random.default_rng(0)), ValueError, r"period: expected a positive"),
    (lambda: series.seasonal(10, 5, np.random.default_rng(0), noise=-1), ValueError, r"noise: expected a non-neg"),
    (lambda: series.random_walk(10, np.random.default_rng(0), sigma=0), ValueError, r"sigma: expected a positive"),
    (lambda: series.windows(np.zeros((3, 2)), 2), ValueError, r"y: expected shape \(T\), got \(3, 2\)"),
    (lambda: series.windows(np.zeros(5), 0), ValueError, r"L: expected an integer >= 1, got 0"),
    (lambda: series.windows(np.zeros(5), 5), ValueError, r"start, stop: expected L=5 <= start < stop <= len\(y\)=5"),
    (lambda: series.naive(np.zeros(5), np.array([0, 1])), ValueError, r"times: expected values in \[1, len\(y\)=5\)"),
    (lambda: series.naive(np.zeros(5), np.array([1.0])), ValueError, r"times: expected a 1-D integer array"),
    (lambda: series.seasonal_naive(np.zeros(9), np.array([3]), 4), ValueError, r"times: expected values in \[4,"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
