"""Problem set 6 through the whole engine, as one class graded by `make grade`'s path: the solution gets
full marks, the release gets 0, every catalogued mistake loses exactly its own cell's points with its
diagnosis in the feedback and in `nbgrader validate` (each submission holds one mistake per exercise,
each judged alone, so that the whole catalogue fits in a small class), a function that changes its input
in place fails, correct answers written differently get full marks, and a scan fitted to the sanity
cases is caught by the hidden lengths only."""

import functools

import nbformat
import numpy as np
import pytest

import grader.student as student
from grader import problem_sets
from grader.compare import judge
from grader.sets import ps6_generating_today as ps6
from rnnlib.models import beam
from tests.course import ROOT, solution_sources
from tests.pset import ProblemSetTests

PS = "ps6_generating_today"
NOTEBOOK = "ps6_generating_today.ipynb"


# ---- wrong answers, one function each ------------------------------------------------------------

def metrics(loss="-np.take_along_axis(log_probs, targets[:, :, None], axis=2)[:, :, 0]",
            nats="np.sum(loss * mask) / np.sum(mask)", ppl="np.exp(nats)", bits="nats / np.log(2)"):
    return (f"def perplexity_and_bits(log_probs, targets, mask):\n    loss = {loss}\n    nats = {nats}\n"
            f"    return {{'nats': nats, 'perplexity': {ppl}, 'bits': {bits}}}\n")


def beam_step(total="scores[:, None] + log_probs", order="np.argsort(-total.ravel(), kind='stable')[:width]",
              split="np.unravel_index(best, total.shape)", kept="(scores[:, None] + log_probs)[parents, tokens_]",
              state="new_state[parents]"):
    return ("def beam_step(step, tokens, state, scores, width):\n"
            "    log_probs, new_state = step(tokens, state)\n"
            f"    total = {total}\n    best = {order}\n    parents, tokens_ = {split}\n"
            f"    return parents, tokens_, {kept}, {state}\n")


PER_PREFIX = ("def beam_step(step, tokens, state, scores, width):\n"
              "    log_probs, new_state = step(tokens, state)\n"
              "    total = scores[:, None] + log_probs\n"
              "    best = total.argmax(axis=1)\n"
              "    order = np.argsort(-total.max(axis=1), kind='stable')\n"
              "    return order, best[order], total.max(axis=1)[order], new_state[order]\n")


def scan(fold="np.concatenate([(a[0] * h0 + b[0])[None], b[1:]])", loop="while d < len(a):",
         level="A, B = np.concatenate([A[:d], A[d:] * A[:-d]]), np.concatenate([B[:d], A[d:] * B[:-d] + B[d:]])",
         shift="d = 2 * d", result="B"):
    return (f"def linear_scan(a, b, h0):\n    A, B, d = a, {fold}, 1\n    {loop}\n        {level}\n"
            f"        {shift}\n    return {result}\n")


def mingru(z="1 / (1 + np.exp(-(xs @ W_z.T + b_z)))", candidate="xs @ W_h.T + b_h", keep="1 - z",
           write="z * candidate", start="h0"):
    """A minGRU with its own loop (no linear_scan), so that it is judged alone whatever the scan does."""
    return (f"def mingru_forward(xs, h0, W_z, b_z, W_h, b_h):\n    z = {z}\n    candidate = {candidate}\n"
            f"    h, hs = {start}, []\n    for a_t, b_t in zip({keep}, {write}):\n        h = a_t * h + b_t\n"
            "        hs.append(h)\n    return np.stack(hs)\n")


def cells(metrics_src=None, beam_src=None, scan_src=None, mingru_src=None):
    found = {"perplexity_and_bits": metrics_src, "beam_step": beam_src, "linear_scan": scan_src,
             "mingru_forward": mingru_src}
    return {name: source for name, source in found.items() if source}


M, B, S, G = (f"test_{name}" for name in ("perplexity_and_bits", "beam_step", "linear_scan", "mingru_forward"))
ONE_LEVEL_SHORT = "for _ in range(int(np.log2(len(a)))):"

