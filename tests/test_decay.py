"""rnnlib.analysis.decay against torch autograd (float64, unrolled cell loops with retain_grad), centred
differences, and its argument errors."""

import numpy as np
import pytest
import torch

from rnnlib.analysis import decay
from rnnlib.core import gru, lstm, rnn
from rnnlib.core.gradcheck import numerical_gradient, relative_error

MODULES = {"rnn": rnn, "lstm": lstm, "gru": gru}
T, N, D, H = 7, 3, 4, 5


def draw_case(kind, rng, scale=1.5):
    """Weights as torch would draw them, with W_hh scaled so that the norms change along the lags."""
    W_ih, W_hh, b_ih, b_hh = MODULES[kind].init_weights(D, H, rng)
    return dict(xs=rng.standard_normal((T, N, D)), h0=0.5 * rng.standard_normal((N, H)),
                W_ih=W_ih, W_hh=scale * W_hh, b_ih=b_ih, b_hh=b_hh, dh_last=rng.standard_normal((N, H)),
                c0=rng.standard_normal((N, H)) if kind == "lstm" else None)


def torch_state_grads(kind, case, nonlinearity="tanh"):
    """Autograd on an unrolled torch cell loop: dL/dh_t (and dL/dc_t) for every t, L = sum(h_{T-1} dh_last)."""
    if nonlinearity == "linear":
        cell = None
    elif kind == "rnn":
        cell = torch.nn.RNNCell(D, H, nonlinearity=nonlinearity, dtype=torch.float64)
    else:
        cell = getattr(torch.nn, kind.upper() + "Cell")(D, H, dtype=torch.float64)
    weights = [torch.from_numpy(case[k]) for k in ("W_ih", "W_hh", "b_ih", "b_hh")]
    if cell is not None:
        with torch.no_grad():
            for name, w in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), weights):
                getattr(cell, name).copy_(w)
    h = torch.tensor(case["h0"], requires_grad=True)
    c = torch.tensor(case["c0"], requires_grad=True) if kind == "lstm" else None
    hs, cs = [], []
    for x in torch.from_numpy(case["xs"]):
        if cell is None:
            h = x @ weights[0].T + weights[2] + h @ weights[1].T + weights[3]
        elif kind == "lstm":
            h, c = cell(x, (h, c))
            c.retain_grad()
            cs.append(c)
        else:
            h = cell(x, h)
        h.retain_grad()
        hs.append(h)
    (hs[-1] * torch.from_numpy(case["dh_last"])).sum().backward()
    dhs = np.stack([h.grad.numpy() for h in hs])
    dcs = np.stack([c.grad.numpy() for c in cs]) if cs else None
    return dhs, dcs


def by_lag(per_step):
    """Frobenius norms of per-step gradients (T, N, H), reordered from time to lag."""
    return np.linalg.norm(per_step.reshape(len(per_step), -1), axis=1)[::-1]


@pytest.mark.parametrize("kind", MODULES)
def test_gradient_norms_by_lag_match_torch_autograd(kind, rng):
    case = draw_case(kind, rng)
    norms = decay.gradient_norms_by_lag(MODULES[kind], **case)
    dhs, _ = torch_state_grads(kind, case)
    assert norms.shape == (T,)
    assert relative_error(norms, by_lag(dhs)) < 1e-10
    assert norms[0] == pytest.approx(np.linalg.norm(case["dh_last"]), rel=1e-14)
    assert np.ptp(np.log(norms)) > 0.1  # the lags really differ, so an order mix-up would show


