"""Bad arguments raise errors that name the argument, the expected shape and the given one."""

import re

import numpy as np
import pytest
import torch

import rnnlib
from rnnlib.core import clip, torch_bridge

T, N, D, H = 4, 2, 3, 5
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
ARTICLE = {"rnn": "an RNN", "lstm": "an LSTM", "gru": "a GRU"}


def rows(kind):
    """How the library labels the row count G*H of a weight matrix."""
    return "H" if kind == "rnn" else f"{GATES[kind]}*H"


def says(*parts):
    """A ``match`` pattern requiring these literal parts, in this order, in the message."""
    return ".*".join(re.escape(p) for p in parts)


def valid_args(kind, rng):
    """A dict of well-shaped arguments: x, xs, the states (h, and c for an LSTM) and weights."""
    args = {"x": rng.standard_normal((N, D)), "xs": rng.standard_normal((T, N, D)),
            "h": rng.standard_normal((N, H)), "c": rng.standard_normal((N, H)) if kind == "lstm" else None}
    args["weights"] = list(getattr(rnnlib, kind).init_weights(D, H, rng))
    return args


def cell_forward(kind, x, h, c, weights):
    states = (h, c) if kind == "lstm" else (h,)
    return getattr(rnnlib, kind).cell_forward(x, *states, *weights)


def sequence_forward(kind, xs, h, c, weights):
    states = (h, c) if kind == "lstm" else (h,)
    return getattr(rnnlib, kind).forward(xs, *states, *weights)


def both_forwards(kind, a, **changes):
    """Call cell_forward and forward with ``changes`` applied; yields a thunk for each."""
    args = {**a, **changes}
    yield lambda: cell_forward(kind, args["x"], args["h"], args["c"], args["weights"])
    yield lambda: sequence_forward(kind, args["xs"], args["h"], args["c"], args["weights"])


def assert_both_reject(kind, a, expected):
    """The cell and the sequence forward both raise ValueError with a message matching ``expected``."""
    for forward in both_forwards(kind, a):
        with pytest.raises(ValueError, match=expected):
            forward()


# Inputs and states.

def test_input_with_wrong_D_is_rejected(kind, rng):
    a = valid_args(kind, rng)
    with pytest.raises(ValueError, match=says(f"x: expected shape (N, D={D}), got ({N}, {D + 1})")):
        cell_forward(kind, rng.standard_normal((N, D + 1)), a["h"], a["c"], a["weights"])
    with pytest.raises(ValueError, match=says(f"xs: expected shape (T, N, D={D}), got ({T}, {N}, {D + 1})")):
        sequence_forward(kind, rng.standard_normal((T, N, D + 1)), a["h"], a["c"], a["weights"])


@pytest.mark.parametrize(("kind", "state"), [("rnn", "h"), ("gru", "h"), ("lstm", "h"), ("lstm", "c")])
def test_state_with_wrong_H_is_rejected(kind, state, rng):
    a = valid_args(kind, rng)
    cell_name, sequence_name = f"{state}_prev", f"{state}0"
    a[state] = rng.standard_normal((N, H + 1))
    cell, sequence = both_forwards(kind, a)
    with pytest.raises(ValueError, match=says(f"{cell_name}: expected shape (N={N}, H={H}), got ({N}, {H + 1})")):
        cell()
    with pytest.raises(ValueError, match=says(f"{sequence_name}: expected shape (N={N}, H={H}), got ({N}, {H + 1})")):
        sequence()


@pytest.mark.parametrize(("kind", "state"), [("rnn", "h"), ("gru", "h"), ("lstm", "h"), ("lstm", "c")])
def test_state_with_another_batch_size_than_the_input_is_rejected(kind, state, rng):
    a = valid_args(kind, rng)
    a[state] = rng.standard_normal((N + 1, H))
    cell, sequence = both_forwards(kind, a)
    # N is read from the input, so the state is the argument blamed.
    with pytest.raises(ValueError, match=says(f"{state}_prev: expected shape (N={N}, H={H}), got ({N + 1}, {H})")):
        cell()
    with pytest.raises(ValueError, match=says(f"{state}0: expected shape (N={N}, H={H}), got ({N + 1}, {H})")):
        sequence()


def test_two_dimensional_sequence_is_rejected(kind, rng):
    a = valid_args(kind, rng)
    with pytest.raises(ValueError, match=says(f"xs: expected shape (T, N, D={D}), got ({N}, {D})")):
        sequence_forward(kind, a["x"], a["h"], a["c"], a["weights"])


