"""The long-range lab: train a ``torch.nn.RNN``, ``LSTM`` or ``GRU`` with a linear read-out on a task of
``rnnlib.data.tasks`` for a fixed budget of steps, and record the learning curve.

This module uses ``torch.nn`` modules and autograd, not rnnlib's numpy cells: they compute the same
numbers (``tests/test_against_torch.py``), and a sweep of many training runs needs torch's speed. Layers
are time-major (``xs (T, N, D)``), single-layer, tanh, with PyTorch's default initialisation and gate
order (LSTM i, f, g, o; GRU r, z, n); everything is float32 on the CPU.

The tasks (``TASKS``):

- ``"adding"``: ``tasks.adding``, ``D = 2``, one real output at the last step, mean squared error; the
  constant answer 1 scores 1/6. Solved when the held-out MSE is at most ``ADDING_SOLVED`` (0.01).
- ``"temporal_order"``: ``tasks.temporal_order``, one-hot inputs ``D = 8``, four logits at the last step,
  cross-entropy; chance accuracy 1/4. Solved at a held-out accuracy of at least 0.95.
- ``"copy"``: ``tasks.copy`` (10 symbols out of 8), one-hot ``D = 10``, ten logits at *every* step,
  cross-entropy per step; the metric is the accuracy on the ten recall steps (chance 1/8), solved at 0.95.

A run is seeded: ``torch.manual_seed(seed)`` draws the initial weights (inside ``torch.random.fork_rng``,
so the caller's torch generator is left alone), ``numpy.random.default_rng((seed, T))`` the training
batches, and a fixed ``default_rng((EVAL_SEED, T))`` the held-out set, the same for every model and seed.
With the same number of torch threads, two runs with the same arguments give the same numbers on the same
machine. On another CPU, or with other kernels forced (``ATEN_CPU_CAPABILITY``, ``ONEDNN_MAX_CPU_ISA``), the
last bits of the sums differ and training amplifies them, so a run is compared with the committed sweep by
its outcomes (``expected_outcome``, ``compare_outcome``), not by its numbers.
"""

import csv
import dataclasses
import pathlib
import time

import numpy as np
import torch

from rnnlib.analysis import lstm_gates as gates_module
from rnnlib.core import sizes, torch_bridge
from rnnlib.data import tasks

EVAL_SEED = 12345
ADDING_SOLVED = 0.01
ACCURACY_SOLVED = 0.95
KINDS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


@dataclasses.dataclass(frozen=True)
class Task:
    """What a task needs from the lab: sizes, where it is read out, its metric and when it counts as solved."""

    name: str
    input_size: int
    output_size: int
    every_step: bool  # read out at every step (copy) or only at the last one
    metric: str  # "mse" (lower is better) or "accuracy" (higher is better)
    solved_at: float
    baseline: float  # the metric of the trivial answer (adding: always 1; classification: chance)


TASKS = {
    "adding": Task("adding", 2, 1, False, "mse", ADDING_SOLVED, 1 / 6),
    "temporal_order": Task("temporal_order", len(tasks.TEMPORAL_ORDER_VOCAB), len(tasks.TEMPORAL_ORDER_CLASSES),
                           False, "accuracy", ACCURACY_SOLVED, tasks.TEMPORAL_ORDER_CHANCE),
    "copy": Task("copy", 10, 10, True, "accuracy", ACCURACY_SOLVED, 1 / 8),
}


def get_task(task):
    """The ``Task`` named ``task``, or a ValueError that lists the names."""
    if task not in TASKS:
        raise ValueError(f"task: expected one of {sorted(TASKS)}, got {task!r}")
    return TASKS[task]


def solved(task, metric):
    """Whether a held-out ``metric`` of ``task`` counts as solved (MSE at most, accuracy at least, the bar)."""
    spec = get_task(task)
    return bool(metric <= spec.solved_at) if spec.metric == "mse" else bool(metric >= spec.solved_at)


