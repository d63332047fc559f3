"""gru.cho_cell_forward / cho_forward (reset before the product) and gru.flip_update_gate (z <-> 1 - z)."""

import numpy as np
import pytest
import torch

from rnnlib.core import gru
from rnnlib.core.gradcheck import relative_error

TOL = 1e-12
N, D, H = 3, 4, 5


@pytest.fixture
def case(rng):
    weights = gru.init_weights(D, H, rng)
    x, h_prev = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    return x, h_prev, [w.copy() for w in weights]


def cho_step_torch(x, h, W_ih, W_hh, b_ih, b_hh):
    """Cho et al.'s step written independently, in torch float64 with column vectors, one example at a time."""
    W_ir, W_iz, W_in = torch.tensor(W_ih).split(H)
    W_hr, W_hz, W_hn = torch.tensor(W_hh).split(H)
    b_ir, b_iz, b_in = torch.tensor(b_ih).split(H)
    b_hr, b_hz, b_hn = torch.tensor(b_hh).split(H)
    out = []
    for x_n, h_n in zip(torch.tensor(x), torch.tensor(h)):
        r = torch.sigmoid(W_ir @ x_n + b_ir + W_hr @ h_n + b_hr)
        z = torch.sigmoid(W_iz @ x_n + b_iz + W_hz @ h_n + b_hz)
        n = torch.tanh(W_in @ x_n + b_in + W_hn @ (r * h_n) + b_hn)
        out.append((1 - z) * n + z * h_n)
    return torch.stack(out).numpy()


def test_cho_step_matches_an_independent_torch_implementation(case):
    x, h_prev, weights = case
    h = gru.cho_cell_forward(x, h_prev, *weights)
    assert h.shape == (N, H)
    assert relative_error(h, cho_step_torch(x, h_prev, *weights)) < TOL


def test_cho_and_pytorch_conventions_differ_on_the_same_weights(case):
    x, h_prev, weights = case
    cho = gru.cho_cell_forward(x, h_prev, *weights)
    pytorch, _ = gru.cell_forward(x, h_prev, *weights)
    assert np.abs(cho - pytorch).max() > 1e-3


def test_conventions_agree_when_the_reset_gate_is_exactly_one(case):
    # r = sigmoid(60) rounds to 1.0 in float64: then r * (W h + b) = W (r * h) + b.
    x, h_prev, (W_ih, W_hh, b_ih, b_hh) = case
    b_hh[:H] = 60.0
    cho = gru.cho_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)
    pytorch, _ = gru.cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)
    assert relative_error(cho, pytorch) < TOL


def test_from_a_zero_state_the_conventions_differ_only_through_b_hn(case):
    x, _, (W_ih, W_hh, b_ih, b_hh) = case
    h0 = np.zeros((N, H))
    cho = gru.cho_cell_forward(x, h0, W_ih, W_hh, b_ih, b_hh)
    assert np.abs(cho - gru.cell_forward(x, h0, W_ih, W_hh, b_ih, b_hh)[0]).max() > 1e-4
    b_hh[2 * H:] = 0.0
    cho = gru.cho_cell_forward(x, h0, W_ih, W_hh, b_ih, b_hh)
    pytorch, _ = gru.cell_forward(x, h0, W_ih, W_hh, b_ih, b_hh)
    assert relative_error(cho, pytorch) < TOL


def test_cho_forward_is_the_loop_of_cho_cell_forward(case, rng):
    _, h0, weights = case
    xs = rng.standard_normal((6, N, D))
    hs = gru.cho_forward(xs, h0, *weights)
    assert hs.shape == (6, N, H)
    h = h0
    for t in range(6):
        h = gru.cho_cell_forward(xs[t], h, *weights)
        assert np.array_equal(hs[t], h)


def test_cho_functions_leave_their_inputs_alone(case, rng):
    x, h_prev, weights = case
    xs = rng.standard_normal((3, N, D))
    before = [a.copy() for a in (x, h_prev, xs, *weights)]
    gru.cho_cell_forward(x, h_prev, *weights)
    gru.cho_forward(xs, h_prev, *weights)
    gru.flip_update_gate(*weights)
    assert all(np.array_equal(a, b) for a, b in zip((x, h_prev, xs, *weights), before))


def swapped_step(x, h, W_ih, W_hh, b_ih, b_hh):
    """The other update convention, h = z * n + (1 - z) * h, written in torch (reset after the product)."""
    a = torch.tensor(x) @ torch.tensor(W_ih).T + torch.tensor(b_ih)
    u = torch.tensor(h) @ torch.tensor(W_hh).T + torch.tensor(b_hh)
    r, z = torch.sigmoid(a[:, :H] + u[:, :H]), torch.sigmoid(a[:, H:2 * H] + u[:, H:2 * H])
    n = torch.tanh(a[:, 2 * H:] + r * u[:, 2 * H:])
    return (z * n + (1 - z) * torch.tensor(h)).numpy()


def test_flipped_weights_run_the_swapped_convention(case):
    x, h_prev, weights = case
    h_swapped = swapped_step(x, h_prev, *weights)
    h_flipped, _ = gru.cell_forward(x, h_prev, *gru.flip_update_gate(*weights))
    assert relative_error(h_flipped, h_swapped) < TOL
    # Without the flip the two conventions really differ on these weights.
    assert np.abs(gru.cell_forward(x, h_prev, *weights)[0] - h_swapped).max() > 1e-3


def test_flip_touches_only_the_z_rows_and_is_its_own_inverse(case):
    _, _, weights = case
    flipped = gru.flip_update_gate(*weights)
    for w, f in zip(weights, flipped):
        assert np.array_equal(f[:H], w[:H]) and np.array_equal(f[2 * H:], w[2 * H:])
        assert np.array_equal(f[H:2 * H], -w[H:2 * H])
    back = gru.flip_update_gate(*flipped)
    assert all(np.array_equal(a, b) for a, b in zip(back, weights))


@pytest.mark.parametrize("bad", ["W_hh", "b_hn", "x", "h_prev"])
def test_bad_arguments_are_named(case, bad):
    x, h_prev, (W_ih, W_hh, b_ih, b_hh) = case
    if bad == "W_hh":
        W_hh, match = W_hh[:2 * H], r"W_hh: expected shape \(3\*H, H\)"
    elif bad == "b_hn":
        b_hh, match = b_hh[:2 * H], r"b_hh: expected shape \(3\*H=15\)"
    elif bad == "x":
        x, match = x[:, :2], r"x: expected shape \(N, D=4\), got \(3, 2\)"
    else:
        h_prev, match = h_prev[:2], r"h_prev: expected shape \(N=3, H=5\), got \(2, 5\)"
    with pytest.raises(ValueError, match=match):
        gru.cho_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)
    if bad in ("W_hh", "b_hn"):
        with pytest.raises(ValueError, match=match):
            gru.flip_update_gate(W_ih, W_hh, b_ih, b_hh)


def test_cho_forward_rejects_a_sequence_of_the_wrong_shape(case):
    _, h_prev, weights = case
    with pytest.raises(ValueError, match=r"xs: expected shape \(T, N, D=4\), got \(3, 4\)"):
        gru.cho_forward(np.zeros((3, 4)), h_prev, *weights)
