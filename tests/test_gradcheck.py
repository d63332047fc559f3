"""Every hand-written backward against centred differences, and tests of the checker itself."""

import numpy as np
import pytest

import rnnlib
from rnnlib.core.gradcheck import numerical_gradient, relative_error

T, N, D, H = 4, 2, 3, 5
TOL = 1e-7
# Centred differences in float64 carry an absolute error of about 1e-10 to 1e-9 here: truncation
# (~EPS**2) plus the loss's rounding divided by 2*EPS; EPS = 1e-5 roughly balances the two. An entry
# of the true gradient that happens to be ~1e-5 then has a relative error of ~1e-4 from the
# differences alone, so each entry's |a| + |b| is floored at FLOOR: entries below it are held to
# an absolute error of TOL * FLOOR = 1e-9, the rest to TOL relative. (With the default floor
# of 1e-12 about half of all seeds fail for numerical noise, not for a wrong backward.)
EPS = 1e-5
FLOOR = 1e-2
PARAMS = ("W_ih", "W_hh", "b_ih", "b_hh")
SEQUENCE_INPUTS = {"rnn": ("xs", "h0", *PARAMS), "lstm": ("xs", "h0", "c0", *PARAMS), "gru": ("xs", "h0", *PARAMS)}
CELL_INPUTS = {"rnn": ("x", "h_prev", *PARAMS), "lstm": ("x", "h_prev", "c_prev", *PARAMS),
               "gru": ("x", "h_prev", *PARAMS)}


def draw_inputs(kind, names, rng, x_shape):
    """Inputs named as in rnnlib's signatures: x or xs, the state(s), then the four parameters."""
    n_states = len(names) - 1 - len(PARAMS)
    values = [rng.standard_normal(x_shape), *rng.standard_normal((n_states, N, H)),
              *getattr(rnnlib, kind).init_weights(D, H, rng)]
    return dict(zip(names, values))


def sequence_problem(kind, rng, with_dcT=False):
    """``(inputs, outputs, dout, analytic)``: ``outputs()`` reruns the forward pass on the current
    ``inputs`` and returns what the upstream gradient ``dout`` is applied to; ``analytic`` is the
    backward's result, keyed like ``inputs``."""
    lib = getattr(rnnlib, kind)
    inputs = draw_inputs(kind, SEQUENCE_INPUTS[kind], rng, (T, N, D))
    dhs = rng.standard_normal((T, N, H))
    dcT = rng.standard_normal((N, H)) if with_dcT else None

    def outputs():
        result = lib.forward(*inputs.values())
        if dcT is not None:  # the loss also sees the last cell state: stack hs and cs[-1]
            hs, cs, _ = result
            return np.concatenate([hs.ravel(), cs[-1].ravel()])
        return result[0]

    cache = lib.forward(*inputs.values())[-1]
    if kind == "lstm":
        grads = lib.backward(dhs, cache, dcT=dcT)
    else:
        grads = lib.backward(dhs, cache)
    dout = dhs if dcT is None else np.concatenate([dhs.ravel(), dcT.ravel()])
    return inputs, outputs, dout, dict(zip(inputs, grads))


def cell_problem(kind, rng):
    """As ``sequence_problem`` for one step; an LSTM cell gets nonzero ``dh`` and ``dc``."""
    lib = getattr(rnnlib, kind)
    inputs = draw_inputs(kind, CELL_INPUTS[kind], rng, (N, D))
    dh, dc = rng.standard_normal((2, N, H))
    if kind == "lstm":
        def outputs():
            h, c, _ = lib.cell_forward(*inputs.values())
            return np.concatenate([h.ravel(), c.ravel()])

        grads = lib.cell_backward(dh, dc, lib.cell_forward(*inputs.values())[-1])
        dout = np.concatenate([dh.ravel(), dc.ravel()])
    else:
        def outputs():
            return lib.cell_forward(*inputs.values())[0]

        grads = lib.cell_backward(dh, lib.cell_forward(*inputs.values())[-1])
        dout = dh
    return inputs, outputs, dout, dict(zip(inputs, grads))


