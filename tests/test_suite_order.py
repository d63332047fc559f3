"""`make test`'s order of test files (tests/conftest.py): those in LONGEST_FIRST first, in its order, every
other file after them as collected, and each file's tests kept together in their own order."""

import pathlib
from types import SimpleNamespace

import pytest

from tests import conftest


def items(*names):
    return [SimpleNamespace(path=pathlib.Path("tests") / name, name=f"{name}::{i}") for i, name in enumerate(names)]


def test_the_longest_files_come_first_and_the_rest_keep_their_order():
    collected = items("test_a.py", "test_gradebook_term.py", "test_a.py", "test_adversarial.py", "test_b.py",
                      "test_ps2_bptt.py", "test_adversarial.py")
    conftest.pytest_collection_modifyitems(None, collected)
    assert [item.name for item in collected] == [
        "test_adversarial.py::3", "test_adversarial.py::6", "test_ps2_bptt.py::5", "test_gradebook_term.py::1",
        "test_a.py::0", "test_a.py::2", "test_b.py::4"]


def test_a_file_named_there_that_no_longer_exists_stops_the_run(monkeypatch):
    monkeypatch.setattr(conftest, "LONGEST_FIRST", (*conftest.LONGEST_FIRST, "test_renamed_away.py"))
    with pytest.raises(pytest.UsageError, match="test_renamed_away.py"):
        conftest.pytest_collection_modifyitems(None, items("test_a.py"))


def test_make_test_keeps_the_collection_order():
    """pytest-xdist otherwise reorders files by their number of tests, which undoes LONGEST_FIRST."""
    makefile = (pathlib.Path(__file__).parent.parent / "Makefile").read_text()
    (line,) = [line for line in makefile.splitlines() if "-m pytest" in line and "TEST_JOBS" in line]
    assert "--dist loadfile" in line and "--no-loadscope-reorder" in line
