"""Answers as plain numbers, and how two answers are compared. Shared by the student's kernel (the
visible sanity checks) and the trusted grader (every verdict), so both judge alike.

An answer is encoded as JSON-ready data:

    {"n": 3.0}                        a number (Python or numpy scalar)
    {"a": [[...]], "s": [N, H]}       an array; non-finite entries as the strings "nan", "inf", "-inf"
    {"seq": [answer, ...]}            a tuple or list of answers (e.g. the gradients of a backward pass)
    {"map": {"key": answer, ...}}     a dict with string keys
    {"none": true}                    None
    {"type": "SomeClass"}             anything else (never equal to a reference)

A *result* is one case's outcome: ``{"case": label, "value": answer, "mutated": [argument names]}``
or ``{"case": label, "error": [exception type, one-line message], "mutated": [...]}``.

What a student's kernel exports is hostile input: ``decode`` and ``decode_result`` accept only these
shapes, within size limits, and raise ``Malformed`` on anything else, never another exception.
"""

import math
import numbers
import re

import numpy as np

RTOL = 1e-5  # loose enough for a correct answer computed in float32, far tighter than any mistake
ATOL = 1e-6  # relative to the largest entry of the expected array (at least 1)
MAX_NUMBERS = 200_000  # numbers the trusted side decodes in one answer
MAX_ARRAY = 20_000     # entries of an array the student's side encodes (answers here have hundreds at most);
                       # a larger one is reported as such instead of flooding the export file
MAX_DEPTH = 4
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class Malformed(ValueError):
    """An export that is not plain numbers of the agreed structure."""


# ---- encoding (runs wherever the value was computed) ---------------------------------------------

def encode(value, depth=0):
    if value is None:
        return {"none": True}
    if isinstance(value, (bool, np.bool_)):
        return {"type": "bool"}
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        return {"n": _number(value)}
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and value.size > MAX_ARRAY:
        return {"type": "array_too_large_to_compare"}
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
        array = np.asarray(value, dtype=np.float64)
        return {"a": _nested(array), "s": list(array.shape)}
    if depth < MAX_DEPTH and isinstance(value, (tuple, list)):
        if value and all(isinstance(v, numbers.Number) or isinstance(v, list) for v in value):
            try:
                return encode(np.array(value, dtype=np.float64), depth)
            except (TypeError, ValueError):
                pass
        return {"seq": [encode(v, depth + 1) for v in value]}
    if depth < MAX_DEPTH and isinstance(value, dict):
        return {"map": {str(k): encode(v, depth + 1) for k, v in value.items()}}
    return {"type": type(value).__name__}


def _number(value):
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _nested(array):
    if array.ndim == 0:
        return _number(array)
    if np.isfinite(array).all():
        return array.tolist()
    return np.vectorize(_number, otypes=[object])(array).tolist()


# ---- strict decoding (the trusted side accepts nothing else) -------------------------------------

def decode(answer, depth=0, budget=None):
    """Validate an encoded answer from an untrusted source and return it with arrays as float64
    ndarrays and numbers as floats. Raises Malformed on anything unexpected."""
    budget = budget if budget is not None else [MAX_NUMBERS]
    if not isinstance(answer, dict) or len(answer) not in (1, 2) or depth > MAX_DEPTH:
        raise Malformed("not an encoded answer")
    if set(answer) == {"n"}:
        return {"n": _decode_number(answer["n"])}
    if set(answer) == {"a", "s"}:
        shape = answer["s"]
        if not (isinstance(shape, list) and len(shape) <= 6 and all(type(d) is int and d >= 0 for d in shape)):
            raise Malformed("bad shape")
        size = math.prod(shape)
        budget[0] -= size
        if budget[0] < 0:
            raise Malformed("too many numbers")
        flat = []
        _flatten(answer["a"], shape, flat)
        return {"a": np.array(flat, dtype=np.float64).reshape(shape)}
    if set(answer) == {"seq"} and isinstance(answer["seq"], list) and len(answer["seq"]) <= 64:
        return {"seq": [decode(v, depth + 1, budget) for v in answer["seq"]]}
    if set(answer) == {"map"} and isinstance(answer["map"], dict) and len(answer["map"]) <= 64:
        return {"map": {str(k)[:64]: decode(v, depth + 1, budget) for k, v in answer["map"].items()}}
    if set(answer) == {"none"}:
        return {"none": True}
    if set(answer) == {"type"} and isinstance(answer["type"], str):
        return {"type": answer["type"] if _TYPE.fullmatch(answer["type"]) else "object"}
    raise Malformed("unknown answer kind")