def make_batch(task, n, T, rng):
    """``(xs, target)`` tensors for ``n`` sequences of ``task`` at length ``T`` drawn with ``rng``.

    ``xs (T', N, D)`` float32 (``T' = T + 20`` for copy, else ``T``). ``target``: ``(N,)`` float32 sums for
    adding, ``(N,)`` int64 classes for temporal order, ``(T', N)`` int64 tokens for copy.
    """
    get_task(task)
    if task == "adding":
        xs, ys = tasks.adding(n, T, rng)
        return torch.as_tensor(xs, dtype=torch.float32), torch.as_tensor(ys, dtype=torch.float32)
    if task == "temporal_order":
        tokens, labels = tasks.temporal_order(n, T, rng)
        size = len(tasks.TEMPORAL_ORDER_VOCAB)
    else:
        tokens, labels = tasks.copy(n, T, rng)
        size = TASKS["copy"].input_size
    return torch.as_tensor(tasks.one_hot(tokens, size), dtype=torch.float32), torch.as_tensor(labels)


class Net(torch.nn.Module):
    """A recurrent layer (``self.rnn``) and a ``Linear`` read-out (``self.head``).

    ``forward(xs (T, N, D))`` returns the read-out of the last state, ``(N, output_size)``, or with
    ``every_step`` of every state, ``(T, N, output_size)``.
    """

    def __init__(self, kind, input_size, hidden_size, output_size, every_step=False):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind: expected one of {sorted(KINDS)}, got {kind!r}")
        if not isinstance(hidden_size, (int, np.integer)) or isinstance(hidden_size, bool) or hidden_size < 1:
            raise ValueError(f"hidden_size: expected a positive integer, got {hidden_size!r}")
        self.kind, self.every_step = kind, every_step
        self.rnn = KINDS[kind](input_size, int(hidden_size))
        self.head = torch.nn.Linear(int(hidden_size), output_size)

    def forward(self, xs):
        out, _ = self.rnn(xs)
        return self.head(out if self.every_step else out[-1])


def build(kind, task, hidden_size, seed, forget_bias=None):
    """A ``Net`` of ``kind`` ("rnn", "lstm", "gru") for ``task``, initialised by torch under ``seed``.

    With ``forget_bias`` (LSTM only) the forget block of ``b_ih`` (rows ``H:2H``) is set to it and that of
    ``b_hh`` to zero after torch's draw, as ``lstm.init_weights`` does: the forget gate starts near
    ``sigmoid(forget_bias)`` instead of about 1/2.
    """
    spec = get_task(task)
    if forget_bias is not None and kind != "lstm":
        raise ValueError(f"forget_bias: expected None for kind {kind!r} (only an LSTM has a forget gate), "
                         f"got {forget_bias!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = Net(kind, spec.input_size, hidden_size, spec.output_size, spec.every_step)
    if forget_bias is not None:
        with torch.no_grad():
            net.rnn.bias_ih_l0[hidden_size:2 * hidden_size] = float(forget_bias)
            net.rnn.bias_hh_l0[hidden_size:2 * hidden_size] = 0.0
    return net


def loss_and_metric(task, out, target):
    """The training loss (a scalar tensor) and the task's metric (a float) of ``out = net(xs)``.

    Adding: MSE, and the metric is the same MSE. Temporal order: cross-entropy and accuracy. Copy:
    cross-entropy averaged over every step, and the accuracy over the last 10 (recall) steps.
    """
    spec = get_task(task)
    if spec.metric == "mse":
        loss = torch.mean((out[:, 0] - target) ** 2)
        return loss, float(loss.detach())
    if spec.every_step:
        loss = torch.nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), target.reshape(-1))
        hits = out[-10:].argmax(-1) == target[-10:]
    else:
        loss = torch.nn.functional.cross_entropy(out, target)
        hits = out.argmax(-1) == target
    return loss, float(hits.double().mean())