def check(problem, name):
    inputs, outputs, dout, analytic = problem
    numeric = numerical_gradient(outputs, inputs[name], dout=dout, eps=EPS)
    assert analytic[name].shape == inputs[name].shape
    error = relative_error(analytic[name], numeric, floor=FLOOR)
    assert error < TOL, f"{name}: relative error {error:.3g}"


@pytest.mark.parametrize(("kind", "name"), [(k, n) for k, names in SEQUENCE_INPUTS.items() for n in names])
def test_sequence_backward_passes_gradcheck(kind, name, rng):
    check(sequence_problem(kind, rng), name)


@pytest.mark.parametrize("name", SEQUENCE_INPUTS["lstm"])
def test_lstm_sequence_backward_with_final_cell_gradient_passes_gradcheck(name, rng):
    check(sequence_problem("lstm", rng, with_dcT=True), name)


@pytest.mark.parametrize(("kind", "name"), [(k, n) for k, names in CELL_INPUTS.items() for n in names])
def test_cell_backward_passes_gradcheck(kind, name, rng):
    check(cell_problem(kind, rng), name)


# The checker itself.

def test_numerical_gradient_of_a_scalar_function_matches_calculus(rng):
    # |x| >= 0.5 keeps every 3x**2 away from 0, where any finite difference's rounding would dominate.
    x = rng.uniform(0.5, 2.0, size=(3, 4)) * rng.choice([-1.0, 1.0], size=(3, 4))
    numeric = numerical_gradient(lambda: np.sum(x**3), x)
    assert relative_error(numeric, 3 * x**2) < 1e-7


def test_numerical_gradient_with_dout_is_the_vector_jacobian_product(rng):
    # f(x) = A @ x has Jacobian A, so the gradient of sum(f(x) * dout) is A.T @ dout.
    A, x, dout = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(4)
    numeric = numerical_gradient(lambda: A @ x, x, dout=dout)
    assert relative_error(numeric, A.T @ dout) < 1e-8


def test_numerical_gradient_restores_x_exactly(rng):
    x = rng.standard_normal((2, 3))
    before = x.copy()
    seen = []

    def f():
        seen.append(x.copy())
        return np.sum(np.sin(x))

    numerical_gradient(f, x)
    assert any(not np.array_equal(s, before) for s in seen)  # it did perturb x while running
    assert np.array_equal(x, before)


@pytest.mark.parametrize("bad_x", [np.ones(3, dtype=np.float32), np.ones(3, dtype=np.int64), [1.0, 2.0, 3.0]],
                         ids=["float32", "int64", "list"])
def test_numerical_gradient_rejects_anything_but_a_float64_array(bad_x):
    with pytest.raises(TypeError, match="x: expected a float64 numpy array"):
        numerical_gradient(lambda: 0.0, bad_x)


def test_relative_error_is_zero_for_equal_arrays(rng):
    a = rng.standard_normal((3, 2))
    assert relative_error(a, a.copy()) == 0.0
    assert relative_error(np.zeros(4), np.zeros(4)) == 0.0


def test_relative_error_is_symmetric_and_scale_free(rng):
    a, b = rng.standard_normal(5), rng.standard_normal(5)
    assert relative_error(a, b) == relative_error(b, a)
    assert relative_error(1e6 * a, 1e6 * b) == pytest.approx(relative_error(a, b), rel=1e-12)
    # By definition |1 - 1.01| / (1 + 1.01).
    assert relative_error(np.array([1.0]), np.array([1.01])) == pytest.approx(0.01 / 2.01, rel=1e-12)


def test_relative_error_rejects_shape_mismatch():
    with pytest.raises(ValueError, match=r"b: expected the shape of a, \(2, 3\), got \(3, 2\)"):
        relative_error(np.zeros((2, 3)), np.zeros((3, 2)))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_gradcheck_detects_a_backward_that_is_one_percent_off(kind, rng):
    # Shows the checks above can fail: a 1.01-scaled dW_hh must stand out far above the tolerance.
    inputs, outputs, dout, analytic = sequence_problem(kind, rng)
    numeric = numerical_gradient(outputs, inputs["W_hh"], dout=dout, eps=EPS)
    assert relative_error(analytic["W_hh"], numeric, floor=FLOOR) < TOL
    assert relative_error(1.01 * analytic["W_hh"], numeric, floor=FLOOR) > 1e-3
