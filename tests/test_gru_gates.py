"""rnnlib.analysis.gru_gates: gates against torch.nn.GRUCell (float64), forced gates, the step Jacobian against
autograd, the scaled recurrent weights and the SGD run with and without clipping."""

import numpy as np
import pytest
import torch

from rnnlib.analysis import gru_gates
from rnnlib.core import gru

TOL = 1e-12


def torch_cell(weights):
    """A float64 torch.nn.GRUCell holding rnnlib's four arrays."""
    cell = torch.nn.GRUCell(weights[0].shape[1], weights[1].shape[1], dtype=torch.float64)
    with torch.no_grad():
        for name, w in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), weights):
            getattr(cell, name).copy_(torch.from_numpy(w))
    return cell


@pytest.fixture
def step(rng):
    N, D, H = 3, 4, 5
    weights = gru.init_weights(D, H, rng)
    return rng.standard_normal((N, D)), rng.standard_normal((N, H)), weights


def test_gates_reproduce_the_step_and_torch(step):
    x, h_prev, weights = step
    r, z, n = gru_gates.gate_activations(x, h_prev, *weights)
    h_ours = (1 - z) * n + z * h_prev
    with torch.no_grad():
        h_torch = torch_cell(weights)(torch.tensor(x), torch.tensor(h_prev)).numpy()
    assert np.abs(h_ours - h_torch).max() < TOL
    assert np.abs(h_ours - gru.cell_forward(x, h_prev, *weights)[0]).max() < TOL
    assert all(np.all((g > 0) & (g < 1)) for g in (r, z))


def test_sequence_gates_follow_forward(rng):
    T, N, D, H = 6, 2, 3, 4
    weights = gru.init_weights(D, H, rng)
    xs, h0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H))
    out = gru_gates.sequence_gates(xs, h0, *weights)
    assert set(out) == {"r", "z", "n", "h"} and all(a.shape == (T, N, H) for a in out.values())
    np.testing.assert_array_equal(out["h"], gru.forward(xs, h0, *weights)[0])
    rebuilt = (1 - out["z"]) * out["n"] + out["z"] * np.concatenate([h0[None], out["h"][:-1]])
    assert np.abs(rebuilt - out["h"]).max() < TOL


@pytest.mark.parametrize("gates", [{"r": 0}, {"z": 0}, {"r": 1}, {"z": 1}, {"r": 0, "z": 0}])
def test_forced_gates_are_exact(step, gates):
    x, h_prev, weights = step
    forced = gru_gates.force_gates(*weights, **gates)
    for big in (1.0, 30.0):  # whatever the input and the state
        r, z, _ = gru_gates.gate_activations(big * x, big * h_prev, *forced)
        for name, value in gates.items():
            assert np.all({"r": r, "z": z}[name] == float(value)), name
    for a, b in zip(weights, gru_gates.force_gates(*weights)):  # nothing forced: unchanged copies
        np.testing.assert_array_equal(a, b)


def test_force_gates_leaves_its_inputs_alone(step):
    _, _, weights = step
    before = [w.copy() for w in weights]
    gru_gates.force_gates(*weights, r=0, z=1)
    for a, b in zip(weights, before):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="z: expected 0, 1 or None"):
        gru_gates.force_gates(*weights, z=0.5)


def test_step_jacobian_matches_autograd(step):
    x, h_prev, weights = step
    J = gru_gates.step_jacobian(x, h_prev, *weights)
    cell = torch_cell(weights)
    for i in range(len(x)):
        x_i = torch.tensor(x[i:i + 1])
        expected = torch.autograd.functional.jacobian(
            lambda h, x_i=x_i: cell(x_i, h), torch.tensor(h_prev[i:i + 1]))
        assert np.abs(J[i] - expected.numpy()[0, :, 0, :]).max() < TOL


def test_step_jacobian_with_reset_and_update_shut_is_zero(step):
    x, h_prev, weights = step
    J_r = gru_gates.step_jacobian(x, h_prev, *gru_gates.force_gates(*weights, r=0))
    J_z = gru_gates.step_jacobian(x, h_prev, *gru_gates.force_gates(*weights, z=0))
    J_both = gru_gates.step_jacobian(x, h_prev, *gru_gates.force_gates(*weights, r=0, z=0))
    assert np.abs(J_r).max() > 0.05 and np.abs(J_z).max() > 0.01
    assert np.all(J_both == 0.0)
    # With r = 0 and z not reading the state, only the direct route is left: J = diag(z).
    W_ih, W_hh, b_ih, b_hh = gru_gates.force_gates(*weights, r=0)
    H = h_prev.shape[1]
    W_hh[H:2 * H] = 0.0
    _, z, _ = gru_gates.gate_activations(x, h_prev, W_ih, W_hh, b_ih, b_hh)
    J_direct = gru_gates.step_jacobian(x, h_prev, W_ih, W_hh, b_ih, b_hh)
    assert np.abs(J_direct - np.stack([np.diag(zk) for zk in z])).max() < TOL


def test_scaled_recurrent_weights(rng):
    W_ih, W_hh, b_ih, b_hh = gru_gates.scaled_recurrent_weights(3, 200, 8.0, rng)
    assert W_ih.shape == (600, 3) and W_hh.shape == (600, 200) and b_ih.shape == b_hh.shape == (600,)
    assert abs(W_hh.std() * np.sqrt(200) / 8.0 - 1) < 0.02
    assert np.abs(W_ih).max() <= 1 / np.sqrt(200)


def test_sgd_first_value_clipping_bounds_the_step():
    big = gru_gates.scaled_recurrent_weights(2, 8, 8.0, np.random.default_rng(0))
    losses, norms = gru_gates.sgd_first_value(big, 5, seed=1, max_norm=1.0, T=10, batch_size=4)
    again = gru_gates.sgd_first_value(big, 5, seed=1, max_norm=1.0, T=10, batch_size=4)
    assert losses.shape == norms.shape == (5,)
    np.testing.assert_array_equal(losses, again[0])  # seeded: repeatable
    assert np.all(np.isfinite(losses)) and np.all(norms > 0)


def test_sgd_first_value_stops_at_a_non_finite_loss():
    huge = gru_gates.scaled_recurrent_weights(2, 4, 1.0, np.random.default_rng(0))
    with np.errstate(all="ignore"):
        losses, norms = gru_gates.sgd_first_value(huge, 4, seed=0, lr=1e300, T=5, batch_size=2)
    stop = int(np.argmax(~np.isfinite(losses)))
    assert not np.isfinite(losses[stop]) and np.all(np.isnan(losses[stop + 1:]))