@dataclasses.dataclass
class Run:
    """The record of one training run (``train``); arrays are numpy.

    ``loss (steps,)``: training loss per step. ``eval_step``, ``metric``, ``seconds``: the held-out metric
    after that many steps (0 = before training) and the CPU time spent on training so far (the process's
    ``time.process_time``, evaluation excluded; on one torch thread this is the compute time, whatever
    else the machine is doing).
    ``solved_step``: the first ``eval_step`` whose metric counts as solved, or None. ``net``: the model.
    """

    kind: str
    task: str
    T: int
    hidden_size: int
    seed: int
    forget_bias: float | None
    loss: np.ndarray
    eval_step: np.ndarray
    metric: np.ndarray
    seconds: np.ndarray
    solved_step: int | None
    net: Net

    @property
    def final(self):
        """The held-out metric at the end of the run."""
        return float(self.metric[-1])

    @property
    def outcome(self):
        """``"solved at step 300"`` or ``"not solved in 1500 steps"``."""
        if self.solved_step is not None:
            return f"solved at step {self.solved_step}"
        return f"not solved in {int(self.eval_step[-1])} steps"

    def summary(self):
        """One line of at most 88 characters: model, size, length, the outcome, the final metric and the CPU
        time per training step."""
        steps = max(int(self.eval_step[-1]), 1)
        return (f"{model_name(self.kind, self.forget_bias):<19} H={self.hidden_size:<2} T={self.T:<3} "
                f"{self.outcome:<24} {get_task(self.task).metric} {self.final:.4g}, "
                f"{1e3 * self.seconds[-1] / steps:.1f} ms/step")


def evaluate(net, task, xs, target):
    """The task's metric of ``net`` on a held-out batch, without gradients."""
    with torch.no_grad():
        return loss_and_metric(task, net(xs), target)[1]


def train(kind, task, T, hidden_size=32, steps=1500, seed=0, lr=1e-2, batch_size=64, max_norm=1.0,
          eval_every=100, n_eval=1000, stop_when_solved=False, progress=None, forget_bias=None):
    """Train ``build(kind, task, hidden_size, seed, forget_bias)`` with Adam on fresh batches of length ``T``.

    Each step draws ``batch_size`` sequences, computes ``loss_and_metric``, clips the gradient to global
    norm ``max_norm`` (``torch.nn.utils.clip_grad_norm_``) and takes an Adam step with rate ``lr``. Every
    ``eval_every`` steps (and at step 0 and at the end) the metric is measured on ``n_eval`` held-out
    sequences. With ``stop_when_solved`` the run ends at the first evaluation that counts as solved.
    ``progress``, if given, is called with the number of steps just done (e.g. a tqdm bar's ``update``).
    Returns a ``Run``.
    """
    for name, value in (("T", T), ("steps", steps), ("eval_every", eval_every), ("batch_size", batch_size)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    net = build(kind, task, hidden_size, seed, forget_bias)
    rng = np.random.default_rng((seed, T))
    eval_data = make_batch(task, n_eval, T, np.random.default_rng((EVAL_SEED, T)))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    losses, record, spent, solved_step = np.full(steps, np.nan), [(0, evaluate(net, task, *eval_data), 0.0)], 0.0, None
    for step in range(1, steps + 1):
        start = time.process_time()
        losses[step - 1] = _step(net, opt, task, make_batch(task, batch_size, T, rng), max_norm)
        spent += time.process_time() - start
        if step % eval_every == 0 or step == steps:
            record.append((step, evaluate(net, task, *eval_data), spent))
            if progress is not None:
                progress(step - record[-2][0])
            if solved_step is None and solved(task, record[-1][1]):
                solved_step = step
                if stop_when_solved:
                    break
    eval_step, metric, seconds = (np.array(column) for column in zip(*record))
    return Run(kind, task, int(T), int(hidden_size), int(seed), forget_bias, losses[:step], eval_step.astype(int),
               metric, seconds, solved_step, net)


def _step(net, opt, task, batch, max_norm):
    """One Adam step with global-norm clipping on ``batch = (xs, target)``; returns the loss as a float."""
    loss, _ = loss_and_metric(task, net(batch[0]), batch[1])
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm)
    opt.step()
    return float(loss.detach())


