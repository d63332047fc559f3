"""rnnlib against PyTorch autograd: the spec's bar is 1e-10 relative error in float64."""

import numpy as np
import pytest
import torch

import rnnlib
from rnnlib.core.gradcheck import relative_error

TOL = 1e-10

SHAPES = [  # (T, N, D, H)
    pytest.param(1, 1, 4, 4, id="T1-N1-D=H"),
    pytest.param(1, 3, 2, 5, id="T1-N3-D<H"),
    pytest.param(7, 1, 6, 3, id="T7-N1-D>H"),
    pytest.param(12, 4, 5, 3, id="T12-N4-D5-H3"),
]
WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def run_rnnlib(kind, ref):
    """Forward and backward through rnnlib on the reference's data: ``hs``, ``cs`` (None unless
    LSTM) and the gradients keyed like ``ref.grads``."""
    lib = getattr(rnnlib, kind)
    if kind == "lstm":
        hs, cs, cache = lib.forward(ref.xs, ref.h0, ref.c0, *ref.weights)
        grads = lib.backward(ref.dhs, cache, dcT=ref.dcT)
    else:
        (hs, cache), cs = lib.forward(ref.xs, ref.h0, *ref.weights), None
        grads = lib.backward(ref.dhs, cache)
    assert len(grads) == len(ref.grads)
    return hs, cs, dict(zip(ref.grads, grads))


def gradient_errors(ours, theirs):
    return {name: relative_error(ours[name], theirs[name]) for name in theirs}


@pytest.mark.parametrize(("T", "N", "D", "H"), SHAPES)
def test_sequence_forward_matches_torch(kind, T, N, D, H, torch_reference):
    ref = torch_reference(kind, T, N, D, H)
    hs, cs, _ = run_rnnlib(kind, ref)
    assert hs.shape == (T, N, H)
    assert relative_error(hs, ref.hs) < TOL
    assert relative_error(hs[-1], ref.h_n) < TOL
    if kind == "lstm":
        assert cs.shape == (T, N, H)
        assert relative_error(cs[-1], ref.c_n) < TOL


@pytest.mark.parametrize(("T", "N", "D", "H"), SHAPES)
def test_sequence_gradients_match_torch(kind, T, N, D, H, torch_reference):
    ref = torch_reference(kind, T, N, D, H)
    _, _, grads = run_rnnlib(kind, ref)
    for name, grad in grads.items():
        assert grad.shape == ref.grads[name].shape, name
    errors = gradient_errors(grads, ref.grads)
    assert max(errors.values()) < TOL, errors


def test_lstm_every_cell_state_matches_torch(torch_reference):
    # torch only returns the last c; running it on each prefix xs[:t+1] exposes c_t for every t.
    ref = torch_reference("lstm", 6, 3, 4, 5)
    _, cs, _ = run_rnnlib("lstm", ref)
    state = (torch.tensor(ref.h0[None]), torch.tensor(ref.c0[None]))
    with torch.no_grad():
        for t in range(len(cs)):
            _, (_, c_t) = ref.layer(torch.tensor(ref.xs[:t + 1]), state)
            assert relative_error(cs[t], c_t[0].numpy()) < TOL, t


@pytest.mark.parametrize(("T", "N", "D", "H"), SHAPES)
def test_lstm_backward_with_final_cell_gradient_matches_torch(T, N, D, H, torch_reference):
    ref = torch_reference("lstm", T, N, D, H, with_dcT=True)
    _, _, grads = run_rnnlib("lstm", ref)
    errors = gradient_errors(grads, ref.grads)
    assert max(errors.values()) < TOL, errors


def test_lstm_final_cell_gradient_changes_the_result(torch_reference):
    # Guards the test above: if dcT were ignored the gradients would differ from the dcT=None ones.
    ref = torch_reference("lstm", 3, 2, 3, 4, with_dcT=True)
    _, _, with_dcT = run_rnnlib("lstm", ref)
    ref.dcT = None
    _, _, without = run_rnnlib("lstm", ref)
    assert relative_error(with_dcT["dc0"], without["dc0"]) > 1e-3


def torch_cell_like(layer, kind):
    """A torch.nn.*Cell holding the same weights as the one-layer ``layer``."""
    cell = getattr(torch.nn, kind.upper() + "Cell")(layer.input_size, layer.hidden_size, dtype=layer.weight_ih_l0.dtype)
    with torch.no_grad():
        for name in WEIGHT_NAMES:
            getattr(cell, name).copy_(getattr(layer, name + "_l0"))
    return cell


