"""Synthetic time series and honest one-step-ahead forecasting: windows without look-ahead, naive baselines.

    y = series.seasonal(T, period, rng, noise=0.3)       # (T,) a noisy seasonal signal
    y = series.random_walk(T, rng)                       # (T,) cumulative sum of N(0, 1) steps
    xs, targets, times = series.windows(y, L, start)     # xs (L, M, 1) time-major, targets (M,)
    series.naive(y, times)                                # y[t - 1] for every target time t
    series.seasonal_naive(y, times, period)               # y[t - period]

A forecast of ``y[t]`` may use ``y[0 .. t-1]`` only. ``windows`` builds each input from the ``L`` values
just before its target, so no input ever contains the value it predicts or anything after it; the
times returned with them make that checkable. Scaling statistics must come from the training part
alone, and the split must be chronological: train on the past, test on the future.
"""

import numpy as np

from rnnlib.core._checks import as_array, expect_shape


def _positive_int(name, value, minimum=1):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")


def seasonal(T, period, rng, noise=0.3, amplitude=1.0, trend=0.0):
    """``(T,)`` series ``amplitude * sin(2 pi t / period) + trend * t + noise * e_t`` with ``e_t ~ N(0, 1)``.

    The sine has a random phase drawn from ``rng``; the noise is independent at every step, so no
    forecast can have an expected squared error below ``noise**2``.
    """
    _positive_int("T", T)
    if not period > 0:
        raise ValueError(f"period: expected a positive number of steps, got {period!r}")
    if not noise >= 0:
        raise ValueError(f"noise: expected a non-negative standard deviation, got {noise!r}")
    t = np.arange(T)
    phase = rng.uniform(0.0, 2 * np.pi)
    return amplitude * np.sin(2 * np.pi * t / period + phase) + trend * t + noise * rng.standard_normal(T)


def random_walk(T, rng, sigma=1.0, start=0.0):
    """``(T,)`` random walk ``y_t = y_{t-1} + sigma * e_t``, ``e_t ~ N(0, 1)``, with ``y_0 = start + sigma * e_0``.

    Its steps are independent of the past, so the best forecast of ``y_t`` from ``y_0 .. y_{t-1}`` is
    ``y_{t-1}`` (the naive forecast), with expected squared error ``sigma**2``.
    """
    _positive_int("T", T)
    if not sigma > 0:
        raise ValueError(f"sigma: expected a positive step size, got {sigma!r}")
    return start + sigma * np.cumsum(rng.standard_normal(T))


def windows(y, L, start=None, stop=None):
    """One-step-ahead training pairs: the ``L`` values before each target time ``t`` and ``y[t]``.

    Target times run over ``range(max(start, L), stop)`` (``start`` defaults to L, ``stop`` to len(y)).
    Returns ``xs (L, M, 1)`` time-major with ``xs[:, m, 0] = y[t_m - L : t_m]``, ``targets (M,) = y[t_m]``
    and ``times (M,)`` the target times ``t_m``. Every input value lies strictly before its target.
    """
    y = as_array("y", y)
    expect_shape("y", y, (("T", None),))
    _positive_int("L", L)
    start = L if start is None else max(int(start), L)
    stop = len(y) if stop is None else int(stop)
    if not L <= start < stop <= len(y):
        raise ValueError(f"start, stop: expected L={L} <= start < stop <= len(y)={len(y)} after clipping "
                         f"start to L, got start={start}, stop={stop}")
    times = np.arange(start, stop)
    xs = y[times[None, :] + np.arange(-L, 0)[:, None]]
    return xs[..., None], y[times], times


def _check_times(y, times, lag):
    y, times = as_array("y", y), np.asarray(times)
    expect_shape("y", y, (("T", None),))
    if times.dtype.kind not in "iu" or times.ndim != 1:
        raise ValueError(f"times: expected a 1-D integer array of target times, got {times.dtype} {times.shape}")
    if times.size and (times.min() < lag or times.max() >= len(y)):
        raise ValueError(f"times: expected values in [{lag}, len(y)={len(y)}) so that y[t - {lag}] exists, "
                         f"got values from {times.min()} to {times.max()}")
    return y, times


def naive(y, times):
    """The last-value forecast: ``y[t - 1]`` for every target time ``t`` in ``times``."""
    y, times = _check_times(y, times, 1)
    return y[times - 1]


def seasonal_naive(y, times, period):
    """The same-season-last-time forecast: ``y[t - period]`` for every ``t`` in ``times``."""
    _positive_int("period", period)
    y, times = _check_times(y, times, period)
    return y[times - period]