def lstm_gates(net, xs):
    """The gates and states of a trained LSTM ``net`` on ``xs (T, N, D)``, computed by rnnlib in float64.

    Copies ``net.rnn``'s weights out (``torch_bridge.to_numpy``) and runs ``lstm_gates.sequence_gates`` from
    zero states: a dict of ``(T, N, H)`` arrays ``"i", "f", "g", "o", "c", "h"``. ``xs`` may be a tensor.
    """
    if getattr(net, "kind", None) != "lstm":
        raise ValueError(f"net: expected a lab.Net of kind 'lstm', got {getattr(net, 'kind', type(net).__name__)!r}")
    weights = [w.astype(np.float64) for w in torch_bridge.to_numpy(net.rnn)]
    xs = np.asarray(xs, dtype=np.float64)
    zeros = np.zeros((xs.shape[1], weights[1].shape[1]))
    return gates_module.sequence_gates(xs, zeros, zeros, *weights)


# Sweeps: runs at increasing lengths, their records as CSV rows, and the longest length each model solves.

SWEEP_CSV = pathlib.Path(__file__).resolve().parent.parent / "data" / "lab_sweep.csv"
CSV_FIELDS = ("task", "kind", "forget_bias", "hidden_size", "n_params", "T", "seed", "step", "metric", "seconds",
              "solved_step")
#: The protocol of the full sweep (``scripts/lab_sweep.py``) and of the chapter's reduced run.
PROTOCOL = dict(steps=1500, lr=1e-2, batch_size=64, max_norm=1.0, eval_every=100, n_eval=1000, stop_when_solved=True)


def sizings(task, hidden_size=32):
    """The two comparisons of the lab: ``{"equal H": {kind: H}, "equal params": {kind: H}}``.

    Equal H gives all three kinds ``hidden_size``; equal params keeps the LSTM at ``hidden_size`` and gives
    the RNN and the GRU the hidden sizes with the closest parameter count (``sizes.matched_hidden_sizes``
    for the task's input size; the read-out is not counted).
    """
    spec = get_task(task)
    return {"equal H": {kind: hidden_size for kind in KINDS},
            "equal params": sizes.matched_hidden_sizes(spec.input_size, hidden_size, reference="lstm")}


def climb(kind, task, lengths, hidden_size, seed, give_up_after=2, **train_kw):
    """Yield ``train(kind, task, T, hidden_size, seed=seed, **train_kw)`` for each ``T`` of ``lengths`` in
    increasing order, and stop after ``give_up_after`` consecutive lengths that end unsolved (longer ones
    are then taken as unsolved too)."""
    misses = 0
    for T in sorted(lengths):
        run = train(kind, task, T, hidden_size, seed=seed, **train_kw)
        yield run
        misses = 0 if run.solved_step is not None else misses + 1
        if misses >= give_up_after:
            return


def run_rows(run):
    """One dict per evaluation of ``run`` with the keys ``CSV_FIELDS`` (``solved_step`` -1 when unsolved,
    ``forget_bias`` an empty string for torch's default initialisation)."""
    n_params = sum(p.numel() for p in run.net.rnn.parameters())
    solved_step = -1 if run.solved_step is None else run.solved_step
    forget_bias = "" if run.forget_bias is None else float(run.forget_bias)
    return [dict(task=run.task, kind=run.kind, forget_bias=forget_bias, hidden_size=run.hidden_size,
                 n_params=n_params, T=run.T, seed=run.seed, step=int(step), metric=float(metric),
                 seconds=float(seconds), solved_step=solved_step)
            for step, metric, seconds in zip(run.eval_step, run.metric, run.seconds)]


def write_csv(path, rows, notes=()):
    """Write ``rows`` (dicts with ``CSV_FIELDS``) to ``path``, after ``notes`` as ``# `` comment lines."""
    with open(path, "w", newline="") as f:
        f.writelines(f"# {line}\n" for line in notes)
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()} for row in rows)