def test_empty_sequence_is_rejected(kind, rng):
    a = valid_args(kind, rng)
    with pytest.raises(ValueError, match=says("xs: expected at least one time step (T >= 1), got T=0")):
        sequence_forward(kind, np.zeros((0, N, D)), a["h"], a["c"], a["weights"])


def test_non_numeric_input_is_a_type_error(kind, rng):
    a = valid_args(kind, rng)
    with pytest.raises(TypeError, match=says("xs: expected a numeric array, got dtype")):
        sequence_forward(kind, np.full((T, N, D), "a"), a["h"], a["c"], a["weights"])


# Weights.

@pytest.mark.parametrize(("kind", "other"), [(k, o) for k in GATES for o in GATES if o != k])
def test_weights_of_another_kind_are_rejected(kind, other, rng):
    # e.g. a GRU's (3H, H) W_hh handed to lstm: the number of gate blocks is wrong.
    a = valid_args(kind, rng)
    a["weights"] = list(getattr(rnnlib, other).init_weights(D, H, rng))
    G, G_other = GATES[kind], GATES[other]
    expected = says(f"W_hh: expected shape ({rows(kind)}, H) = ({G * H}, {H}) for {ARTICLE[kind]} with H={H}",
                    f"got ({G_other * H}, {H})")
    assert_both_reject(kind, a, expected)


def test_W_hh_that_is_not_a_matrix_is_rejected(kind, rng):
    a = valid_args(kind, rng)
    a["weights"][1] = a["weights"][1].ravel()
    G = GATES[kind]
    expected = says(f"W_hh: expected a 2-D array of shape ({rows(kind)}, H), got shape ({G * H * H},)")
    assert_both_reject(kind, a, expected)


def test_W_ih_with_wrong_rows_is_rejected(kind, rng):
    a = valid_args(kind, rng)
    G = GATES[kind]
    a["weights"][0] = rng.standard_normal((G * H + 1, D))
    expected = says(f"W_ih: expected shape ({rows(kind)}={G * H}, D) for {ARTICLE[kind]} with H={H}",
                    f"got ({G * H + 1}, {D})")
    assert_both_reject(kind, a, expected)


@pytest.mark.parametrize("bias", ["b_ih", "b_hh"])
@pytest.mark.parametrize("delta", [-1, 1])
def test_bias_of_wrong_length_is_rejected(kind, bias, delta, rng):
    a = valid_args(kind, rng)
    G = GATES[kind]
    a["weights"][2 if bias == "b_ih" else 3] = np.zeros(G * H + delta)
    expected = says(f"{bias}: expected shape ({rows(kind)}={G * H}), got ({G * H + delta},)")
    assert_both_reject(kind, a, expected)


def test_D_is_read_from_W_ih(kind, rng):
    # A W_ih with the right rows but another D is valid on its own; the input is then the one blamed.
    a = valid_args(kind, rng)
    a["weights"][0] = rng.standard_normal((GATES[kind] * H, D + 2))
    cell, sequence = both_forwards(kind, a)
    with pytest.raises(ValueError, match=says(f"x: expected shape (N, D={D + 2}), got ({N}, {D})")):
        cell()
    with pytest.raises(ValueError, match=says(f"xs: expected shape (T, N, D={D + 2}), got ({T}, {N}, {D})")):
        sequence()


# Upstream gradients.

@pytest.mark.parametrize("bad_shape", [(T, N, H + 1), (T - 1, N, H), (N, H)], ids=["H", "T", "2-D"])
def test_sequence_backward_rejects_dhs_of_the_wrong_shape(kind, bad_shape, rng):
    a = valid_args(kind, rng)
    cache = sequence_forward(kind, a["xs"], a["h"], a["c"], a["weights"])[-1]
    with pytest.raises(ValueError, match=says(f"dhs: expected the shape of the forward output, {(T, N, H)}",
                                              f"got {bad_shape}")):
        getattr(rnnlib, kind).backward(np.zeros(bad_shape), cache)


def test_cell_backward_rejects_dh_of_the_wrong_shape(kind, rng):
    a = valid_args(kind, rng)
    cache = cell_forward(kind, a["x"], a["h"], a["c"], a["weights"])[-1]
    lib = getattr(rnnlib, kind)
    bad = np.zeros((N, H + 1))
    with pytest.raises(ValueError, match=says(f"dh: expected the shape of the forward output, {(N, H)}",
                                              f"got {(N, H + 1)}")):
        lib.cell_backward(bad, np.zeros((N, H)), cache) if kind == "lstm" else lib.cell_backward(bad, cache)


