"""Progress bars for the lessons' training loops.

``progress.bar(...)`` takes tqdm's arguments. In a live notebook it is tqdm's widget bar. When the book
is built (``make book`` sets ``RNNLIB_STATIC_PROGRESS=1``) the bar is plain text on stdout, written once,
when the loop is done: the static page shows the finished bar, with its count, time and rate, instead of
an empty widget or a line per refresh.
"""

import os
import sys

from tqdm import tqdm as text_tqdm


class FinishedBar(text_tqdm):
    """A text bar that prints only its final state, when it is closed (and nothing to stderr)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("file", sys.stdout)
        kwargs.setdefault("ascii", False)
        kwargs.setdefault("ncols", 88)  # the width of the book's content column
        super().__init__(*args, **kwargs)

    _closing = False

    def close(self):
        self._closing = True
        super().close()

    def display(self, msg=None, pos=None):
        if not self._closing:
            return True
        return super().display(msg, pos)


def static():
    """Whether bars are drawn for a static page (the book build) rather than a live notebook."""
    return os.environ.get("RNNLIB_STATIC_PROGRESS", "").strip() == "1"


def bar(*args, **kwargs):
    """A tqdm progress bar: tqdm's own in a live notebook, a finished text bar in the built book."""
    if static():
        return FinishedBar(*args, **kwargs)
    from tqdm.auto import tqdm

    kwargs.pop("file", None)
    return tqdm(*args, **kwargs)