def read_csv(path=SWEEP_CSV):
    """``(runs, notes)`` from a CSV of ``write_csv``: ``notes`` the comment lines, ``runs`` a dict keyed by
    ``(task, model, hidden_size, T, seed)`` whose values hold the arrays ``step``, ``metric``, ``seconds``
    and the ints ``n_params`` and ``solved_step`` (None when unsolved). ``model`` is the kind, or for an
    LSTM with a forget-gate bias e.g. ``"lstm, forget bias 3"`` (``model_name``)."""
    with open(path, newline="") as f:
        lines = f.read().splitlines()
    notes = [line[2:] for line in lines if line.startswith("# ")]
    runs = {}
    for row in csv.DictReader(line for line in lines if not line.startswith("#")):
        forget_bias = float(row["forget_bias"]) if row["forget_bias"] else None
        key = (row["task"], model_name(row["kind"], forget_bias), int(row["hidden_size"]), int(row["T"]),
               int(row["seed"]))
        run = runs.setdefault(key, {"step": [], "metric": [], "seconds": [], "n_params": int(row["n_params"]),
                                    "solved_step": None if int(row["solved_step"]) < 0 else int(row["solved_step"])})
        for name in ("step", "metric", "seconds"):
            run[name].append(float(row[name]))
    for run in runs.values():
        run.update(step=np.array(run["step"], dtype=int), metric=np.array(run["metric"]),
                   seconds=np.array(run["seconds"]))
    return runs, notes


def model_name(kind, forget_bias=None):
    """``"lstm"``, or ``"lstm, forget bias 3"`` when a forget-gate bias was set: the model key of ``read_csv``."""
    return kind if forget_bias is None else f"{kind}, forget bias {forget_bias:g}"


def longest_solved(runs, task, kind, hidden_size):
    """The longest length up to which a majority of the seeds solved *every* length tried, 0 if none.

    ``runs`` as from ``read_csv``; ``kind`` is a model key (a kind, or ``model_name(kind, forget_bias)``). A
    length missing for a seed (``climb`` gave up below it) counts as unsolved for that seed. Returns
    ``(longest, per_seed)``, where ``per_seed[seed]`` is the same for one seed: the longest length up to
    which that seed solved every length (a seed may still solve a longer one after a miss).
    """
    mine = {(T, seed): run for (t, k, h, T, seed), run in runs.items() if (t, k, h) == (task, kind, hidden_size)}
    if not mine:
        raise ValueError(f"runs: no run of task={task!r}, kind={kind!r}, hidden_size={hidden_size!r}")
    seeds, lengths = sorted({s for _, s in mine}), sorted({T for T, _ in mine})

    def reach(solved_at):  # the last length of the longest prefix of ``lengths`` on which solved_at holds
        longest = 0
        for T in lengths:
            if not solved_at(T):
                break
            longest = T
        return longest

    solved = {(T, s): mine.get((T, s), {}).get("solved_step") is not None for T in lengths for s in seeds}
    per_seed = {s: reach(lambda T, s=s: solved[T, s]) for s in seeds}
    return reach(lambda T: 2 * sum(solved[T, s] for s in seeds) > len(seeds)), per_seed


#: The chapter's reduced run: seed 0 and the sweep's protocol, a few lengths, ``(task, kind, hidden_size,
#: forget_bias, T, steps)``. Every entry is also a run of the full sweep (same seed, same code); the
#: temporal-order runs stop at 600 steps instead of 1500. The numbers are the sweep's to the last digit only
#: with the same CPU kernels: torch picks them by CPU, and training amplifies their last-bit differences.
REDUCED = (
    *(("adding", kind, 32, None, T, 1500) for T in (20, 30) for kind in ("rnn", "lstm", "gru")),
    ("adding", "rnn", 66, None, 20, 1500), ("adding", "gru", 37, None, 20, 1500),
    *(("temporal_order", kind, 32, bias, 50, 600) for kind, bias in (("rnn", None), ("lstm", None), ("lstm", 3.0),
                                                                       ("gru", None))),
)

