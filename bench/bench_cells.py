"""Speed of rnnlib's sequence functions next to torch CPU autograd on the same work.

For T=100, N=32, D=H=128 in float64 and float32, times ``forward`` + ``backward`` (random upstream
``dhs``) of rnnlib's rnn, lstm and gru against ``torch.nn.RNN/LSTM/GRU`` holding the same weights
(``rnnlib.core.torch_bridge.from_numpy``): forward, then ``(out * dhs).sum().backward()`` with
``requires_grad`` on the input and the initial states. Both sides run in the same process with the
same thread count, in alternating blocks of repeats (see ``time_blocks``).

This is a report, not a test: it always exits 0. Run with ``make bench``.
"""

import os
import platform
import sys
import time
import traceback

import numpy as np
import torch

from rnnlib.core import gru, lstm, rnn
from rnnlib.core.torch_bridge import from_numpy

T, N, D, H = 100, 32, 128, 128
WARMUP, BLOCK, ROUNDS = 2, 8, 2  # per block: warm-up calls, timed calls; blocks per library
BLOCK_BUDGET = 1.0  # seconds; a block stops early (after 3 calls) past this
TARGETS = {np.float64: 1.0, np.float32: 1.5}  # ratio rnnlib / torch
KINDS = (("rnn", rnn), ("lstm", lstm), ("gru", gru))


def blas_threads():
    """Threads numpy's BLAS uses, and how that was found out."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        n = int(os.environ.get("OMP_NUM_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS") or os.cpu_count())
        return n, "assumed (threadpoolctl not installed): OMP/OPENBLAS_NUM_THREADS or os.cpu_count()"
    numpy_dir = os.path.dirname(np.__file__)
    pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
    mine = [p for p in pools if os.path.dirname(numpy_dir) in p["filepath"] and "numpy" in p["filepath"]] or pools
    if not mine:
        return os.cpu_count(), "assumed os.cpu_count() (threadpoolctl found no BLAS pool)"
    p = mine[0]
    return p["num_threads"], f"threadpoolctl: {p['internal_api']} {p.get('version')} ({p.get('architecture')})"


def make_problem(mod, dtype, rng):
    W = mod.init_weights(D, H, rng, dtype=dtype)
    xs = rng.standard_normal((T, N, D)).astype(dtype)
    h0 = rng.standard_normal((N, H)).astype(dtype)
    c0 = rng.standard_normal((N, H)).astype(dtype)
    dhs = rng.standard_normal((T, N, H)).astype(dtype)
    return W, xs, h0, c0, dhs


def rnnlib_step(mod, W, xs, h0, c0, dhs):
    """forward + backward; returns (hs, grads in torch's order: dxs, dh0[, dc0], dW_ih, dW_hh, db_ih, db_hh)."""
    if mod is lstm:
        hs, _, cache = lstm.forward(xs, h0, c0, *W)
    else:
        hs, cache = mod.forward(xs, h0, *W)
    return hs, mod.backward(dhs, cache)


def torch_step(module, is_lstm, xs_t, h0_t, c0_t, dhs_t):
    """The same work in torch autograd, on fresh leaves each call."""
    module.zero_grad(set_to_none=True)
    x = xs_t.detach().requires_grad_()
    h = h0_t.detach().requires_grad_()
    if is_lstm:
        c = c0_t.detach().requires_grad_()
        out, _ = module(x, (h, c))
    else:
        c = None
        out, _ = module(x, h)
    (out * dhs_t).sum().backward()
    return out, x, h, c


def products_only(W, xs):
    """Only the matrix products of an rnnlib forward + backward (same shapes, numpy's BLAS, no
    elementwise work): the floor for a plain-numpy implementation on this machine."""
    W_ih, W_hh = W[0], W[1]
    T, N, D = xs.shape
    H = W_hh.shape[1]
    x_flat = xs.reshape(T * N, D)
    a_flat = x_flat @ W_ih.T  # input projection, all steps
    h = np.ascontiguousarray(a_flat[:N, :H])
    for _ in range(T):
        h @ W_hh.T  # forward recurrence
    for t in range(T):
        a_flat[t * N:(t + 1) * N] @ W_hh  # backward recurrence
    h_flat = np.ascontiguousarray(a_flat[:, :H])
    return a_flat @ W_ih, a_flat.T @ x_flat, a_flat.T @ h_flat  # dxs, dW_ih, dW_hh


def torch_grads(module, is_lstm, x, h, c):
    grads = [x.grad, h.grad[0]] + ([c.grad[0]] if is_lstm else [])
    grads += [p.grad for p in (module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0)]
    return [g.detach().numpy() for g in grads]


def max_rel_err(ours, theirs):
    return max(float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30)) for a, b in zip(ours, theirs))


