"""The committed full sweep of the long-range lab (rnnlib/data/lab_sweep.csv, `make lab-sweep`) and the
chapter's reduced run (`lab.REDUCED`): the CSV records how it was made and is consistent with the lab's
rules, and the reduced run, recomputed here, has the outcomes that the sweep's seeds settle (solved or not,
the step of solving, the final metric; `lab.compare_outcome`, the rule the chapter applies). The numbers
themselves are the sweep's only on CPUs whose torch kernels are the sweep's, so no test compares them."""

import numpy as np
import pytest
import torch

from rnnlib.experiments import lab


@pytest.fixture(scope="module")
def sweep():
    return lab.read_csv()


def test_the_csv_records_command_seeds_and_versions(sweep):
    runs, notes = sweep
    text = "\n".join(notes)
    assert "command: python scripts/lab_sweep.py" in text
    assert "seeds: 0 1 2" in text and "date: " in text
    assert f"torch {torch.__version__}" in text and f"numpy {np.__version__}" in text and "python 3." in text
    done = [line for line in notes if line.startswith("status: ")]
    assert done and "PARTIAL" not in done[0], done
    assert {seed for *_, seed in runs} == {0, 1, 2}


def test_every_run_follows_the_protocol(sweep):
    runs, _ = sweep
    budget, every = lab.PROTOCOL["steps"], lab.PROTOCOL["eval_every"]
    for key, run in runs.items():
        task = key[0]
        assert run["step"][0] == 0 and np.all(np.diff(run["step"]) == every), key
        passed = [lab.solved(task, m) for m in run["metric"]]
        if run["solved_step"] is None:  # never passed the bar, so it ran the whole budget
            assert not any(passed) and run["step"][-1] == budget, key
        else:  # stopped at the first evaluation past the bar
            assert passed[-1] and not any(passed[:-1]) and run["step"][-1] == run["solved_step"], key
        assert np.all(np.diff(run["seconds"]) > 0), key


def test_the_sweep_covers_the_reduced_run(sweep):
    runs, _ = sweep
    for task, kind, H, bias, T, _ in lab.REDUCED:
        seeds = {s for (t, m, h, length, s) in runs if (t, m, h, length) == (task, lab.model_name(kind, bias), H, T)}
        assert seeds == {0, 1, 2}, (task, kind, H, bias, T)


@pytest.mark.parametrize("entry", lab.REDUCED, ids=lambda e: f"{e[0]}-{lab.model_name(e[1], e[3])}-H{e[2]}-T{e[4]}")
def test_the_reduced_run_has_the_outcomes_that_the_sweep_settles(sweep, entry):
    """Recompute one run of the chapter's reduced run, with its whole budget, and check it with the rule the
    chapter uses (``lab.expected_outcome`` and ``lab.compare_outcome``)."""
    runs, _ = sweep
    task, kind, H, bias, T, steps = entry
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the sweep and the chapter
    try:
        run = lab.train(kind, task, T, H, seed=0, forget_bias=bias, **{**lab.PROTOCOL, "steps": steps})
    finally:
        torch.set_num_threads(threads)
    expected = lab.expected_outcome(runs, task, lab.model_name(kind, bias), H, T, steps)
    ok, checks = lab.compare_outcome(run, expected)
    assert ok, (checks, expected)


def test_the_rule_settles_what_the_chapter_states(sweep):
    """The chapter asserts these outcomes of its reduced run; the committed sweep must settle them."""
    runs, _ = sweep
    settled = {(task, lab.model_name(kind, bias), H, T):
               lab.expected_outcome(runs, task, lab.model_name(kind, bias), H, T, steps).solved
               for task, kind, H, bias, T, steps in lab.REDUCED}
    for model in ("lstm", "gru"):
        assert settled["adding", model, 32, 20] is settled["adding", model, 32, 30] is True, model
    assert settled["adding", "gru", 37, 20] is True
    assert settled["adding", "rnn", 32, 30] is settled["adding", "rnn", 66, 20] is False
    assert settled["temporal_order", "rnn", 32, 50] is settled["temporal_order", "lstm", 32, 50] is False
    assert settled["temporal_order", "gru", 32, 50] is True
    # and says that these two are too close to their budgets to settle
    assert settled["adding", "rnn", 32, 20] is settled["temporal_order", "lstm, forget bias 3", 32, 50] is None
