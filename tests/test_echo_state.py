"""rnnlib.analysis.echo_state: the reservoir's spectral radius, its states against rnnlib.core.rnn, the delay targets,
the closed-form ridge read-out against scikit-learn and least squares, and the recall it measures."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from rnnlib.analysis import echo_state
from rnnlib.core import rnn


def test_reservoir_has_the_requested_spectral_radius_shapes_and_zero_biases():
    W_ih, W_hh, b_ih, b_hh = echo_state.reservoir(30, 0.8, np.random.default_rng(0), D=2, input_scale=0.3)
    assert W_ih.shape == (30, 2) and W_hh.shape == (30, 30)
    assert abs(np.abs(np.linalg.eigvals(W_hh)).max() - 0.8) < 1e-12
    assert np.abs(W_ih).max() <= 0.3
    assert not b_ih.any() and not b_hh.any()


def test_states_are_rnn_forward_on_the_scalar_sequence():
    weights = echo_state.reservoir(8, 0.9, np.random.default_rng(1))
    u = np.random.default_rng(2).uniform(-1, 1, 25)
    h0 = np.random.default_rng(3).uniform(-1, 1, 8)
    hs, _ = rnn.forward(u[:, None, None], h0[None], *weights)
    np.testing.assert_array_equal(echo_state.states(weights, u, h0), hs[:, 0])
    assert echo_state.states(weights, u).shape == (25, 8)


def test_delay_targets_line_up_with_the_input():
    u = np.arange(10.0)
    Y = echo_state.delay_targets(u, [0, 1, 3], start=3)
    assert Y.shape == (7, 3)
    np.testing.assert_array_equal(Y[:, 0], u[3:])  # row r is step t = r + 3
    np.testing.assert_array_equal(Y[:, 1], u[2:-1])
    np.testing.assert_array_equal(Y[:, 2], u[:-3])
    with pytest.raises(ValueError, match="delays"):
        echo_state.delay_targets(u, [4], start=3)


def test_ridge_matches_scikit_learn_with_an_unpenalised_intercept():
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((50, 6)) + 2.0, rng.standard_normal((50, 3)) - 1.0
    W, b = echo_state.ridge(X, Y, alpha=0.7)
    reference = Ridge(alpha=0.7, fit_intercept=True, solver="cholesky").fit(X, Y)
    np.testing.assert_allclose(W, reference.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b, reference.intercept_, rtol=1e-10, atol=1e-12)


def test_ridge_without_penalty_is_least_squares_with_a_constant_column():
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((40, 4)), rng.standard_normal((40, 2))
    W, b = echo_state.ridge(X, Y, alpha=0.0)
    coef, *_ = np.linalg.lstsq(np.hstack([X, np.ones((40, 1))]), Y, rcond=None)
    np.testing.assert_allclose(W, coef[:4].T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b, coef[4], rtol=1e-10, atol=1e-12)


def test_r_squared_is_one_for_a_perfect_fit_and_zero_for_the_mean():
    Y = np.random.default_rng(6).standard_normal((30, 2))
    np.testing.assert_allclose(echo_state.r_squared(Y, Y), [1.0, 1.0])
    np.testing.assert_allclose(echo_state.r_squared(np.broadcast_to(Y.mean(axis=0), Y.shape), Y), [0.0, 0.0],
                               atol=1e-15)


def test_delay_recall_is_near_perfect_for_short_delays_and_fades_with_the_delay():
    weights = echo_state.reservoir(50, 0.5, np.random.default_rng(7), input_scale=0.1)
    u = np.random.default_rng(8).uniform(-1, 1, 900)
    r2 = echo_state.delay_recall(weights, u, [0, 1, 2, 30], washout=50, n_train=500, alpha=1e-4)
    assert r2.shape == (4,)
    assert r2[:3].min() > 0.99  # the current and the last two inputs
    assert r2[3] < 0.1  # 30 steps back, at a spectral radius of 0.5: gone


def test_a_larger_spectral_radius_recalls_further_back():
    u = np.random.default_rng(9).uniform(-1, 1, 900)
    r2 = {rho: echo_state.delay_recall(echo_state.reservoir(50, rho, np.random.default_rng(10), input_scale=0.1),
                                       u, [12], washout=50, n_train=500, alpha=1e-4)[0]
          for rho in (0.5, 0.95)}
    assert r2[0.5] < 0.3 < 0.8 < r2[0.95]