# student -> (answers replacing the solution cells, {the cells that must lose their points: diagnosis})
WRONG = {
    "mistakes_1": (cells(metrics(nats="np.mean(loss)"), beam_step(total="log_probs + 0 * scores[:, None]"),
                         scan(loop=ONE_LEVEL_SHORT),
                         # calls its (wrong) scan: graded with a correct one in its place, mistake still named
                         "def mingru_forward(xs, h0, W_z, b_z, W_h, b_h):\n"
                         "    z = 1 / (1 + np.exp(-(xs @ W_z.T + b_z)))\n"
                         "    return linear_scan(z, (1 - z) * (xs @ W_h.T + b_h), h0)\n"),
                   {M: "the padded positions are counted", B: "ranked by the new token's log-probability alone",
                    S: "one level short when T is not a power of 2", G: "z weighs the candidate in the minGRU"}),
    "mistakes_2": (cells(metrics(nats="np.mean(np.sum(loss * mask, axis=0) / np.sum(mask, axis=0))"),
                         beam_step(kept="log_probs[parents, tokens_]"), scan(fold="b"),
                         mingru(candidate="np.tanh(xs @ W_h.T + b_h)")),
                   {M: "each sequence's mean loss is averaged", B: "the kept scores are the new token's",
                    S: "h0 is left out", G: "the minGRU's candidate has no tanh"}),
    "mistakes_3": (cells(metrics(nats="np.sum(loss * mask)"), beam_step(total="scores[:, None] * log_probs"),
                         scan(fold="np.concatenate([(h0 + b[0])[None], b[1:]])"), mingru(z="xs @ W_z.T + b_z")),
                   {M: "the losses are summed, not averaged", B: "log-probabilities add along a sequence",
                    S: "h0 enters without a_1", G: "the sigmoid is missing"}),
    "mistakes_4": (cells(metrics(loss="np.take_along_axis(log_probs, targets[:, :, None], axis=2)[:, :, 0]"),
                         beam_step(order="np.argsort(total.ravel(), kind='stable')[:width]"),
                         scan(level="A, B = np.concatenate([A[:d], A[d:] * A[:-d]]), "
                                    "np.concatenate([B[:d], A[:-d] * B[d:] + B[:-d]])"),
                         mingru(start="np.zeros_like(h0)")),
                   {M: "the minus sign is missing", B: "the worst extensions are kept",
                    S: "the two maps are composed in the wrong order", G: "h0 is left out"}),
    "mistakes_5": (cells(metrics(ppl="2 ** nats"),
                         beam_step(order="np.sort(np.argsort(-total.ravel(), kind='stable')[:width])"),
                         scan(level="A = np.concatenate([A[:d], A[d:] * A[:-d]])\n"
                                    "        B = np.concatenate([B[:d], A[d:] * B[:-d] + B[d:]])"),
                         mingru(write="candidate")),
                   {M: "the perplexity is e^nats, not 2^nats", B: "the kept extensions are not in order",
                    S: "A was updated before B used it", G: "the candidate is not weighted by z"}),
    "mistakes_6": (cells(metrics(bits="nats * np.log(2)"), beam_step(split="divmod(best, len(scores))"),
                         scan(level="B = np.concatenate([B[:d], A[d:] * B[:-d] + B[d:]])"),
                         mingru(z="1 / (1 + np.exp(-(xs @ W_h.T + b_h)))", candidate="xs @ W_z.T + b_z")),
                   {M: "a bit is ln 2 nats", B: "the flat index was split with B instead of V",
                    S: "A is never updated", G: "W_z, b_z and W_h, b_h are swapped"}),
    "mistakes_7": (cells(metrics(ppl="np.sum(np.exp(loss) * mask) / np.sum(mask)"),
                         PER_PREFIX, scan(shift="d = d + 1")),
                   {M: "the exponential of the mean loss, not the mean of the per-token exponentials",
                    B: "each prefix keeps only its own best token", S: "the shift grows by 1 each level"}),
    "mistakes_8": (cells(metrics(loss="-log_probs.max(axis=2)"), beam_step(state="new_state"),
                         scan(level="A, B = A * np.roll(A, d, axis=0), A * np.roll(B, d, axis=0) + B"),
                         # the classic in-place recurrence: right states, but h0 is changed
                         "def mingru_forward(xs, h0, W_z, b_z, W_h, b_h):\n"
                         "    z = 1 / (1 + np.exp(-(xs @ W_z.T + b_z)))\n    h, hs = h0, []\n"
                         "    for z_t, c_t in zip(z, xs @ W_h.T + b_h):\n        h *= 1 - z_t\n"
                         "        h += z_t * c_t\n        hs.append(h.copy())\n    return np.stack(hs)\n"),
                   {M: "uses the likeliest symbol's log-probability", B: "the state is not reordered",
                    S: "np.roll wraps the last steps around", G: "changed its input h0 in place"}),
    "mistakes_9": (cells(metrics(loss="-log_probs.mean(axis=2)"), beam_step(state="state[parents]"),
                         scan(result="np.concatenate([h0[None], B])")),
                   {M: "not the mean over all V symbols", B: "the state returned is the old one",
                    S: "T + 1 states: return h_1 .. h_T"}),
    # five levels whatever T is: right for every sanity case (T <= 20), wrong on the hidden T = 33 and 100;
    # its minGRU calls it and is judged with a correct scan in its place, so it keeps its points
    "fits_the_sanity_cases": (cells(scan_src=scan(loop="for d in (1, 2, 4, 8, 16):", shift="pass")),
                              {S: "linear_scan: on the case 'T = 33"}),
}