def test_lstm_rejects_cell_gradients_of_the_wrong_shape(rng):
    a = valid_args("lstm", rng)
    cell_cache = cell_forward("lstm", a["x"], a["h"], a["c"], a["weights"])[-1]
    with pytest.raises(ValueError, match=says(f"dc: expected the shape of the forward output, {(N, H)}, got {(H, N)}")):
        rnnlib.core.lstm.cell_backward(np.zeros((N, H)), np.zeros((H, N)), cell_cache)
    cache = sequence_forward("lstm", a["xs"], a["h"], a["c"], a["weights"])[-1]
    with pytest.raises(ValueError, match=says(f"dcT: expected the shape of the forward output, {(N, H)}",
                                              f"got {(T, N, H)}")):
        rnnlib.core.lstm.backward(np.zeros((T, N, H)), cache, dcT=np.zeros((T, N, H)))


# torch_bridge.

@pytest.mark.parametrize(("module", "problem"), [
    (torch.nn.RNN(3, 5, num_layers=2), "num_layers=1, got 2"),
    (torch.nn.LSTM(3, 5, bidirectional=True), "bidirectional=False, got True"),
    (torch.nn.RNN(3, 5, nonlinearity="relu"), "nonlinearity='tanh', got 'relu'"),
    (torch.nn.GRU(3, 5, bias=False), "bias=True, got False"),
    (torch.nn.LSTM(3, 5, proj_size=2), "proj_size=0, got 2"),
], ids=["two-layer", "bidirectional", "relu", "no-bias", "projection"])
def test_to_numpy_rejects_layers_it_cannot_represent(module, problem):
    with pytest.raises(ValueError, match=says("module: expected", problem)):
        torch_bridge.to_numpy(module)


def test_to_numpy_lists_every_problem_at_once():
    with pytest.raises(ValueError, match=says("num_layers=1, got 3", "bidirectional=False, got True")):
        torch_bridge.to_numpy(torch.nn.GRU(3, 5, num_layers=3, bidirectional=True))


@pytest.mark.parametrize("module", [torch.nn.Linear(3, 5), torch.nn.LSTMCell(3, 5)], ids=["Linear", "LSTMCell"])
def test_to_numpy_rejects_modules_that_are_not_sequence_layers(module):
    with pytest.raises(TypeError, match=says("module: expected a torch.nn.RNN, LSTM or GRU",
                                             f"got {type(module).__name__}")):
        torch_bridge.to_numpy(module)


@pytest.mark.parametrize("blocks", [2, 5])
def test_from_numpy_rejects_W_hh_rows_that_are_not_1_3_or_4_times_H(blocks, rng):
    W_hh = rng.standard_normal((blocks * H, H))
    weights = (rng.standard_normal((blocks * H, D)), W_hh, np.zeros(blocks * H), np.zeros(blocks * H))
    with pytest.raises(ValueError, match=says("W_hh: expected shape (G*H, H) with G = 1 (RNN), 3 (GRU) or 4 (LSTM)",
                                              f"got ({blocks * H}, {H})")):
        torch_bridge.from_numpy(*weights)


def test_from_numpy_rejects_W_hh_rows_that_are_not_a_multiple_of_H(rng):
    # 3*H + 1 rows: the integer quotient is 3, a valid count, so only the remainder gives it away.
    weights = (np.zeros((3 * H + 1, D)), np.zeros((3 * H + 1, H)), np.zeros(3 * H + 1), np.zeros(3 * H + 1))
    with pytest.raises(ValueError, match=says("W_hh: expected shape (G*H, H)", f"got ({3 * H + 1}, {H})")):
        torch_bridge.from_numpy(*weights)


def test_from_numpy_checks_the_other_arrays_against_the_kind_read_from_W_hh(rng):
    W_ih, W_hh, b_ih, b_hh = rnnlib.core.gru.init_weights(D, H, rng)
    with pytest.raises(ValueError, match=says(f"b_hh: expected shape (3*H={3 * H}), got ({4 * H},)")):
        torch_bridge.from_numpy(W_ih, W_hh, b_ih, np.zeros(4 * H))


# Clipping.

@pytest.mark.parametrize("bad", [0, 0.0, -1.0, float("nan")])
def test_clip_by_global_norm_rejects_a_non_positive_max_norm(bad):
    with pytest.raises(ValueError, match=says(f"max_norm: expected a positive number, got {bad!r}")):
        clip.clip_by_global_norm([np.ones(3)], bad)


@pytest.mark.parametrize("bad", [0, 0.0, -1.0, float("nan")])
def test_clip_by_value_rejects_a_non_positive_clip_value(bad):
    with pytest.raises(ValueError, match=says(f"clip_value: expected a positive number, got {bad!r}")):
        clip.clip_by_value([np.ones(3)], bad)
