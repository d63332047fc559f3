"""rnnlib.core.scan: the diagonal linear recurrence by a loop, two parallel scans and its backward pass,
against each other, torch autograd and centred differences."""

import numpy as np
import pytest
import torch

from rnnlib.core import scan
from rnnlib.core.gradcheck import numerical_gradient, relative_error

LENGTHS = (1, 2, 3, 5, 8, 13, 64, 100, 257, 1000)
SCANS = (scan.scan, scan.tree_scan)


def problem(rng, T, shape=(3, 4), complex_=False):
    a = rng.uniform(-1, 1, (T, *shape))
    b = rng.standard_normal((T, *shape))
    h0 = rng.standard_normal(shape)
    if complex_:
        a = a * np.exp(1j * rng.uniform(0, 2 * np.pi, a.shape))
        b = b + 1j * rng.standard_normal(b.shape)
        h0 = h0 + 1j * rng.standard_normal(shape)
    return a, b, h0


@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize("T", LENGTHS)
def test_both_scans_equal_the_loop_to_1e_12_in_float64(rng, T, complex_):
    a, b, h0 = problem(rng, T, complex_=complex_)
    for with_h0 in (None, h0):
        want = scan.loop(a, b, with_h0)
        for fn in SCANS:
            assert np.max(np.abs(fn(a, b, with_h0) - want)) < 1e-12, (fn.__name__, T)


@pytest.mark.parametrize("T", LENGTHS)
def test_the_reverse_scan_runs_the_recurrence_from_the_end(rng, T):
    c, b, _ = problem(rng, T, complex_=True)
    r, want = np.zeros_like(b[0]), np.zeros_like(b)
    for t in range(T - 1, -1, -1):
        r = c[t] * r + b[t]
        want[t] = r
    assert np.max(np.abs(scan.reverse_scan(c, b) - want)) < 1e-12
    got = scan.reverse_scan(torch.tensor(c), torch.tensor(b)).numpy()
    assert np.max(np.abs(got - want)) < 1e-12


def test_the_loop_is_the_recurrence_written_out(rng):
    a, b, h0 = problem(rng, 4, shape=(2,))
    hs = scan.loop(a, b, h0)
    h1 = a[0] * h0 + b[0]
    h2 = a[1] * h1 + b[1]
    np.testing.assert_allclose(hs[:2], [h1, h2], rtol=0, atol=1e-15)


@pytest.mark.parametrize("T", LENGTHS)
def test_torch_tensors_give_the_numpy_states(rng, T):
    a, b, h0 = problem(rng, T)
    want = scan.loop(a, b, h0)
    for fn in (scan.loop, *SCANS, scan.torch_scan):
        got = fn(torch.tensor(a), torch.tensor(b), torch.tensor(h0)).numpy()
        assert np.max(np.abs(got - want)) < 1e-12, fn.__name__


def test_inputs_are_not_modified(rng):
    a, b, h0 = problem(rng, 9)
    copies = [x.copy() for x in (a, b, h0)]
    for fn in (scan.loop, *SCANS):
        fn(a, b, h0)
    scan.backward(a, scan.loop(a, b, h0), b, h0)
    for x, y in zip((a, b, h0), copies):
        np.testing.assert_array_equal(x, y)


def test_level_and_composition_counts():
    for T in range(1, 300):
        shifts = [2 ** j for j in range(20) if 2 ** j < T]
        assert scan.levels(T) == len(shifts) == int(np.ceil(np.log2(T)))
        assert scan.compositions(T) == sum(T - d for d in shifts)
        assert scan.tree_levels(T) == max(2 * scan.levels(T) - 1, 0)
        assert T - 1 <= scan.tree_compositions(T) < 2 * T
    assert scan.levels(1024) == 10 and scan.levels(1025) == 11
    with pytest.raises(ValueError, match="T: expected a positive integer"):
        scan.levels(0)


def test_shape_errors_say_what_was_expected(rng):
    a, b, h0 = problem(rng, 5)
    with pytest.raises(ValueError, match="a, b: expected equal shapes"):
        scan.scan(a, b[:4])
    with pytest.raises(ValueError, match="h0: expected shape"):
        scan.tree_scan(a, b, h0[:2])


def torch_gradients(a, b, h0, dhs, fn=scan.loop):
    """Gradients of sum(Re(conj(dhs) * hs)) by torch autograd through ``fn``."""
    leaves = [torch.tensor(x, requires_grad=True) for x in (a, b, h0)]
    hs = fn(*leaves)
    (torch.real(torch.conj(torch.tensor(dhs)) * hs)).sum().backward()
    return [leaf.grad.numpy() for leaf in leaves]


@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize("T", (1, 2, 7, 64, 101))
def test_backward_equals_torch_autograd(rng, T, complex_):
    a, b, h0 = problem(rng, T, complex_=complex_)
    dhs = problem(rng, T, complex_=complex_)[1]
    ours = scan.backward(a, scan.loop(a, b, h0), dhs, h0)
    theirs = torch_gradients(a, b, h0, dhs)
    for name, x, y in zip(("da", "db", "dh0"), ours, theirs):
        assert np.max(np.abs(x - y)) < 1e-12, name


@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize("T", (1, 2, 7, 64, 101))
def test_torch_scan_has_the_gradient_of_autograd_through_the_loop(rng, T, complex_):
    a, b, h0 = problem(rng, T, complex_=complex_)
    dhs = problem(rng, T, complex_=complex_)[1]
    ours = torch_gradients(a, b, h0, dhs, scan.torch_scan)
    theirs = torch_gradients(a, b, h0, dhs)
    for name, x, y in zip(("da", "db", "dh0"), ours, theirs):
        assert np.max(np.abs(x - y)) < 1e-12, name


def test_torch_scan_passes_torch_gradcheck(rng):
    for complex_ in (False, True):
        a, b, _ = problem(rng, 6, shape=(2,), complex_=complex_)
        inputs = tuple(torch.tensor(x, requires_grad=True) for x in (0.9 * a, b))
        assert torch.autograd.gradcheck(scan.torch_scan, inputs)


def test_backward_equals_centred_differences(rng):
    a, b, h0 = problem(rng, 9, shape=(2, 3))
    dhs = rng.standard_normal(a.shape)
    da, db, dh0 = scan.backward(a, scan.loop(a, b, h0), dhs, h0)
    for x, analytic in ((a, da), (b, db), (h0, dh0)):
        numeric = numerical_gradient(lambda: scan.tree_scan(a, b, h0), x, dhs)
        assert relative_error(analytic, numeric) < 1e-7


@pytest.mark.parametrize("complex_", [False, True])
def test_the_gradient_at_lag_k_is_the_product_of_a(rng, complex_):
    T = 50
    a, _, g0 = problem(rng, T, complex_=complex_)
    g = scan.lag_gradients(a, g0)
    assert g.shape == a.shape
    np.testing.assert_array_equal(g[0], g0)
    for k in range(T):  # g[k] = dL/dh_{T-k}: k factors a_T, ..., a_{T-k+1}
        want = g0 * np.prod(np.conj(a[T - k:]), axis=0)
        assert np.max(np.abs(g[k] - want)) < 1e-12 * (1 + np.max(np.abs(want)))
        np.testing.assert_allclose(np.abs(g[k]), np.abs(g0) * np.prod(np.abs(a[T - k:]), axis=0),
                                   rtol=1e-12, atol=1e-300)