# Correct answers written differently. The class's WRONG submissions hold some of them too, in the cells
# they do not get wrong (where they must get full marks as well).
LOOPS = {
    "perplexity_and_bits": "def perplexity_and_bits(log_probs, targets, mask):\n    total, count = 0.0, 0\n"
                           "    T, N, V = log_probs.shape\n    for t in range(T):\n        for n in range(N):\n"
                           "            if mask[t, n]:\n"
                           "                total -= log_probs[t, n, int(targets[t, n])]\n"
                           "                count += 1\n    L = total / count\n    import math\n"
                           "    return dict(nats=L, perplexity=math.exp(L), bits=L / math.log(2))\n",
    "beam_step": "def beam_step(step, tokens, state, scores, width):\n"
                 "    log_probs, new_state = step(tokens, state)\n    B, V = log_probs.shape\n"
                 "    found = sorted(((scores[b] + log_probs[b, v], -(b * V + v), b, v) for b in range(B)\n"
                 "                    for v in range(V)), reverse=True)[:width]\n"
                 "    parents = [b for _, _, b, _ in found]\n"
                 "    return (parents, [v for _, _, _, v in found], [s for s, _, _, _ in found],\n"
                 "            np.array([new_state[b] for b in parents]))\n",
    # the work-efficient scan (Blelloch), in float32, padded with identity steps to a power of 2
    "linear_scan": "def linear_scan(a, b, h0):\n    T = len(a)\n    size = 1\n    while size < T:\n"
                   "        size *= 2\n"
                   "    A = np.concatenate([a, np.ones((size - T,) + a.shape[1:])]).astype(np.float32)\n"
                   "    B = np.concatenate([b, np.zeros((size - T,) + b.shape[1:])]).astype(np.float32)\n"
                   "    B[0] = a[0] * h0 + b[0]\n    d = 1\n    while d < size:\n"
                   "        A2, B2 = A.copy(), B.copy()\n"
                   "        A2[2 * d - 1::2 * d] = A[2 * d - 1::2 * d] * A[d - 1::2 * d]\n"
                   "        B2[2 * d - 1::2 * d] = A[2 * d - 1::2 * d] * B[d - 1::2 * d] + B[2 * d - 1::2 * d]\n"
                   "        A, B, d = A2, B2, 2 * d\n    d //= 2\n    while d >= 1:\n"
                   "        A2, B2 = A.copy(), B.copy()\n"
                   "        A2[3 * d - 1::2 * d] = A[3 * d - 1::2 * d] * A[2 * d - 1:-d:2 * d]\n"
                   "        B2[3 * d - 1::2 * d] = (A[3 * d - 1::2 * d] * B[2 * d - 1:-d:2 * d]\n"
                   "                                + B[3 * d - 1::2 * d])\n"
                   "        A, B, d = A2, B2, d // 2\n    return B[:T]\n",
    "mingru_forward": "def mingru_forward(xs, h0, W_z, b_z, W_h, b_h):\n"
                      "    xs = xs.astype(np.float32)\n"
                      "    z = 1 / (1 + np.exp(-(W_z @ xs[..., None])[..., 0] - b_z))\n"
                      "    return linear_scan(1 - z, z * ((W_h @ xs[..., None])[..., 0] + b_h), h0)\n",
}
FLOAT32 = {
    "perplexity_and_bits": "def perplexity_and_bits(log_probs, targets, mask):\n"
                           "    keep = mask.astype(bool)\n    lp = log_probs.astype(np.float32)[keep]\n"
                           "    nats = -np.mean(lp[np.arange(len(lp)), targets[keep]])\n"
                           "    return {'bits': np.log2(np.exp(nats)), 'nats': nats, 'perplexity': np.exp(nats)}\n",
    "beam_step": "def beam_step(step, tokens, state, scores, width):\n"
                 "    log_probs, new_state = step(tokens, state)\n"
                 "    total = (scores.reshape(-1, 1) + log_probs).astype(np.float32)\n"
                 "    flat = total.reshape(-1)\n    best = np.argsort(-flat, kind='stable')[:width]\n"
                 "    V = total.shape[1]\n    parents, toks = best // V, best % V\n"
                 "    return parents, toks, flat[best], np.take(new_state, parents, axis=0)\n",
}
# a minGRU with einsum and the sigmoid through tanh, calling linear_scan: when the scan fails, it is graded
# with a correct scan in its place, which must answer its calls
EINSUM_MINGRU = ("def mingru_forward(xs, h0, W_z, b_z, W_h, b_h):\n"
                 "    z = 0.5 * (1 + np.tanh(0.5 * np.einsum('tnd,hd->tnh', xs, W_z) + 0.5 * b_z))\n"
                 "    return linear_scan(1 - z, z * np.einsum('tnd,hd->tnh', xs, W_h) + z * b_h, h0)\n")