def _decode_number(value):
    if type(value) in (int, float):
        try:
            return float(value)
        except OverflowError:  # an int such as 10**400 has no float
            raise Malformed("a number too large for a float") from None
    if isinstance(value, str) and value in _NONFINITE:
        return _NONFINITE[value]
    raise Malformed("not a number")


def _flatten(nested, shape, out):
    """Append the entries of ``nested`` to ``out``, checking every level against ``shape`` first, so
    that a forged array costs no more than the numbers its shape admits."""
    if not shape:
        out.append(_decode_number(nested))
        return
    if not isinstance(nested, list) or len(nested) != shape[0]:
        raise Malformed("the entries do not fill the shape")
    for item in nested:
        _flatten(item, shape[1:], out)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}(\[[0-9]{1,3}\])?")
_TYPE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,79}")


def decode_result(result, labels):
    """Validate one exported result; ``labels`` are the case labels it may name."""
    case = result.get("case") if isinstance(result, dict) else None
    if not isinstance(case, str) or case not in labels:
        raise Malformed("a result for an unknown case")
    mutated = result.get("mutated", [])
    # Argument names are shown in the verdict: only names, as a signature could have them.
    if not (isinstance(mutated, list) and len(mutated) <= 20
            and all(isinstance(m, str) and _NAME.fullmatch(m) for m in mutated)):
        raise Malformed("bad list of modified arguments")
    clean = {"case": case, "mutated": list(mutated)}
    if isinstance(result.get("warning"), str):
        clean["warning"] = one_line(result["warning"], 160)
    if "error" in result:
        error = result["error"]
        if not (isinstance(error, list) and len(error) == 2 and all(isinstance(e, str) for e in error)):
            raise Malformed("bad error record")
        kind = error[0] if _TYPE.fullmatch(error[0]) else "an exception"
        clean["error"] = [kind, error[1][:400]]
    else:
        clean["value"] = decode(result.get("value"))
    return clean


# ---- comparison ----------------------------------------------------------------------------------

def _as_array(answer):
    """An encoded or decoded answer as a float64 array, or None when it is not array-like."""
    if "n" in answer:
        return np.array(_decode_number(answer["n"]))
    if "a" in answer:
        value = answer["a"]
        if isinstance(value, np.ndarray):
            return value
        flat = []
        _flatten(value, answer["s"], flat)
        return np.array(flat, dtype=np.float64).reshape(answer["s"])
    if "seq" in answer:
        parts = [_as_array(v) for v in answer["seq"]]
        if parts and all(p is not None and p.shape == parts[0].shape for p in parts):
            return np.stack(parts)
    return None


def close(got, expected):
    """Entrywise |got - expected| <= ATOL * max(1, max|expected|) + RTOL * |expected|, all finite."""
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    return bool(np.all(np.isfinite(got)) and np.all(np.abs(got - expected) <= ATOL * scale + RTOL * np.abs(expected)))


def problem(got, expected, where="", names=None):
    """None when the answer ``got`` equals ``expected`` (both encoded or decoded answers); otherwise
    ``(description, hint_key)``: what is wrong, in words a student can act on, and a key for a hint
    (``("shape", got_shape, expected_shape)`` or None)."""
    if "seq" in expected:
        parts = got.get("seq")
        if parts is None:
            return f"{where}returned {_kind(got)}, expected {len(expected['seq'])} values (a tuple)", None
        if len(parts) != len(expected["seq"]):
            return f"{where}returned {len(parts)} values, expected {len(expected['seq'])}", None
        for index, (g, e) in enumerate(zip(parts, expected["seq"])):
            found = problem(g, e, where=f"{where[:-2]}[{index}]: " if where else f"{output_name(names, index)}: ")
            if found:
                return found
        return None
    if "map" in expected:
        if "map" not in got:
            return f"{where}returned {_kind(got)}, expected a dict", None
        if sorted(got["map"]) != sorted(expected["map"]):
            return f"{where}the dict's keys are {sorted(got['map'])}, expected {sorted(expected['map'])}", None
        for key in expected["map"]:
            found = problem(got["map"][key], expected["map"][key],
                            where=f"{where[:-2]}[{key!r}]: " if where else f"output [{key!r}]: ")
            if found:
                return found
        return None
    want = _as_array(expected)
    have = _as_array(got)
    if have is None:
        return f"{where}returned {_kind(got)}, expected {'a number' if 'n' in expected else 'an array'}", None
    if "n" in expected:
        if have.size != 1:
            return f"{where}returned an array of shape {have.shape}, expected a single number", None
        have = have.reshape(())
    if have.shape != want.shape:
        return (f"{where}the output has shape {tuple(have.shape)}, expected {tuple(want.shape)}",
                ("shape", tuple(have.shape), tuple(want.shape)))
    if close(have, want):
        return None
    if not np.all(np.isfinite(have)):
        return f"{where}the output contains nan or inf", None
    gap = np.abs(have - want)
    index = np.unravel_index(int(np.argmax(gap)), gap.shape) if gap.ndim else ()
    at = f", at index {tuple(int(i) for i in index)}" if gap.ndim else ""
    return f"{where}the values are wrong (largest difference {float(gap.max()):.3g}{at})", None


