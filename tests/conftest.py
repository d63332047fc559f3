"""Shared fixtures: a seeded generator, the three layer kinds, and a PyTorch reference run."""

import pathlib
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from rnnlib.core import torch_bridge

KINDS = ("rnn", "lstm", "gru")


@pytest.fixture
def rng():
    """A fresh, seeded generator per test, so every test is repeatable on its own."""
    return np.random.default_rng(20240611)


@pytest.fixture(params=KINDS)
def kind(request):
    """Runs a test once for each of "rnn", "lstm" and "gru" (the rnnlib module names)."""
    return request.param


def torch_layer_class(kind):
    return getattr(torch.nn, kind.upper())


def gradient_names(kind, sequence=True):
    """Names of what rnnlib's backward returns, in its order."""
    inputs = ("dxs", "dh0", "dc0") if sequence else ("dx", "dh_prev", "dc_prev")
    if kind != "lstm":
        inputs = inputs[:2]
    return (*inputs, "dW_ih", "dW_hh", "db_ih", "db_hh")


@pytest.fixture
def torch_reference(rng):
    """Return ``run(kind, T, N, D, H, with_dcT=False, dtype=torch.float64)``.

    ``run`` builds a torch layer (torch's own random init), copies its weights out with
    ``torch_bridge.to_numpy``, draws inputs and upstream gradients, and lets autograd differentiate
    ``sum(output * dhs)`` (plus ``sum(c_n * dcT)`` for an LSTM with ``with_dcT``). Everything comes
    back as numpy, with ``grads`` keyed and ordered like rnnlib's backward results.
    """

    def run(kind, T, N, D, H, with_dcT=False, dtype=torch.float64):
        np_dtype = np.float64 if dtype == torch.float64 else np.float32
        torch.manual_seed(int(rng.integers(2**31)))  # torch's init is drawn from its global generator
        layer = torch_layer_class(kind)(D, H, dtype=dtype)
        weights = torch_bridge.to_numpy(layer)

        def draw(*shape):
            return rng.standard_normal(shape).astype(np_dtype)

        lstm = kind == "lstm"
        xs, h0, dhs = draw(T, N, D), draw(N, H), draw(T, N, H)
        c0 = draw(N, H) if lstm else None
        dcT = draw(N, H) if lstm and with_dcT else None

        xs_t = torch.tensor(xs, requires_grad=True)
        h0_t = torch.tensor(h0[None], requires_grad=True)  # torch wants (num_layers, N, H)
        if lstm:
            c0_t = torch.tensor(c0[None], requires_grad=True)
            out, (h_n, c_n) = layer(xs_t, (h0_t, c0_t))
        else:
            out, h_n = layer(xs_t, h0_t)
        loss = (out * torch.from_numpy(dhs)).sum()
        if dcT is not None:
            loss = loss + (c_n[0] * torch.from_numpy(dcT)).sum()
        loss.backward()

        input_grads = [xs_t.grad, h0_t.grad[0]] + ([c0_t.grad[0]] if lstm else [])
        param_grads = [getattr(layer, n).grad for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
        grads = dict(zip(gradient_names(kind), (g.detach().numpy() for g in input_grads + param_grads)))
        return SimpleNamespace(
            layer=layer, weights=weights, xs=xs, h0=h0, c0=c0, dhs=dhs, dcT=dcT,
            hs=out.detach().numpy(), h_n=h_n.detach()[0].numpy(),
            c_n=c_n.detach()[0].numpy() if lstm else None, grads=grads,
        )

    return run


def pytest_generate_tests(metafunc):
    """For tests.pset.ProblemSetTests: one test per WRONG and per RIGHT student of the class."""
    cls = metafunc.cls
    for name, attribute in (("wrong_student", "WRONG"), ("right_student", "RIGHT")):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, sorted(getattr(cls, attribute)))


# `make test` runs whole files on two processes (pytest -n 2 --dist loadfile --no-loadscope-reorder), each
# taking the next file in collection order when it is free. These files take longest (a graded class, a
# server, a venv built on a fresh machine), longest first: started early, they run beside the other process's
# shorter files instead of alone at the end, and the many quick files fill in last. xdist's own order (most
# tests first) left a server test running alone for the last half minute while the other process idled.
LONGEST_FIRST = (
    "test_adversarial.py", "test_ps2_bptt.py", "test_ps4_lstm.py", "test_ps5_gru.py", "test_ps1_recurrence.py",
    "test_ps3_gradient_decay.py", "test_server_layout.py", "test_student_package.py", "test_grading_engine.py",
    "test_ps6_generating_today.py", "test_lab_sweep.py", "test_jupyterhub.py", "test_gradebook_term.py",
)


def pytest_collection_modifyitems(config, items):
    here = pathlib.Path(__file__).parent
    gone = [name for name in LONGEST_FIRST if not (here / name).exists()]
    if gone:
        raise pytest.UsageError(f"tests/conftest.py LONGEST_FIRST names files that do not exist: {gone}")
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