WRONG["mistakes_7"][0]["mingru_forward"] = mingru(z="1 / (1 + np.exp(-(W_z @ xs[..., None])[..., 0] - b_z))",
                                                  candidate="(W_h @ xs[..., None])[..., 0] + b_h")
WRONG["mistakes_9"][0]["mingru_forward"] = EINSUM_MINGRU
WRONG["fits_the_sanity_cases"][0].update(FLOAT32, mingru_forward=EINSUM_MINGRU)
RIGHT = {"loops_float32_and_a_work_efficient_scan": LOOPS}


def test_the_catalogue_is_covered_by_the_class():
    """Every catalogued mistake of every exercise is made by one submission of the class above."""
    said = {cell: {spec[1][cell] for spec in WRONG.values() if cell in spec[1]} for cell in (M, B, S, G)}
    for exercise in ps6.EXERCISES:
        for message, _ in exercise.mistakes:
            assert any(d in message for d in said[exercise.test_cell]), (exercise.name, message)


def test_beam_step_run_step_after_step_is_rnnlib_beam_search():
    """The reference beam_step, run for a few steps with no end token, finds the sequence and score that
    rnnlib.models.beam.beam_search finds, which tests/test_beam.py checks against an exhaustive search."""
    rng = np.random.default_rng(5)
    V, H = 5, 3
    L, U, E = rng.standard_normal((V, V)), rng.standard_normal((H, V)), rng.standard_normal((V, H))

    def step(tokens, state):
        s = L[tokens] + state @ U
        return s - np.log(np.exp(s).sum(axis=1, keepdims=True)), np.tanh(state + E[tokens])

    for width in (1, 2, 4):
        tokens, state, scores, prefixes = np.array([0]), np.zeros((1, H)), np.zeros(1), [[]]
        for _ in range(4):
            parents, tokens, scores, state = ps6.beam_step(step, tokens, state, scores, width)
            prefixes = [prefixes[p] + [int(t)] for p, t in zip(parents, tokens)]
        found, score = beam.beam_search(step, np.zeros((1, H)), 0, V, width, 4)  # end token V never comes
        assert found[0] == prefixes[0] and np.isclose(score[0], scores[0])


# ---- validate agrees with the grade on slips the catalogue does not model (in this process, fast) ---------

def slip(cell, old, new):
    source = solution_sources(PS, NOTEBOOK)[cell]
    assert old in source, (cell, old)
    return {cell: source.replace(old, new)}


WARN = "    _ = np.log(np.zeros(1))  # divide by zero: a warning, the answer is still right\n"
PLAIN_LOOP = {"linear_scan": "def linear_scan(a, b, h0):\n    h, hs = h0, []\n    for a_t, b_t in zip(a, b):\n"
                             "        h = a_t * h + b_t\n        hs.append(h)\n    return np.stack(hs)\n"}
