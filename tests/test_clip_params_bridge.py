"""Gradient clipping against torch.nn.utils, parameter counts and initialisation against torch.nn,
and the torch bridge round trip."""

import numpy as np
import pytest
import torch

import rnnlib
from rnnlib.core import clip, torch_bridge
from rnnlib.core.gradcheck import relative_error

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
GRAD_SHAPES = [(4, 3), (5,), (2, 2, 2)]


def random_grads(rng, scale=1.0):
    return [scale * rng.standard_normal(shape) for shape in GRAD_SHAPES]


def torch_params_with_grads(grads):
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    return params


def flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


# Clipping.

@pytest.mark.parametrize("max_norm", [0.5, 1e3], ids=["clips", "leaves-alone"])
def test_clip_by_global_norm_matches_torch_clip_grad_norm(max_norm, rng):
    grads = random_grads(rng)
    originals = [g.copy() for g in grads]
    params = torch_params_with_grads(grads)
    torch_norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))

    clipped, norm = clip.clip_by_global_norm(grads, max_norm)
    assert relative_error(norm, torch_norm) < 1e-12
    assert (norm > max_norm) == (max_norm == 0.5)  # the two cases really are one clip and one no-op
    for ours, p in zip(clipped, params):
        assert relative_error(ours, p.grad.numpy()) < 1e-12
    # Unlike torch's in-place version, the inputs are left as they were.
    assert all(np.array_equal(g, o) for g, o in zip(grads, originals))


def test_clip_by_global_norm_brings_the_norm_down_to_max_norm(rng):
    grads = random_grads(rng, scale=10.0)
    clipped, norm = clip.clip_by_global_norm(grads, 1.0)
    assert norm == pytest.approx(np.linalg.norm(flat(grads)), rel=1e-12)
    assert np.linalg.norm(flat(clipped)) == pytest.approx(1.0, rel=1e-5)  # torch's 1e-6 guard in the scale


def test_clip_by_global_norm_below_the_limit_returns_equal_copies(rng):
    grads = random_grads(rng)
    clipped, _ = clip.clip_by_global_norm(grads, 1e3)
    for ours, g in zip(clipped, grads):
        assert np.array_equal(ours, g)
        assert not np.shares_memory(ours, g)


@pytest.mark.parametrize("clip_value", [0.3, 10.0], ids=["clips", "leaves-alone"])
def test_clip_by_value_matches_torch_clip_grad_value(clip_value, rng):
    grads = random_grads(rng)
    params = torch_params_with_grads(grads)
    torch.nn.utils.clip_grad_value_(params, clip_value)
    clipped = clip.clip_by_value(grads, clip_value)
    for ours, p in zip(clipped, params):
        assert np.array_equal(ours, p.grad.numpy())
    assert np.abs(flat(clipped)).max() <= clip_value