@pytest.mark.parametrize(("N", "D", "H"), [(1, 4, 4), (3, 2, 5), (4, 6, 3)])
def test_cell_forward_and_backward_match_torch_cell(kind, N, D, H, torch_reference, rng):
    ref = torch_reference(kind, 1, N, D, H)  # used for its torch layer and weights only
    cell = torch_cell_like(ref.layer, kind)
    lib = getattr(rnnlib, kind)
    x, h_prev, c_prev, dh, dc = (rng.standard_normal((N, D)), *rng.standard_normal((4, N, H)))

    x_t, h_t, c_t = (torch.tensor(a, requires_grad=True) for a in (x, h_prev, c_prev))
    if kind == "lstm":
        h_out, c_out = cell(x_t, (h_t, c_t))
        (h_out * torch.from_numpy(dh) + c_out * torch.from_numpy(dc)).sum().backward()
        h, c, cache = lib.cell_forward(x, h_prev, c_prev, *ref.weights)
        grads = lib.cell_backward(dh, dc, cache)
        assert relative_error(c, c_out.detach().numpy()) < TOL
        expected = [x_t.grad, h_t.grad, c_t.grad]
    else:
        h_out = cell(x_t, h_t)
        (h_out * torch.from_numpy(dh)).sum().backward()
        h, cache = lib.cell_forward(x, h_prev, *ref.weights)
        grads = lib.cell_backward(dh, cache)
        expected = [x_t.grad, h_t.grad]
    expected += [getattr(cell, name).grad for name in WEIGHT_NAMES]

    assert relative_error(h, h_out.detach().numpy()) < TOL
    assert len(grads) == len(expected)
    errors = [relative_error(ours, theirs.numpy()) for ours, theirs in zip(grads, expected)]
    assert max(errors) < TOL, errors


def test_lstm_cell_state_gradient_alone_matches_torch_cell(torch_reference, rng):
    # With dh = 0 every gradient comes through dc only, the path the sequence backward relies on.
    N, D, H = 2, 3, 4
    ref = torch_reference("lstm", 1, N, D, H)
    cell = torch_cell_like(ref.layer, "lstm")
    x, h_prev, c_prev, dc = rng.standard_normal((N, D)), *rng.standard_normal((3, N, H))
    x_t, h_t, c_t = (torch.tensor(a, requires_grad=True) for a in (x, h_prev, c_prev))
    _, c_out = cell(x_t, (h_t, c_t))
    (c_out * torch.from_numpy(dc)).sum().backward()
    _, _, cache = rnnlib.core.lstm.cell_forward(x, h_prev, c_prev, *ref.weights)
    dx, dh_prev, dc_prev, *_ = rnnlib.core.lstm.cell_backward(np.zeros((N, H)), dc, cache)
    for ours, theirs in ((dx, x_t), (dh_prev, h_t), (dc_prev, c_t)):
        assert relative_error(ours, theirs.grad.numpy()) < TOL


@pytest.mark.parametrize(("T", "N", "D", "H"), [(1, 3, 2, 5), (7, 2, 6, 3)])
def test_float32_in_float32_out_and_agrees_with_torch_float32(kind, T, N, D, H, torch_reference):
    ref = torch_reference(kind, T, N, D, H, with_dcT=True, dtype=torch.float32)
    assert all(w.dtype == np.float32 for w in ref.weights)
    hs, cs, grads = run_rnnlib(kind, ref)
    assert hs.dtype == np.float32
    np.testing.assert_allclose(hs, ref.hs, rtol=1e-5, atol=1e-5)
    if kind == "lstm":
        assert cs.dtype == np.float32
        np.testing.assert_allclose(cs[-1], ref.c_n, rtol=1e-5, atol=1e-5)
    for name, grad in grads.items():
        assert grad.dtype == np.float32, name
        np.testing.assert_allclose(grad, ref.grads[name], rtol=1e-5, atol=1e-5, err_msg=name)


def test_float32_cells_return_float32(kind, rng):
    lib = getattr(rnnlib, kind)
    weights = lib.init_weights(3, 4, rng, dtype=np.float32)
    x, h_prev, c_prev = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3), (2, 4), (2, 4)))
    dh = np.ones((2, 4), dtype=np.float32)
    if kind == "lstm":
        h, c, cache = lib.cell_forward(x, h_prev, c_prev, *weights)
        grads = lib.cell_backward(dh, dh, cache)
        assert c.dtype == np.float32
    else:
        h, cache = lib.cell_forward(x, h_prev, *weights)
        grads = lib.cell_backward(dh, cache)
    assert h.dtype == np.float32
    assert [g.dtype for g in grads] == [np.float32] * len(grads)


def test_forward_and_backward_leave_their_inputs_alone_and_backward_is_repeatable(kind, torch_reference):
    # The cache pattern must allow calling backward twice on one cache (e.g. in a gradient check),
    # and neither pass may write into the caller's arrays.
    ref = torch_reference(kind, 4, 2, 3, 5, with_dcT=True)
    lib = getattr(rnnlib, kind)
    inputs = [ref.xs, ref.h0] + ([ref.c0] if kind == "lstm" else []) + list(ref.weights)
    upstream = [ref.dhs] + ([ref.dcT] if kind == "lstm" else [])
    before = [a.copy() for a in inputs + upstream]
    cache = lib.forward(*inputs)[-1]
    kwargs = {"dcT": ref.dcT} if kind == "lstm" else {}
    first = lib.backward(ref.dhs, cache, **kwargs)
    second = lib.backward(ref.dhs, cache, **kwargs)
    for now, then in zip(inputs + upstream, before):
        assert np.array_equal(now, then)
    for a, b in zip(first, second):
        assert np.array_equal(a, b)