@pytest.mark.parametrize("kind", MODULES)
def test_gradient_norm_at_the_longest_lag_matches_centred_differences(kind, rng):
    """norms[T-1] is the norm of dL/dhs[0]: restart the sequence from hs[0] (and cs[0]) as an input and
    differentiate the loss numerically with respect to it."""
    case = draw_case(kind, rng)
    module = MODULES[kind]
    weights = [case[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")]
    if kind == "lstm":
        hs, cs, _ = module.forward(case["xs"], case["h0"], case["c0"], *weights)
        start = hs[0].copy()
        last = lambda: module.forward(case["xs"][1:], start, cs[0], *weights)[0][-1]  # noqa: E731
    else:
        hs, _ = module.forward(case["xs"], case["h0"], *weights)
        start = hs[0].copy()
        last = lambda: module.forward(case["xs"][1:], start, *weights)[0][-1]  # noqa: E731
    numerical = numerical_gradient(last, start, dout=case["dh_last"])
    norms = decay.gradient_norms_by_lag(module, **case)
    assert relative_error(np.linalg.norm(numerical), norms[-1]) < 1e-7


def test_cell_gradient_norms_by_lag_match_torch_autograd(rng):
    case = draw_case("lstm", rng)
    cell_norms = decay.cell_gradient_norms_by_lag(
        case["xs"], case["h0"], case["c0"], case["W_ih"], case["W_hh"], case["b_ih"], case["b_hh"], case["dh_last"])
    _, dcs = torch_state_grads("lstm", case)
    assert cell_norms.shape == (T,)
    assert relative_error(cell_norms, by_lag(dcs)) < 1e-10


def test_step_jacobians_match_torch_autograd_jacobian(rng):
    W_ih, W_hh, b_ih, b_hh = rnn.init_weights(D, H, rng)
    x, h_prev = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    h, _ = rnn.cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)
    J = decay.step_jacobians(h, W_hh)
    assert J.shape == (N, H, H)
    t = {k: torch.from_numpy(v) for k, v in dict(W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh).items()}
    for n in range(N):
        x_n = torch.from_numpy(x[n])

        def step(hp, x_n=x_n):
            return torch.tanh(t["W_ih"] @ x_n + t["b_ih"] + t["W_hh"] @ hp + t["b_hh"])

        J_torch = torch.autograd.functional.jacobian(step, torch.from_numpy(h_prev[n])).numpy()
        assert relative_error(J[n], J_torch) < 1e-10
    # Not symmetric in its two indices: the transposed W_hh would be a different answer.
    assert relative_error(J, J.transpose(0, 2, 1)) > 1e-3


def test_product_of_step_jacobians_is_the_backward_pass(rng):
    """dL/dh_0 of a sequence equals dh_last multiplied through every step Jacobian."""
    case = draw_case("rnn", rng)
    weights = [case[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")]
    hs, _ = rnn.forward(case["xs"], case["h0"], *weights)
    dh = case["dh_last"]
    for t in reversed(range(T)):
        dh = np.einsum("ni,nij->nj", dh, decay.step_jacobians(hs[t], case["W_hh"]))
    dhs, _ = torch_state_grads("rnn", case)
    # dhs[0] is dL/dh_1 (the first output); one more Jacobian reaches h0.
    assert relative_error(dh, np.einsum("ni,nij->nj", dhs[0], decay.step_jacobians(hs[0], case["W_hh"]))) < 1e-10


def test_per_step_rate_recovers_a_geometric_sequence_and_matches_polyfit(rng):
    norms = 3.0 * 0.7 ** np.arange(20)
    assert decay.per_step_rate(norms) == pytest.approx(0.7, rel=1e-12)
    noisy = norms * np.exp(0.1 * rng.standard_normal(20))
    slope = np.polyfit(np.arange(5, 15), np.log(noisy[5:15]), 1)[0]
    assert decay.per_step_rate(noisy, start=5, stop=15) == pytest.approx(np.exp(slope), rel=1e-12)
    # The window is by lag: a sequence with two regimes gives each regime's rate.
    two = np.concatenate([0.5 ** np.arange(10), 0.5 ** 9 * 1.2 ** np.arange(1, 11)])
    assert decay.per_step_rate(two, stop=10) == pytest.approx(0.5, rel=1e-12)
    assert decay.per_step_rate(two, start=10) == pytest.approx(1.2, rel=1e-12)


def test_activation_norms_by_lag_tanh_is_the_rnn_module(rng):
    case = draw_case("rnn", rng)
    args = {k: v for k, v in case.items() if k != "c0"}
    assert relative_error(decay.activation_norms_by_lag(**args, activation="tanh"),
                          decay.gradient_norms_by_lag(rnn, **case)) < 1e-13


@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_activation_norms_by_lag_match_torch_autograd(activation, rng):
    case = draw_case("rnn", rng)
    args = {k: v for k, v in case.items() if k != "c0"}
    norms = decay.activation_norms_by_lag(**args, activation=activation)
    dhs, _ = torch_state_grads("rnn", case, nonlinearity=activation)
    assert relative_error(norms, by_lag(dhs)) < 1e-10
    hs, derivs = decay.activation_forward(*(args[k] for k in ("xs", "h0", "W_ih", "W_hh", "b_ih", "b_hh")),
                                          activation=activation)
    assert hs.shape == derivs.shape == (T, N, H)
    if activation == "relu":
        assert set(np.unique(derivs)) <= {0.0, 1.0} and np.all(hs >= 0)
    else:
        assert np.all(derivs == 1.0)


def test_activation_forward_tanh_matches_rnn_forward(rng):
    case = draw_case("rnn", rng)
    args = [case[k] for k in ("xs", "h0", "W_ih", "W_hh", "b_ih", "b_hh")]
    hs, derivs = decay.activation_forward(*args)
    assert relative_error(hs, rnn.forward(*args)[0]) < 1e-13
    assert relative_error(derivs, 1 - hs ** 2) < 1e-13


def test_weight_gradient_by_lag_sums_to_backward_and_matches_torch_per_lag(rng):
    case = draw_case("rnn", rng, scale=1.0)
    args = [case[k] for k in ("xs", "h0", "W_ih", "W_hh", "b_ih", "b_hh")]
    dhs = rng.standard_normal((T, N, H))
    parts = decay.weight_gradient_by_lag(*args, dhs)
    assert parts.shape == (T, H, H)
    hs, cache = rnn.forward(*args)
    assert relative_error(parts.sum(axis=0), rnn.backward(dhs, cache)[3]) < 1e-10

    # torch: a separate copy of W_hh per step; the loss at step s gives each copy its lag s - t share.
    expected = np.zeros((T, H, H))
    for s in range(T):
        copies = [torch.tensor(case["W_hh"], requires_grad=True) for _ in range(s + 1)]
        h = torch.from_numpy(case["h0"])
        for t in range(s + 1):
            x = torch.from_numpy(case["xs"][t])
            h = torch.tanh(x @ torch.from_numpy(case["W_ih"]).T + torch.from_numpy(case["b_ih"])
                           + h @ copies[t].T + torch.from_numpy(case["b_hh"]))
        (h * torch.from_numpy(dhs[s])).sum().backward()
        for t in range(s + 1):
            expected[s - t] += copies[t].grad.numpy()
    assert relative_error(parts, expected) < 1e-10


def test_scaled_orthogonal_has_every_singular_value_equal_to_the_scale(rng):
    W = decay.scaled_orthogonal(8, 1.5, rng)
    assert np.allclose(np.linalg.svd(W, compute_uv=False), 1.5, rtol=1e-12)
    assert np.allclose(W @ W.T, 1.5 ** 2 * np.eye(8), atol=1e-12)


def test_tanh_decay_rate_follows_the_scale_of_an_orthogonal_W_hh(rng):
    """The behaviour the chapter relies on, in small: 0.5 x orthogonal vanishes, 3 x grows."""
    xs, h0 = 0.1 * rng.standard_normal((60, 4, 2)), np.zeros((4, 16))
    W_ih, _, b_ih, b_hh = rnn.init_weights(2, 16, rng)
    rates = []
    for scale in (0.5, 3.0):
        W_hh = decay.scaled_orthogonal(16, scale, rng)
        norms = decay.gradient_norms_by_lag(rnn, xs, h0, W_ih, W_hh, b_ih, b_hh, rng.standard_normal((4, 16)))
        rates.append(decay.per_step_rate(norms, start=10))
    assert rates[0] < 0.55 and rates[1] > 1.1


# Argument errors.

def test_errors_name_the_argument(rng):
    case = draw_case("rnn", rng)
    with pytest.raises(TypeError, match="module: expected rnnlib.core.rnn"):
        decay.gradient_norms_by_lag(np, **case)
    lstm_case = draw_case("lstm", rng)
    with pytest.raises(ValueError, match="c0: expected the initial cell state"):
        decay.gradient_norms_by_lag(lstm, **{**lstm_case, "c0": None})
    with pytest.raises(ValueError, match="c0: expected None"):
        decay.gradient_norms_by_lag(rnn, **{**case, "c0": np.zeros((N, H))})
    with pytest.raises(ValueError, match=r"dh_last: expected the shape of the forward output, \(3, 5\)"):
        decay.gradient_norms_by_lag(rnn, **{**case, "dh_last": np.zeros((N, H + 1))})
    with pytest.raises(ValueError, match="W_hh: expected shape"):
        decay.gradient_norms_by_lag(gru, **case)  # RNN weights handed to the GRU
    with pytest.raises(ValueError, match="xs: expected shape"):
        decay.gradient_norms_by_lag(rnn, **{**case, "xs": case["xs"][0]})


def test_rate_and_jacobian_errors_name_the_argument():
    with pytest.raises(ValueError, match="start, stop: expected a window of at least 2"):
        decay.per_step_rate(np.ones(5), start=4)
    with pytest.raises(ValueError, match="norms: expected positive finite values"):
        decay.per_step_rate(np.array([1.0, 0.0, 0.5]))
    with pytest.raises(ValueError, match="norms: expected shape"):
        decay.per_step_rate(np.ones((2, 3)))
    with pytest.raises(ValueError, match="W_hh: expected a square array"):
        decay.step_jacobians(np.zeros((2, 3)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"h: expected shape \(N, H=3\)"):
        decay.step_jacobians(np.zeros((2, 4)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="activation: expected one of"):
        decay.activation_forward(np.zeros((2, 1, 1)), np.zeros((1, 1)), *[np.zeros(s) for s in
                                 [(1, 1), (1, 1), (1,), (1,)]], activation="sigmoid")
    with pytest.raises(ValueError, match="dhs: expected the shape"):
        decay.weight_gradient_by_lag(np.zeros((2, 1, 1)), np.zeros((1, 1)),
                                     *[np.zeros(s) for s in [(1, 1), (1, 1), (1,), (1,)]], np.zeros((3, 1, 1)))