#: The outcome rule of ``expected_outcome`` and ``compare_outcome``: a step of solving may lie this many
#: evaluations outside the seeds' range; a verdict "unsolved" needs every seed's best metric this far from
#: the bar (MSE at least ``CLEAR_FACTOR`` times the bar, accuracy at least ``CLEAR_ACCURACY`` below it); a
#: final metric may lie this far outside the range of the seeds with the same outcome (``FINAL_FLOOR``: in
#: log10 of the MSE, a factor of about 3, or in accuracy, about three binomial sds at 1000 sequences).
MARGIN_EVALS = 2
CLEAR_FACTOR = 3.0
CLEAR_ACCURACY = 0.2
FINAL_FLOOR = {"mse": 0.5, "accuracy": 0.05}


@dataclasses.dataclass(frozen=True)
class Expected:
    """What a sweep's seeds say about one model and length under a budget of ``steps`` (``expected_outcome``).

    ``solved_steps[seed]``: the step at which the seed was solved in the sweep (its whole run, which may be
    longer than ``steps``), or None. ``finals[seed]``: its metric after ``steps`` steps, or when it was solved
    if earlier; ``bests[seed]``: its best metric up to then. ``solved``: True when every seed was solved
    with ``MARGIN_EVALS`` evaluations to spare within ``steps``, False when no seed was solved before that
    many evaluations past ``steps`` and every seed stayed clear of the bar, else None (not settled).
    ``step_range``: where a run's step of solving may fall (the seeds' range widened by ``MARGIN_EVALS``
    evaluations; the upper end is inf when a seed was never solved), or None when no seed was solved.
    """

    task: str
    model: str
    hidden_size: int
    T: int
    steps: int
    solved_steps: dict
    finals: dict
    bests: dict
    solved: bool | None
    step_range: tuple | None


def expected_outcome(runs, task, model, hidden_size, T, steps, eval_every=PROTOCOL["eval_every"]):
    """The ``Expected`` outcome of a run of ``model`` (``model_name``) at length ``T`` with a budget of
    ``steps``, from the sweep's seeds (``runs`` as from ``read_csv``)."""
    key = (task, model, hidden_size, T)
    seeds = {s: r for (t, m, h, length, s), r in runs.items() if (t, m, h, length) == key}
    if len(seeds) < 2:
        raise ValueError(f"runs: expected at least two seeds of {key}, got {len(seeds)}")
    spec, margin = get_task(task), MARGIN_EVALS * eval_every
    best = min if spec.metric == "mse" else max
    within = {s: r["metric"][r["step"] <= steps] for s, r in seeds.items()}
    solved_steps = {s: r["solved_step"] for s, r in seeds.items()}
    finished = [step for step in solved_steps.values() if step is not None]
    clear = all(_clear_of_bar(spec, best(m)) for m in within.values())
    if len(finished) == len(seeds) and max(finished) + margin <= steps:
        verdict = True
    elif all(step is None or step > steps + margin for step in solved_steps.values()) and clear:
        verdict = False
    else:
        verdict = None
    step_range = None
    if finished:
        step_range = (max(min(finished) - margin, 0),
                      max(finished) + margin if len(finished) == len(seeds) else np.inf)
    return Expected(task, model, hidden_size, T, steps, solved_steps, {s: float(m[-1]) for s, m in within.items()},
                    {s: float(best(m)) for s, m in within.items()}, verdict, step_range)


def _clear_of_bar(spec, metric):
    """Whether ``metric`` is far from the solved bar (``CLEAR_FACTOR``, ``CLEAR_ACCURACY``)."""
    if spec.metric == "mse":
        return bool(metric >= CLEAR_FACTOR * spec.solved_at)
    return bool(metric <= spec.solved_at - CLEAR_ACCURACY)


