"""rnnlib.display.progress: the finished text bar of the built book, and tqdm's own bar otherwise."""

import io

from rnnlib.display import progress


def test_the_static_bar_writes_only_its_final_state(monkeypatch):
    monkeypatch.setenv("RNNLIB_STATIC_PROGRESS", "1")
    out = io.StringIO()
    for _ in progress.bar(range(50), desc="training", file=out, mininterval=0):
        pass
    text = out.getvalue()
    assert text.count("training") == 1 and "100%" in text and "50/50" in text and " 0%" not in text


def test_the_static_bar_also_finishes_when_updated_by_hand(monkeypatch):
    monkeypatch.setenv("RNNLIB_STATIC_PROGRESS", "1")
    out = io.StringIO()
    with progress.bar(total=10, desc="steps", file=out) as bar:
        for _ in range(10):
            bar.update(1)
    assert out.getvalue().count("steps") == 1 and "10/10" in out.getvalue()


def test_outside_the_book_build_it_is_tqdm(monkeypatch):
    monkeypatch.delenv("RNNLIB_STATIC_PROGRESS", raising=False)
    from tqdm.auto import tqdm

    with progress.bar(total=3, disable=True) as bar:
        assert isinstance(bar, tqdm) and not isinstance(bar, progress.FinishedBar)