def time_blocks(f, g):
    """Per-call times (s) of ``f`` and ``g``, in blocks: f, g, f, g.

    Each block starts with its own warm-up, and the two libraries never alternate call by call:
    OpenBLAS's and OpenMP's worker threads spin for a while after each call, and with as many
    threads as cores that spinning would slow down whichever library runs next. As in a training
    loop (``hs, cache = forward(...)``), a call's results are released when the next call returns.
    """
    times = {f: [], g: []}
    for _ in range(ROUNDS):
        for fn in (f, g):
            last = None
            for _ in range(WARMUP):
                last = fn()
            start = time.perf_counter()
            for k in range(BLOCK):
                t0 = time.perf_counter()
                last = fn()
                times[fn].append(time.perf_counter() - t0)
                if k >= 2 and time.perf_counter() - start > BLOCK_BUDGET:
                    break  # a loaded machine: keep the whole run well under a minute
            del last
    return np.array(times[f]), np.array(times[g])


def main():
    threads, how = blas_threads()
    torch.set_num_threads(threads)
    print(f"python {platform.python_version()}  numpy {np.__version__}  torch {torch.__version__}  "
          f"({platform.machine()}, {os.cpu_count()} CPUs)")
    print(f"threads: numpy BLAS {threads} [{how}]; torch.set_num_threads({threads}) -> "
          f"torch.get_num_threads() = {torch.get_num_threads()}")
    print(f"torch CPU backends: MKL {torch.backends.mkl.is_available()}, oneDNN {torch.backends.mkldnn.is_available()} "
          "(with oneDNN, torch runs nn.LSTM in float32 as one fused kernel; RNN, GRU and float64 go step by step)")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE"):
        if var in os.environ:
            print(f"env {var}={os.environ[var]}")
    print(f"work: T={T} N={N} D={D} H={H}, forward + backward; {ROUNDS} blocks of up to {BLOCK} timed calls per "
          f"library, each after {WARMUP} warm-up calls")
    print("ms = best / median over all timed calls; ratio = best rnnlib / best torch (med ratio: of the medians); "
          "status from ratio")
    print()
    header = (f"{'kind':<5} {'dtype':<8} {'rnnlib ms':>15} {'torch ms':>15} {'ratio':>6} {'target':>7} "
              f"{'status':>6} {'med ratio':>9} {'products ms':>11} {'floor ratio':>11} {'max rel err':>12}")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    missed = 0
    for dtype in (np.float64, np.float32):
        for name, mod in KINDS:
            W, xs, h0, c0, dhs = make_problem(mod, dtype, rng)
            is_lstm = mod is lstm
            module = from_numpy(*W)
            xs_t, dhs_t = torch.from_numpy(xs), torch.from_numpy(dhs)
            h0_t, c0_t = torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]

            hs, ours = rnnlib_step(mod, W, xs, h0, c0, dhs)
            out, x, h, c = torch_step(module, is_lstm, xs_t, h0_t, c0_t, dhs_t)
            theirs = [out.detach().numpy()] + torch_grads(module, is_lstm, x, h, c)
            err = max_rel_err([hs, *ours], theirs)

            t_ours, t_torch = time_blocks(lambda: rnnlib_step(mod, W, xs, h0, c0, dhs),  # noqa: B023
                                          lambda: torch_step(module, is_lstm, xs_t, h0_t, c0_t, dhs_t))  # noqa: B023
            t_floor, _ = time_blocks(lambda: products_only(W, xs), lambda: None)  # noqa: B023
            ratio = t_ours.min() / t_torch.min()
            target = TARGETS[dtype]
            ok = ratio <= target
            missed += not ok
            print(f"{name:<5} {np.dtype(dtype).name:<8} "
                  f"{1e3 * t_ours.min():6.2f} / {1e3 * np.median(t_ours):6.2f} "
                  f"{1e3 * t_torch.min():6.2f} / {1e3 * np.median(t_torch):6.2f} "
                  f"{ratio:6.2f} {'<=' + format(target, '.1f'):>7} {'OK' if ok else 'over':>6} "
                  f"{np.median(t_ours) / np.median(t_torch):9.2f} {1e3 * t_floor.min():11.2f} "
                  f"{t_floor.min() / t_torch.min():11.2f} {err:12.1e}")
    print()
    print("products ms: rnnlib's matrix products alone (same shapes, numpy's BLAS, best of the block); "
          "floor ratio = products / torch,")
    print("the best ratio any plain-numpy implementation could reach here.")
    print("all targets met" if not missed else f"{missed} of {2 * len(KINDS)} targets missed")
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception:  # a report, not a test: say what broke, still exit 0
        traceback.print_exc()
        print("bench_cells: failed before finishing the table (see the traceback above)")
    sys.exit(0)
