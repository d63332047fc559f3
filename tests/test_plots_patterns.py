"""rnnlib.display.plots.plot_io_patterns: the three output patterns it draws, on the Agg backend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rnnlib.display import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_io_patterns_draw_one_output_every_output_and_an_encoder_decoder():
    many_to_one, many_to_many, seq2seq = plots.plot_io_patterns()
    assert "many-to-one" in many_to_one.get_title() and "many-to-many" in many_to_many.get_title()
    assert "encoder-decoder" in seq2seq.get_title()
    assert texts(many_to_one).count("$y$") == 1 and "$h_4$" in texts(many_to_one)
    assert [t for t in texts(many_to_many) if t.startswith("$y_")] == [f"$y_{k}$" for k in (1, 2, 3, 4)]
    # the encoder reads 3 inputs; its last state h_3 starts a decoder of 4 steps fed its previous outputs
    assert {"$x_1$", "$x_3$", "$h_3$", "$d_1$", "$d_4$", "$y_0$"} <= set(texts(seq2seq))
    assert "$x_4$" not in texts(seq2seq) and texts(seq2seq).count("$h_3$") == 2  # box and arrow label
    assert all(not ax.axison and len(ax.patches) > 10 for ax in (many_to_one, many_to_many, seq2seq))


def test_io_patterns_draw_on_given_axes_and_reject_a_wrong_number():
    fig, axes = plt.subplots(1, 3)
    assert plots.plot_io_patterns(axes) == list(axes)
    with pytest.raises(ValueError, match=r"axes: expected 3 axes, got 2"):
        plots.plot_io_patterns(axes[:2])