def cosine(a, b):
    a, b = flat(a), flat(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_global_norm_clipping_keeps_the_direction_and_value_clipping_does_not():
    # One steep coordinate and one shallow one: the typical exploding-gradient picture.
    grads = [np.array([30.0, 0.5]), np.array([[-2.0]])]
    by_norm, _ = clip.clip_by_global_norm(grads, 1.0)
    by_value = clip.clip_by_value(grads, 1.0)
    assert cosine(by_norm, grads) == pytest.approx(1.0, abs=1e-12)
    # Clamping gives [1, 0.5, -1]: the shallow coordinates now weigh as much as the steep one.
    assert np.array_equal(flat(by_value), [1.0, 0.5, -1.0])
    assert cosine(by_value, grads) < 0.8


def test_global_norm_agrees_with_numpy(rng):
    grads = random_grads(rng)
    assert clip.global_norm(grads) == pytest.approx(np.linalg.norm(flat(grads)), rel=1e-12)


# Parameter counts and initialisation.

@pytest.mark.parametrize(("D", "H"), [(1, 1), (3, 5), (10, 2), (64, 128)])
@pytest.mark.parametrize("bias", [True, False])
def test_param_count_equals_torch(kind, D, H, bias):
    module = getattr(torch.nn, kind.upper())(D, H, bias=bias)
    assert getattr(rnnlib, kind).param_count(D, H, bias=bias) == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_init_weights_shapes_dtype_and_bounds(kind, dtype, rng):
    D, H = 7, 16
    G = GATES[kind]
    weights = getattr(rnnlib, kind).init_weights(D, H, rng, dtype=dtype)
    assert [w.shape for w in weights] == [(G * H, D), (G * H, H), (G * H,), (G * H,)]
    assert all(w.dtype == dtype for w in weights)
    bound = dtype(1.0 / np.sqrt(H))  # rounding to float32 is monotonic, so the float32 bound holds
    values = flat(weights)
    assert np.abs(values).max() <= bound
    # Uniform over the whole interval, not a narrower one: thousands of draws reach close to both ends.
    assert values.min() < -0.95 * bound and values.max() > 0.95 * bound


def test_init_weights_is_reproducible_from_the_generator(kind):
    lib = getattr(rnnlib, kind)
    first = lib.init_weights(3, 4, np.random.default_rng(7))
    second = lib.init_weights(3, 4, np.random.default_rng(7))
    third = lib.init_weights(3, 4, np.random.default_rng(8))
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not np.array_equal(first[0], third[0])


def test_lstm_init_weights_forget_bias_sets_only_the_forget_block():
    D, H = 3, 4
    plain = rnnlib.core.lstm.init_weights(D, H, np.random.default_rng(3))
    W_ih, W_hh, b_ih, b_hh = rnnlib.core.lstm.init_weights(D, H, np.random.default_rng(3), forget_bias=1.0)
    forget = slice(H, 2 * H)  # gate order i, f, g, o
    assert np.array_equal(b_ih[forget], np.ones(H))
    assert np.array_equal(b_hh[forget], np.zeros(H))
    # Everything else is what the same generator draws without forget_bias.
    others = np.r_[0:H, 2 * H:4 * H]
    assert np.array_equal(b_ih[others], plain[2][others])
    assert np.array_equal(b_hh[others], plain[3][others])
    assert np.array_equal(W_ih, plain[0]) and np.array_equal(W_hh, plain[1])


def test_lstm_forget_bias_makes_the_forget_gate_start_near_sigmoid_of_it():
    D, H = 3, 4
    weights = rnnlib.core.lstm.init_weights(D, H, np.random.default_rng(3), forget_bias=1.0)
    zeros = np.zeros((1, D)), np.zeros((1, H)), np.zeros((1, H))
    # With x = h = 0 the forget pre-activation is b_ih[f] + b_hh[f] = 1, so f = sigmoid(1); c_prev = 1
    # makes c = f * 1 + i * g, and i * g = 0 when g's bias is zeroed too.
    W_ih, W_hh, b_ih, b_hh = (w.copy() for w in weights)
    b_ih[2 * H:3 * H] = b_hh[2 * H:3 * H] = 0.0
    _, c, _ = rnnlib.core.lstm.cell_forward(zeros[0], zeros[1], np.ones((1, H)), W_ih, W_hh, b_ih, b_hh)
    expected = torch.sigmoid(torch.tensor(1.0, dtype=torch.float64)).item()
    assert relative_error(c, np.full((1, H), expected)) < 1e-15


# torch_bridge.

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_from_numpy_then_to_numpy_returns_the_same_arrays(kind, dtype, rng):
    weights = getattr(rnnlib, kind).init_weights(3, 5, rng, dtype=dtype)
    back = torch_bridge.to_numpy(torch_bridge.from_numpy(*weights))
    assert len(back) == 4
    for ours, theirs in zip(weights, back):
        assert theirs.dtype == dtype
        assert np.array_equal(ours, theirs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_from_numpy_picks_the_class_from_the_shapes(kind, dtype, rng):
    D, H = 3, 5
    module = torch_bridge.from_numpy(*getattr(rnnlib, kind).init_weights(D, H, rng, dtype=dtype))
    assert type(module) is getattr(torch.nn, kind.upper())
    assert (module.input_size, module.hidden_size, module.num_layers) == (D, H, 1)
    expected_dtype = torch.float64 if dtype == np.float64 else torch.float32
    assert all(p.dtype == expected_dtype for p in module.parameters())


def test_from_numpy_tells_rnn_and_lstm_apart_when_D_is_4H(rng):
    # W_ih of an RNN with D = 4*H has as many columns as an LSTM has blocks: only W_hh decides.
    D, H = 8, 2
    assert type(torch_bridge.from_numpy(*rnnlib.core.rnn.init_weights(D, H, rng))) is torch.nn.RNN
    assert type(torch_bridge.from_numpy(*rnnlib.core.lstm.init_weights(D, H, rng))) is torch.nn.LSTM


def test_to_numpy_returns_copies_not_views_of_the_module(kind):
    module = getattr(torch.nn, kind.upper())(3, 4, dtype=torch.float64)
    W_ih = torch_bridge.to_numpy(module)[0]
    W_ih[:] = 0.0
    assert module.weight_ih_l0.abs().sum().item() > 0


def test_from_numpy_does_not_share_memory_with_the_arrays(kind, rng):
    weights = getattr(rnnlib, kind).init_weights(3, 4, rng)
    module = torch_bridge.from_numpy(*weights)
    weights[1][:] = 0.0
    assert module.weight_hh_l0.abs().sum().item() > 0


def test_to_numpy_maps_the_state_dict_one_to_one(kind):
    module = getattr(torch.nn, kind.upper())(3, 4, dtype=torch.float64)
    state = module.state_dict()
    names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    for array, name in zip(torch_bridge.to_numpy(module), names):
        assert np.array_equal(array, state[name].numpy())