_VERDICT = {True: "solved", False: "unsolved", None: "not settled"}  # Expected.solved in words


def _step_word(step):
    return "unsolved" if step is None else str(step)


def compare_outcome(run, expected):
    """Check one ``Run`` against the ``Expected`` outcome of its model and length; returns ``(ok, checks)``.

    ``checks`` holds ``(name, ok, text)`` for ``"solved"`` (the run ends solved as the seeds say; checked only
    when ``expected.solved`` is settled), ``"step"`` (a run that was solved was solved within
    ``expected.step_range``; checked when the run and at least one seed were solved) and ``"final"`` (the
    final metric within ``FINAL_FLOOR`` of the range of the seeds that ended the budget the same way, solved
    or not, in log10 for the MSE; checked when there is such a seed). ``ok`` is None for a check that was not made; the
    overall ``ok`` is True when no check failed.
    """
    spec = get_task(run.task)
    got = run.solved_step is not None and run.solved_step <= expected.steps
    say = _VERDICT[expected.solved]
    checks = [("solved", None if expected.solved is None else got == expected.solved,
               f"{'solved' if got else 'unsolved'}, the seeds say {say}")]
    if got and expected.step_range is not None:
        lo, hi = expected.step_range
        checks.append(("step", bool(lo <= run.solved_step <= hi), f"step {run.solved_step}, allowed {lo:g} to {hi:g}"))
    same = [f for s, f in expected.finals.items()
            if (expected.solved_steps[s] is not None and expected.solved_steps[s] <= expected.steps) == got]
    if same:
        scale = np.log10 if spec.metric == "mse" else float
        lo, hi, floor = scale(min(same)), scale(max(same)), FINAL_FLOOR[spec.metric]
        value = scale(run.final)
        checks.append(("final", bool(lo - floor <= value <= hi + floor),
                       f"{run.final:.4g} against {min(same):.4g} to {max(same):.4g}"
                       f"{' (log10)' if spec.metric == 'mse' else ''} +- {floor:g}"))
    return all(ok is not False for _, ok, _ in checks), checks


def solved_steps(runs, task, model, hidden_size, T):
    """``{seed: step}`` of a sweep (``read_csv``'s ``runs``): the step at which each seed of ``model`` at
    length ``T`` was solved, None where it was not (or where the climb gave up below ``T``)."""
    seeds = {s for (t, m, h, _, s) in runs if (t, m, h) == (task, model, hidden_size)}
    if not seeds:
        raise ValueError(f"runs: no run of task={task!r}, model={model!r}, hidden_size={hidden_size!r}")
    return {s: runs.get((task, model, hidden_size, T, s), {}).get("solved_step") for s in sorted(seeds)}


def join_steps(steps, last="and"):
    """``"1000, 1400 and 1100"`` from ``[1000, 1400, 1100]``; ``None`` is written "unsolved"."""
    words = [_step_word(step) for step in steps]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def outcome_lines(run, expected, checks, same):
    """Two lines of at most 88 characters on one run of the reduced run against the sweep: the outcome and
    the seeds' steps, then each check of ``compare_outcome`` (ok, failed, or "-" when not made) and whether
    the run equals the sweep's seed 0 to the last digit (``same``; information only)."""
    verdict = _VERDICT[expected.solved]
    seeds = ", ".join(_step_word(expected.solved_steps[s]) for s in sorted(expected.solved_steps))
    made = {name: ("ok" if ok else "FAILED") for name, ok, _ in checks if ok is not None}
    marks = ", ".join(f"{name} {made.get(name, '-')}" for name in ("solved", "step", "final"))
    return (f"{expected.task.split('_')[-1]:<6} {expected.model:<19} H={expected.hidden_size:<2} T={expected.T:<3} "
            f"{run.outcome}\n    sweep seeds: {seeds}, so {verdict} within {expected.steps} steps\n"
            f"    checks: {marks}; equal to seed 0 to the last digit: {same}")
