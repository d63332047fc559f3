"""The full sweep of the long-range lab (chapter 6): `make lab-sweep`, or

    .venv/bin/python scripts/lab_sweep.py [--workers 2] [--seeds 0 1 2] [--out rnnlib/data/lab_sweep.csv]

For each task (adding problem, temporal order), each model of the two comparisons of `lab.sizings` (equal
hidden size 32 on both tasks; equal parameter count with an LSTM of 32 on the adding problem), an LSTM of 32
with a forget-gate bias of 3, and each seed, `lab.climb` trains at increasing
sequence lengths with the lab's protocol (Adam 1e-2, batch 64, global-norm clipping at 1.0, at most 1500
steps, held-out metric every 100 steps on 1000 sequences, stopped at the first evaluation that counts as
solved) until two lengths in a row end unsolved. Every worker process runs torch on one thread, as the
chapter does, so a run gives the same numbers as the same run in the chapter on a machine where torch picks
the same CPU kernels (another CPU, or ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA, changes the last bits, and
training amplifies them). Writes one CSV row per evaluation, after comment lines that record the command,
the protocol, the seeds, the versions, the CPU and its kernel settings, and the date.
"""

import argparse
import datetime
import multiprocessing
import os
import platform
import shlex
import sys
import time

import numpy as np
import torch
from tqdm.auto import tqdm

from rnnlib.experiments import lab

LENGTHS = {"adding": (10, 20, 30, 50, 100, 200), "temporal_order": (10, 20, 30, 50, 100, 200)}
EQUAL_PARAMS_TASKS = ("adding",)
FORGET_BIAS = 3.0  # the extra model: an LSTM of hidden size 32 whose forget gate starts near sigmoid(3) = 0.95


def jobs(seeds, lengths=None, steps=None):
    """One ``(task, kind, hidden_size, forget_bias, seed)`` per climb: the models of both comparisons (the
    LSTM of 32 is in both and runs once) and an LSTM of 32 with a forget-gate bias of ``FORGET_BIAS``. The
    equal-parameter models run on the adding problem only (``EQUAL_PARAMS_TASKS``)."""
    out = []
    for task in LENGTHS:
        sizings = {k: v for k, v in lab.sizings(task).items() if k == "equal H" or task in EQUAL_PARAMS_TASKS}
        models = sorted({(kind, H, None) for sizing in sizings.values() for kind, H in sizing.items()})
        models.append(("lstm", 32, FORGET_BIAS))
        protocol = {**lab.PROTOCOL, **({} if steps is None else {"steps": steps})}
        out += [(task, kind, H, bias, seed, lengths or LENGTHS[task], protocol) for kind, H, bias in models
                for seed in seeds]
    # Seed by seed (an interrupted sweep still has whole seeds), and within a seed the slowest first (GRU, then
    # large hidden sizes), so that the pool is not left waiting for one late job.
    return sorted(out, key=lambda job: (job[4], job[1] != "gru", -job[2]))


def climb(job):
    torch.set_num_threads(1)
    task, kind, H, forget_bias, seed, lengths, protocol = job
    runs = lab.climb(kind, task, lengths, H, seed, forget_bias=forget_bias, **protocol)
    return [row for run in runs for row in lab.run_rows(run)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="processes, one torch thread each")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default=str(lab.SWEEP_CSV))
    parser.add_argument("--lengths", type=int, nargs="+", help="instead of LENGTHS (for a quick trial)")
    parser.add_argument("--steps", type=int, help="instead of the protocol's step budget (for a quick trial)")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    todo, rows, start = jobs(args.seeds, args.lengths, args.steps), [], time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        bar = tqdm(pool.imap_unordered(climb, todo), total=len(todo), desc="lab sweep (climbs)", file=sys.stdout)
        for done, part in enumerate(bar, 1):
            rows += part
            save(args, rows, start, f"{done} of {len(todo)} climbs done" + ("" if done == len(todo) else ", PARTIAL"))
    print(f"wrote {len(rows)} rows to {args.out}")


def save(args, rows, start, status):
    """Write the CSV (again after every climb, so that an interrupted sweep leaves what it finished)."""
    rows = sorted(rows, key=lambda r: (r["task"], r["kind"], str(r["forget_bias"]), r["hidden_size"], r["T"],
                                       r["seed"], r["step"]))
    notes = [
        "Full sweep of the long-range lab (chapter 6); one row per held-out evaluation of a training run.",
        f"command: {' '.join(shlex.quote(a) for a in ['python', 'scripts/lab_sweep.py', *args.argv])}",
        f"seeds: {' '.join(map(str, args.seeds))}; lengths: {args.lengths or LENGTHS}",
        f"models: lab.sizings (equal H 32; equal parameters with an LSTM of 32, on {', '.join(EQUAL_PARAMS_TASKS)} "
        f"only) and an LSTM of 32 with forget bias {FORGET_BIAS:g}",
        f"protocol: {jobs([0], steps=args.steps)[0][-1]}",
        "climb gives up after 2 unsolved lengths in a row; torch threads per run: 1",
        f"solved: adding MSE <= {lab.ADDING_SOLVED}, temporal order accuracy >= {lab.ACCURACY_SOLVED}",
        f"versions: torch {torch.__version__}, numpy {np.__version__}, python {platform.python_version()}",
        f"CPU: {cpu_name()}; torch kernels: {torch.backends.cpu.get_cpu_capability()}; kernel settings: "
        f"{kernel_settings() or 'none (the machine chooses)'}",
        f"date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}; "
        f"wall time {time.perf_counter() - start:.0f} s with {args.workers} workers on {platform.machine()}",
        "solved_step is -1 for a run that ended unsolved; seconds is the CPU time of training so far (evaluation "
        "excluded)",
        f"status: {status}",
    ]
    lab.write_csv(args.out, rows, notes)


def cpu_name():
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        names = []
    return names[0] if names else (platform.processor() or platform.machine())


KERNEL_VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_CBWR", "OPENBLAS_CORETYPE")


def kernel_settings():
    """The environment variables that pin torch's, oneDNN's, MKL's or OpenBLAS's CPU kernels, as ``A=x, B=y``."""
    return ", ".join(f"{name}={os.environ[name]}" for name in KERNEL_VARIABLES if name in os.environ)


if __name__ == "__main__":
    main()