def output_name(names, index):
    """What a verdict calls the returned value number ``index``: its name in ``names`` (an exercise's
    ``outputs``, e.g. ``("h", "c")``), or ``name[index]`` when ``names`` is one list name ``("name[]",)``
    (a function that returns a list of any length), else ``output <index>``."""
    names = list(names or ())
    if len(names) == 1 and names[0].endswith("[]"):
        return f"{names[0][:-2]}[{index}]"
    return names[index] if index < len(names) else f"output {index}"


def _kind(answer):
    if "type" in answer:
        return f"a {answer['type']}"
    if "none" in answer:
        return "None"
    if "seq" in answer:
        return f"a sequence of {len(answer['seq'])} values"
    if "map" in answer:
        return "a dict"
    if "n" in answer:
        return "a number"
    return "an array"


def reproduces(result, candidate):
    """Whether a known mistake's result ``candidate`` explains the student's ``result`` for one case:
    the same answer (non-finite entries included), or the same exception type and message."""
    if "error" in candidate or "error" in result:
        return "error" in candidate and "error" in result and candidate["error"] == result["error"]
    return same(result["value"], candidate["value"])


def same(got, want):
    """Whether two answers agree: the same structure, nan and inf in the same places, the finite
    entries equal within the tolerance of ``close``."""
    if "seq" in want or "map" in want:
        key = "seq" if "seq" in want else "map"
        if key not in got or len(got[key]) != len(want[key]):
            return False
        pairs = zip(got[key], want[key]) if key == "seq" else (
            (got[key].get(k), want[key][k]) for k in want[key])
        return all(g is not None and same(g, w) for g, w in pairs)
    a, b = _as_array(got), _as_array(want)
    if a is None or b is None:
        return a is None and b is None
    if "n" in want and a.size == 1:
        a = a.reshape(())
    if a.shape != b.shape:
        return False
    finite_a, finite_b = np.isfinite(a), np.isfinite(b)
    return (bool(np.array_equal(finite_a, finite_b)) and bool(np.array_equal(a[~finite_a], b[~finite_b],
                                                                              equal_nan=True))
            and close(a[finite_a], b[finite_b]))


def explaining_mistakes(results, mistake_results):
    """The messages of the known mistakes whose results reproduce every one of ``results``.
    ``mistake_results`` maps a message to ``{case label: result}``."""
    return [message for message, by_case in mistake_results.items()
            if all(r["case"] in by_case and reproduces(r, by_case[r["case"]]) for r in results)]


WIDTH = 80  # nbgrader validate indents each error line by 4 and cuts it at 87 characters (width 90 - 3)


def wrapped(text, width=WIDTH):
    """``text`` as lines of at most ``width`` characters, broken between words (only a single word
    longer than a whole line is split), so that nbgrader validate, which indents every line by four
    spaces and cuts it at 87 characters, shows all of it, and the feedback reads the same."""
    import textwrap

    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def one_line(text, limit=240):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


# ---- the verdict of one exercise -----------------------------------------------------------------

