"""rnnlib.core.sizes: parameter counts against torch.nn, and the hidden sizes of equal parameter count."""

import pytest
import torch

from rnnlib.core import sizes

KINDS = ("rnn", "lstm", "gru")


def torch_count(kind, D, H):
    return sum(p.numel() for p in getattr(torch.nn, kind.upper())(D, H).parameters())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("D", "H"), [(1, 1), (3, 7), (64, 128), (300, 256)])
def test_param_count_matches_torch(kind, D, H):
    assert sizes.param_count(kind, D, H) == torch_count(kind, D, H)


@pytest.mark.parametrize(("D", "H"), [(3, 7), (64, 128)])
def test_lstm_and_gru_are_four_and_three_times_the_rnn(D, H):
    rnn = sizes.param_count("rnn", D, H)
    assert sizes.param_count("lstm", D, H) == 4 * rnn
    assert sizes.param_count("gru", D, H) == 3 * rnn


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("D", "n_params"), [(1, 10), (3, 500), (64, 99_328), (10, 123_457), (5, 1)])
def test_hidden_size_for_is_the_closest_by_brute_force(kind, D, n_params):
    H = sizes.hidden_size_for(kind, D, n_params)
    gaps = {h: abs(sizes.param_count(kind, D, h) - n_params) for h in range(1, 400)}
    best = min(gaps.values())
    assert gaps[H] == best
    assert H == min(h for h, g in gaps.items() if g == best)  # ties go to the smaller size


@pytest.mark.parametrize("kind", KINDS)
def test_hidden_size_for_an_exact_count_gives_that_size_back(kind):
    for H in (1, 5, 64, 200):
        assert sizes.hidden_size_for(kind, 32, sizes.param_count(kind, 32, H)) == H


def test_matched_hidden_sizes_have_close_counts_in_torch():
    D, H = 64, 128
    matched = sizes.matched_hidden_sizes(D, H)
    assert matched["lstm"] == H
    target = torch_count("lstm", D, H)
    for kind, h in matched.items():
        # within one hidden unit's worth of parameters of the LSTM's count, checked on torch's modules
        one_unit = sizes.param_count(kind, D, h + 1) - sizes.param_count(kind, D, h)
        assert abs(torch_count(kind, D, h) - target) <= one_unit / 2, kind
    assert matched["rnn"] > matched["gru"] > matched["lstm"]


def test_matched_hidden_sizes_with_another_reference():
    matched = sizes.matched_hidden_sizes(10, 50, reference="gru")
    assert matched["gru"] == 50
    assert matched["lstm"] == sizes.hidden_size_for("lstm", 10, sizes.param_count("gru", 10, 50))


@pytest.mark.parametrize(("call", "match"), [
    (lambda: sizes.param_count("transformer", 3, 4),
     r"kind: expected one of \['gru', 'lstm', 'rnn'\], got 'transformer'"),
    (lambda: sizes.param_count("gru", 0, 4), r"input_size: expected a positive integer, got 0"),
    (lambda: sizes.param_count("gru", 3, 2.5), r"hidden_size: expected a positive integer, got 2.5"),
    (lambda: sizes.hidden_size_for("lstm", 3, 0), r"n_params: expected a positive number of parameters, got 0"),
    (lambda: sizes.hidden_size_for("lstm", -1, 100), r"input_size: expected a positive integer, got -1"),
    (lambda: sizes.matched_hidden_sizes(3, 4, reference="LSTM"), r"reference: expected one of .*got 'LSTM'"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