# slip -> (answers, the exercises that must fail both in validate and in the grade)
SLIPS = {
    "padding in the denominator only": (slip("perplexity_and_bits", "/ np.sum(mask)", "/ mask.size"),
                                        {"perplexity_and_bits"}),
    "one sequence only": (slip("perplexity_and_bits", "picked * mask", "picked[:, :1] * mask[:, :1]"),
                          {"perplexity_and_bits"}),
    "the mask written into log_probs": (slip("perplexity_and_bits", "    picked =",
                                             "    log_probs *= mask[:, :, None]\n    picked ="),
                                        {"perplexity_and_bits"}),
    "a warning on a right perplexity": (slip("perplexity_and_bits", "    picked =", WARN + "    picked ="), set()),
    "as many kept as prefixes": (slip("beam_step", "[:width]", "[:len(scores)]"), {"beam_step"}),
    "the state taken by token": (slip("beam_step", "new_state[parents]", "new_state[next_tokens]"), {"beam_step"}),
    "scores normalised in place": (slip("beam_step", "    total =", "    scores -= scores.max()\n    total ="),
                                   {"beam_step"}),
    "a warning on a right beam step": (slip("beam_step", "    total =", WARN + "    total ="), set()),
    # its minGRU is right: graded with a correct scan in its place, and checked so before submitting too
    "levels counted by N": (slip("linear_scan", "while d < len(a):", "while d < a.shape[1]:"), {"linear_scan"}),
    "h0 folded into b in place": (slip("linear_scan", "B = np.concatenate([(a[0] * h0 + b[0])[None], b[1:]])",
                                       "B = b\n    B[0] = a[0] * h0 + b[0]"), {"linear_scan"}),
    "one harmless extra level": (slip("linear_scan", "while d < len(a):", "while d <= len(a):"), set()),
    "a plain loop: right values, though not a scan (graded on values only)": (PLAIN_LOOP, set()),
    "a minGRU for one example": (slip("mingru_forward", "candidate = xs @ W_h.T + b_h",
                                      "candidate = xs[:, :1] @ W_h.T + b_h"), {"mingru_forward"}),
    "a minGRU from a state the size of the input": (slip("mingru_forward", "z * candidate, h0)",
                                                         "z * candidate, np.zeros_like(xs[0]))"),
                                                    {"mingru_forward"}),
}


@functools.cache
def catalogue_results(name):
    exercise = next(e for e in ps6.EXERCISES if e.name == name)
    data = problem_sets.references(PS)["exercises"][name]
    return exercise.mistake_results(data["visible"] + data["hidden"])


def validate_and_grade(answers):
    """``{exercise: (passes validate, passes the grade)}``: the sanity tests run as the notebook runs them
    (``check`` in this process, helpers of its own or stand-ins), and the grade as the trusted step judges
    it (visible and hidden cases, a correct helper in place of one that failed)."""
    student._registry.clear()
    student._visible_verdicts.clear()
    sources = {**solution_sources(PS, NOTEBOOK), **answers}
    nb = nbformat.read(ROOT / "solutions" / PS / NOTEBOOK, as_version=4)
    namespace, shown = {"np": np, "check": student.check}, {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            exec(sources[meta["grade_id"]], namespace)  # noqa: S102
        elif cell.cell_type == "code" and meta.get("grade"):
            try:
                exec(cell.source, namespace)  # noqa: S102
                shown[meta["grade_id"]] = True
            except student.CheckFailed:
                shown[meta["grade_id"]] = False
    references, graded, verdicts = problem_sets.references(PS)["exercises"], {}, {}
    for exercise in ps6.EXERCISES:
        data = references[exercise.name]
        function = namespace[exercise.name]
        if any(not graded[helper] for helper in exercise.helpers):  # the stand-in: a correct helper
            function.__globals__.update({h: getattr(ps6, h) for h in exercise.helpers})
        cases = data["visible"] + data["hidden"]
        results = [student._run(function, case) for case in cases]
        verdict = judge(exercise.name, {c["case"]: c["expected"] for c in cases}, results,
                        catalogue_results(exercise.name), exercise.hints,
                        hidden=[c["case"] for c in data["hidden"]], outputs=exercise.outputs)
        graded[exercise.name] = verdict is None
        verdicts[exercise.name] = (shown[exercise.test_cell], graded[exercise.name])
    return verdicts


@pytest.mark.parametrize("name", sorted(SLIPS))
def test_validate_agrees_with_the_grade_on_slips_beyond_the_catalogue(name):
    answers, failing = SLIPS[name]
    verdicts = validate_and_grade(answers)
    assert {exercise: shown for exercise, (shown, _) in verdicts.items()} == \
        {exercise: graded for exercise, (_, graded) in verdicts.items()}, "validate must agree with the grade"
    assert {exercise for exercise, (_, graded) in verdicts.items() if not graded} == failing


class TestProblemSet6(ProblemSetTests):
    PS, NOTEBOOK, WRONG, RIGHT = PS, NOTEBOOK, WRONG, RIGHT