SHAPE_HINTS = {
    "reversed": lambda got, exp: len(got) > 1 and got == exp[::-1] and got != exp,
    "missing_first": lambda got, exp: got == exp[1:],
    "swap01": lambda got, exp: len(exp) > 2 and got == (exp[1], exp[0], *exp[2:]) and got != exp,
    "one_more_first": lambda got, exp: len(got) == len(exp) > 0 and got[0] == exp[0] + 1 and got[1:] == exp[1:],
}
_FLOAT = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def judge(name, expected, results, mistake_results, hints, hidden=(), outputs=None):
    """The verdict of an exercise: None when every case is right, else ``(line, mistake)``: the one
    line a student reads, and the known mistake it names (None when no single one explains it all).

    ``expected`` maps each case label to the reference answer; ``results`` are the student's results in
    case order; ``mistake_results`` maps each known mistake's message to its results by case label;
    ``hints`` maps a shape-hint kind (``SHAPE_HINTS``) or ``"error:<fragment>"`` to a message, and
    ``"mutated"`` to advice for a function that changed its input. ``outputs`` names the values of a
    function that returns several. ``hidden`` lists the labels of the hidden cases, in order: a verdict
    on one of those says which case (its label and number) and what kind of problem, never a number,
    a shape or the student's error message, which could echo a hidden input or reference output.
    """
    hidden = list(hidden)
    for result in results:
        label = result["case"]
        secret = label in hidden
        where = f"the case '{label}' (hidden case {hidden.index(label) + 1})" if secret else f"the case '{label}'"
        if "error" in result:
            kind, text = result["error"]
            if kind == "NotImplementedError":
                return f"{name}: not implemented yet (the function still raises NotImplementedError)", None
            mistake = _diagnosis(results, mistake_results)
            if secret:
                return _line(f"{name}: on {where} it raised {public_type(kind)}", mistake), mistake
            hint = mistake or _error_hint(kind, text, hints)
            return _line(f"{name}: on {where} it raised {kind}: {text}", hint), mistake
        found = problem(result["value"], expected[label], names=outputs)
        if found:
            description, key = found
            if secret:
                description = _without_numbers(result["value"], expected[label], outputs)
            if description.endswith("contains nan or inf") and result.get("warning"):
                description += (f" (numpy warned: {result['warning']})" if not secret
                                else " (a warning was raised)")
            mistake = _diagnosis(results, mistake_results)
            return _line(f"{name}: on {where} {description}", mistake or _shape_hint(key, hints)), mistake
        if result["mutated"]:
            names = ", ".join(result["mutated"])
            advice = hints.get("mutated", "compute into new arrays, e.g. a = a + b, not a += b")
            return (f"{name}: on {where} it changed its input {names} in place; the caller's arrays must "
                    f"be left as they were ({advice})"), None
    return None


# Exception types a hidden-case verdict may name: a class of the student's own could carry any text in
# its name (even one made up from a hidden input), so those are only called "an exception of its own".
_PUBLIC_TYPES = {name for name, value in vars(__import__("builtins")).items()
                 if isinstance(value, type) and issubclass(value, BaseException)}
_PUBLIC_TYPES |= {"LinAlgError", "AxisError", "StandInMiss", "UsesCourseLibrary", "CheckFailed"}


def public_type(kind):
    return kind if kind in _PUBLIC_TYPES else "an exception of a class of its own"


def _without_numbers(got, want, outputs):
    """What is wrong with a hidden case's answer, in words only."""
    if "seq" in want or "map" in want:
        key = "seq" if "seq" in want else "map"
        if key not in got or (sorted(got[key]) != sorted(want[key]) if key == "map"
                              else len(got[key]) != len(want[key])):
            return "the returned values do not have the expected structure"
        names = (want[key] if key == "map" else range(len(want[key])))
        for index in names:
            if problem(got[key][index], want[key][index]):
                label = f"output [{index!r}]" if key == "map" else output_name(outputs, index)
                return f"{label}: {_without_numbers(got[key][index], want[key][index], None)}"
        return "the values are wrong"
    have, expected = _as_array(got), _as_array(want)
    if have is None:
        kind = "an object of another type" if "type" in got else _kind(got)
        return f"returned {kind}, expected {'a number' if 'n' in want else 'an array'}"
    if have.size != expected.size or ("n" not in want and have.shape != expected.shape):
        return "the output has the wrong shape"
    if not np.all(np.isfinite(have)):
        return "the output contains nan or inf"
    return "the values are wrong"


def _line(text, hint):
    return one_line(text + (f" -> {hint}" if hint else ""), limit=600)


def _diagnosis(results, mistake_results):
    found = explaining_mistakes(results, mistake_results)
    return found[0] if len(found) == 1 else None


def _error_hint(kind, text, hints):
    for key, message in hints.items():
        if key.startswith("error:") and key[6:].lower() in f"{kind}: {text}".lower():
            return message
    return None


def _shape_hint(key, hints):
    if not key:
        return None
    _, got, exp = key
    for kind, message in hints.items():
        if kind in SHAPE_HINTS and SHAPE_HINTS[kind](got, exp):
            return message
    return None
