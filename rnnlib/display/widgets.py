"""Interactive controls for the lessons (ipywidgets), each one self-contained, plus the static figure
that stands in for it in the rendered book.

ipywidgets and matplotlib are imported only when a function is called. The figures are
``matplotlib.figure.Figure`` objects made without pyplot, so a notebook shows them only where a widget
displays them, and the data behind every curve can be read back (the tests do so without a browser).
"""

import numpy as np

from rnnlib.analysis import decay
from rnnlib.core import rnn

# Chapter 3: gradient decay against lag for a plain RNN with W_hh = s x orthogonal.

DECAY_HIDDEN = 64
DECAY_BATCH = 8


def decay_curve(scale, length, activation, seed=0, hidden_size=DECAY_HIDDEN, batch_size=DECAY_BATCH):
    """Gradient norm against lag for ``h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    ``W_hh = scale x`` a random orthogonal ``(H, H)`` matrix, ``W_ih (H, 1)`` and biases drawn as
    ``torch.nn.RNN`` does, scalar inputs ``xs (length, N, 1) ~ N(0, 1)``, ``h0 = 0``, and a random
    ``dh_last (N, H)``; all from ``seed``, so only ``scale``, ``length`` and ``activation`` change the
    curve. Returns ``norms (length,)`` indexed by lag, normalised so that ``norms[0] = 1``
    (inf or nan where a ReLU or linear network overflows).
    """
    rng = np.random.default_rng(seed)
    W_ih, _, b_ih, b_hh = rnn.init_weights(1, hidden_size, rng)
    W_hh = decay.scaled_orthogonal(hidden_size, scale, rng)
    dh_last = rng.standard_normal((batch_size, hidden_size))
    xs = rng.standard_normal((length, batch_size, 1))
    h0 = np.zeros((batch_size, hidden_size))
    with np.errstate(over="ignore", invalid="ignore"):
        norms = decay.activation_norms_by_lag(xs, h0, W_ih, W_hh, b_ih, b_hh, dh_last, activation)
        return norms / norms[0]


def _fitted_rate(norms):
    """Per-step rate from the first tenth of the lags up to the first zero or overflow (an underflowing
    or overflowing curve still gets a rate); nan if fewer than two usable lags."""
    bad = ~(np.isfinite(norms) & (norms > 0))
    stop = int(np.argmax(bad)) if bad.any() else len(norms)
    start = len(norms) // 10 if stop - len(norms) // 10 >= 2 else 0
    if stop - start < 2:
        return float("nan")
    return decay.per_step_rate(norms, start=start, stop=stop)


def _draw_decay(ax, curves):
    """Draw ``{label: norms}`` on a log axis; return the lines in the order of ``curves``."""
    lines = []
    for label, norms in curves.items():
        finite = np.where(np.isfinite(norms) & (norms > 0), norms, np.nan)
        lines.append(ax.semilogy(np.arange(len(norms)), finite, label=label)[0])
    ax.set_xlabel("lag $k$ (steps back from the loss)")
    ax.set_ylabel(r"$\|\partial L / \partial h_{T-k}\|$ / value at $k=0$")
    ax.grid(True, which="major", alpha=0.3)
    return lines


def decay_grid(scales=(0.5, 1.0, 1.5, 3.0), activations=decay.ACTIVATIONS, length=100, seed=0):
    """The static stand-in for ``DecayExplorer``: one panel per activation, one curve per scale.

    Returns the ``matplotlib.figure.Figure``; the legend gives each curve's fitted per-step rate.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.0 * len(activations), 3.6), layout="constrained")
    axes = fig.subplots(1, len(activations), sharey=True, squeeze=False)[0]
    for ax, activation in zip(axes, activations):
        curves = {}
        for s in scales:
            norms = decay_curve(s, length, activation, seed)
            curves[f"s = {s:g}: x{_fitted_rate(norms):.2f}/step"] = norms
        _draw_decay(ax, curves)
        ax.set_title(f"{activation} RNN, $W_{{hh}}$ = s x orthogonal")
        ax.legend(frameon=False, fontsize=8)
    for ax in axes[1:]:
        ax.set_ylabel("")
    return fig


class DecayExplorer:
    """Sliders for the scale ``s`` of ``W_hh = s x orthogonal`` and the sequence length, and buttons for
    tanh / relu / linear; every change redraws the decay curve (``decay_curve``) and its fitted rate.

    ``explorer.widget`` is what a notebook displays. ``explorer.scale``, ``.length`` and ``.activation``
    are the controls; setting their ``value`` in code has the same effect as moving them.
    ``explorer.line`` is the plotted curve and ``explorer.rate`` the last fitted rate.
    """

    def __init__(self, scale=1.0, length=100, activation="tanh", seed=0):
        import ipywidgets as w
        from matplotlib.figure import Figure

        self.seed = seed
        self.scale = w.FloatSlider(value=scale, min=0.1, max=3.0, step=0.05, description="scale s")
        self.length = w.IntSlider(value=length, min=5, max=300, step=5, description="length T")
        self.activation = w.ToggleButtons(options=list(decay.ACTIVATIONS), value=activation,
                                          description="activation")
        self.figure = Figure(figsize=(6.5, 3.6), layout="constrained")
        self.ax = self.figure.subplots()
        self.line = _draw_decay(self.ax, {"measured": np.ones(2)})[0]
        self.bound = self.ax.semilogy([0, 1], [1, 1], "--", color="grey", label="$s^k$")[0]
        self.ax.legend(frameon=False, loc="lower left")
        self.output = w.Output()
        for control in (self.scale, self.length, self.activation):
            control.observe(self.redraw, names="value")
        self.widget = w.VBox([w.HBox([self.scale, self.length]), self.activation, self.output])
        self.redraw()

    def redraw(self, change=None):
        """Recompute the curve for the controls' current values and show the figure again."""
        s, T = self.scale.value, self.length.value
        norms = decay_curve(s, T, self.activation.value, self.seed)
        lags = np.arange(T)
        self.line.set_data(lags, np.where(np.isfinite(norms) & (norms > 0), norms, np.nan))
        with np.errstate(over="ignore"):
            self.bound.set_data(lags, float(s) ** lags)
        self.rate = _fitted_rate(norms)
        self.ax.set_title(f"{self.activation.value}, s = {s:g}, T = {T}: fitted x{self.rate:.3f} per step")
        self.ax.set_xlim(0, T - 1)
        finite = norms[np.isfinite(norms) & (norms > 0)]
        self.ax.set_ylim(max(finite.min(), 1e-300) / 3, min(finite.max(), 1e300) * 3)
        self.output.clear_output(wait=True)
        with self.output:
            from IPython.display import display

            display(self.figure)


# Chapter 4: the forget-gate and input-gate biases of an LSTM, seen in its cell state and along its cell path.

BIAS_HIDDEN, BIAS_INPUT, BIAS_BATCH, BIAS_LENGTH = 32, 8, 8, 150


def lstm_bias_curves(forget_bias, input_bias, length=BIAS_LENGTH, seed=0):
    """Cell state and cell-path gradient of a random LSTM whose forget- and input-gate biases are set.

    Weights drawn as ``torch.nn.LSTM`` does (``D = BIAS_INPUT``, ``H = BIAS_HIDDEN``) from ``seed``; then
    the f block of ``b_ih`` is set to ``forget_bias`` and the i block to ``input_bias``, with the same
    blocks of ``b_hh`` zero. Inputs ``xs (length, BIAS_BATCH, D) ~ N(0, 1)``, ``h0 = c0 = 0``.

    Returns a dict: ``"c_rms" (length,)``, the root mean square of ``c_t`` over units and batch for
    t = 1..length; ``"cell_path" (length,)`` indexed by lag k, the root mean square of
    ``dc_T/dc_{T-k}`` along the cell path alone, i.e. of the product of ``f`` over the last k steps
    (1 at k = 0); ``"f_mean"`` and ``"i_mean"``, the mean forget and input gates.
    """
    from rnnlib.analysis import lstm_gates
    from rnnlib.core import lstm

    for name, value in (("forget_bias", forget_bias), ("input_bias", input_bias)):
        if not np.isfinite(value):
            raise ValueError(f"{name}: expected a finite number, got {value!r}")
    if not isinstance(length, (int, np.integer)) or length < 2:
        raise ValueError(f"length: expected an integer >= 2, got {length!r}")
    rng = np.random.default_rng(seed)
    W_ih, W_hh, b_ih, b_hh = lstm.init_weights(BIAS_INPUT, BIAS_HIDDEN, rng)
    H = BIAS_HIDDEN
    b_ih[:H], b_ih[H:2 * H], b_hh[:2 * H] = input_bias, forget_bias, 0.0
    xs = rng.standard_normal((length, BIAS_BATCH, BIAS_INPUT))
    zeros = np.zeros((BIAS_BATCH, H))
    run = lstm_gates.sequence_gates(xs, zeros, zeros, W_ih, W_hh, b_ih, b_hh)
    products = np.cumprod(run["f"][::-1], axis=0)  # products[j]: f over the last j + 1 steps
    cell_path = np.concatenate([[1.0], np.sqrt(np.mean(products[:-1] ** 2, axis=(1, 2)))])
    return {"c_rms": np.sqrt(np.mean(run["c"] ** 2, axis=(1, 2))), "cell_path": cell_path,
            "f_mean": float(run["f"].mean()), "i_mean": float(run["i"].mean())}


def _draw_bias(axes, curves, label, **style):
    """Add ``curves`` (from ``lstm_bias_curves``) to the cell-state and cell-path axes; return the lines."""
    c_ax, path_ax = axes
    steps = np.arange(1, len(curves["c_rms"]) + 1)
    first = c_ax.plot(steps, curves["c_rms"], label=label, **style)[0]
    path = np.where(curves["cell_path"] > 0, curves["cell_path"], np.nan)
    second = path_ax.semilogy(np.arange(len(path)), path, label=label, **style)[0]
    c_ax.set_xlabel("time step $t$")
    c_ax.set_ylabel("RMS of $c_t$ over units")
    path_ax.set_xlabel("lag $k$ (steps back from $T$)")
    path_ax.set_ylabel(r"RMS of $\partial c_T / \partial c_{T-k}$ (cell path)")
    for ax in axes:
        ax.grid(True, which="major", alpha=0.3)
    return first, second


def lstm_bias_grid(forget_biases=(0.0, 1.0, 3.0), input_biases=(-2.0, 0.0, 2.0), length=BIAS_LENGTH, seed=0):
    """The static stand-in for ``LstmBiasExplorer``: one column per forget bias, the cell state on top
    and the cell-path gradient below, one line per input bias. Returns the ``Figure``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.8 * len(forget_biases), 6.0), layout="constrained")
    axes = fig.subplots(2, len(forget_biases), squeeze=False, sharey="row")
    for column, b_f in enumerate(forget_biases):
        for b_i in input_biases:
            curves = lstm_bias_curves(b_f, b_i, length, seed)
            _draw_bias(axes[:, column], curves, f"input bias {b_i:g}")
        axes[0, column].set_title(f"forget bias {b_f:g}: mean f = {curves['f_mean']:.2f}")
        axes[0, column].legend(frameon=False, fontsize=8)
    for ax in axes[:, 1:].ravel():
        ax.set_ylabel("")
    return fig


class LstmBiasExplorer:
    """Sliders for the forget-gate and input-gate biases of a random LSTM (``lstm_bias_curves``); every
    change redraws its cell state over time and the gradient along its cell path against the lag,
    next to the reference setting (both biases 0) in grey.

    ``explorer.widget`` is what a notebook displays; ``explorer.forget`` and ``explorer.input`` are the
    sliders (setting their ``value`` in code has the same effect as moving them); ``explorer.lines`` are
    the two plotted curves and ``explorer.curves`` the numbers behind them.
    """

    def __init__(self, forget_bias=0.0, input_bias=0.0, length=BIAS_LENGTH, seed=0):
        import ipywidgets as w
        from matplotlib.figure import Figure

        self.length, self.seed = length, seed
        self.forget = w.FloatSlider(value=forget_bias, min=-3.0, max=6.0, step=0.25, description="forget bias")
        self.input = w.FloatSlider(value=input_bias, min=-4.0, max=4.0, step=0.25, description="input bias")
        self.figure = Figure(figsize=(10, 3.6), layout="constrained")
        self.axes = self.figure.subplots(1, 2)
        reference = lstm_bias_curves(0.0, 0.0, length, seed)
        _draw_bias(self.axes, reference, "both biases 0", color="grey", ls="--")
        self.lines = _draw_bias(self.axes, reference, "sliders", color="tab:blue")
        self.axes[0].legend(frameon=False, loc="upper left")
        self.output = w.Output()
        for control in (self.forget, self.input):
            control.observe(self.redraw, names="value")
        self.widget = w.VBox([w.HBox([self.forget, self.input]), self.output])
        self.redraw()

    def redraw(self, change=None):
        """Recompute the curves for the sliders' current values and show the figure again."""
        self.curves = lstm_bias_curves(self.forget.value, self.input.value, self.length, self.seed)
        c_line, path_line = self.lines
        c_line.set_ydata(self.curves["c_rms"])
        path_line.set_ydata(np.where(self.curves["cell_path"] > 0, self.curves["cell_path"], np.nan))
        for ax in self.axes:
            ax.relim()
            ax.autoscale_view()
        self.axes[0].set_title(f"mean f = {self.curves['f_mean']:.2f}, mean i = {self.curves['i_mean']:.2f}")
        self.axes[1].set_title(f"after {self.length - 1} steps: {self.curves['cell_path'][-1]:.1e}")
        self.output.clear_output(wait=True)
        with self.output:
            from IPython.display import display

            display(self.figure)


# The build-time form of an explorer: every frame drawn once, chosen in the browser without a kernel.

FRAMES_CLASS = "rnn-frames"  # the container's CSS class; the browser check looks for it


def frame_class(*labels):
    """The CSS class of the frame for the control labels ``labels``, e.g. ``frame--s-1.5--tanh``."""
    slug = "--".join("".join(ch if ch.isalnum() or ch in ".-" else "-" for ch in str(label)) for label in labels)
    return f"frame--{slug}"


def _label(value):
    """How a control shows ``value``: floats without trailing zeros (1.0 -> "1")."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _png(figure, dpi=72):
    """``figure`` as PNG bytes (small: a page holds every frame)."""
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def frames(draw, slider, buttons=None, value=None, button=None, alt=None):
    """Every frame of ``draw`` for a grid of parameter values, picked by controls linked in the browser.

    ``draw(slider_value)`` or, with ``buttons``, ``draw(slider_value, button_value)`` returns a
    ``matplotlib.figure.Figure``, and ``alt`` with the same arguments its alt text (a string).
    ``slider = (description, values)`` and ``buttons = (description, options)``. Each frame is a PNG
    image with its alt text (an ``HTML`` widget) in a ``Stack`` (one per button, in an outer ``Stack``);
    ``jslink`` ties the slider's index and the buttons' index to the stacks' ``selected_index``, so the
    page responds in a browser with no kernel (myst-nb embeds the widget state in the static page).
    ``value`` and ``button`` are the frame shown first. Returns the ``VBox``; its ``frames`` attribute
    maps ``(slider_value, button_value)`` to the frame's widget (``button_value`` None without buttons),
    and ``links`` holds the browser-side links.
    """
    import base64
    import html

    import ipywidgets as w

    (name, values), options = slider, (buttons[1] if buttons else [None])
    values, options = list(values), list(options)
    if len(values) < 2:
        raise ValueError(f"slider: expected (description, at least two values), got {slider!r}")
    picker = w.SelectionSlider(options=[(_label(v), v) for v in values],
                               value=values[0] if value is None else value, description=name,
                               continuous_update=True)
    images, stacks, links = {}, [], []
    for option in options:
        column = []
        for v in values:
            args = (v,) if buttons is None else (v, option)
            text = html.escape(alt(*args) if alt else f"{name} = {v}", quote=True)
            data = base64.b64encode(_png(draw(*args))).decode()
            image = w.HTML(f'<img alt="{text}" src="data:image/png;base64,{data}">')
            image.add_class(frame_class(*map(_label, args)))
            images[v, option] = image
            column.append(image)
        stacks.append(w.Stack(column, selected_index=picker.index))
        links.append(w.jslink((picker, "index"), (stacks[-1], "selected_index")))
    controls = [picker]
    if buttons is not None:
        toggle = w.ToggleButtons(options=[(_label(o), o) for o in options],
                                 value=options[0] if button is None else button,
                                 description=buttons[0])
        outer = w.Stack(stacks, selected_index=toggle.index)
        links.append(w.jslink((toggle, "index"), (outer, "selected_index")))
        controls.append(toggle)
    else:
        outer = stacks[0]
    box = w.VBox([*controls, outer])
    box.add_class(FRAMES_CLASS)
    box.frames, box.links = images, links
    return box


DECAY_FRAME_SCALES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 2.0, 3.0)


def decay_frames(scales=DECAY_FRAME_SCALES, activations=decay.ACTIVATIONS, length=100, seed=0):
    """``DecayExplorer`` in the static book: the decay curve for each scale and activation."""
    from matplotlib.figure import Figure

    def draw(scale, activation):
        fig = Figure(figsize=(6.5, 3.4))  # a fixed layout: a constrained one doubles the drawing time
        fig.subplots_adjust(left=0.13, right=0.97, bottom=0.14, top=0.9)
        ax = fig.subplots()
        norms = decay_curve(scale, length, activation, seed)
        _draw_decay(ax, {"measured": norms})
        lags = np.arange(length)
        with np.errstate(over="ignore"):
            ax.semilogy(lags, float(scale) ** lags, "--", color="grey", label="$s^k$")
        ax.set_ylim(1e-30, 1e30)
        ax.set_title(f"{activation}, s = {scale:g}, T = {length}: fitted x{_fitted_rate(norms):.3f} per step")
        ax.legend(frameon=False, loc="lower left")
        return fig

    def alt(scale, activation):
        return (f"Relative gradient norm against lag k on a log axis for a {activation} RNN with W_hh = "
                f"{scale:g} x orthogonal and T = {length}, with the dashed line s^k for comparison.")

    return frames(draw, ("scale s", scales), ("activation", activations), value=1.0, button="tanh", alt=alt)


# Chapter 5: how far back the gradient reaches in an RNN, an LSTM and a GRU as one gate bias moves.

GATED_HIDDEN, GATED_INPUT, GATED_BATCH, GATED_LENGTH = 32, 8, 8, 120
GATED_BIASES = (-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0)


def gated_decay_curves(bias, length=GATED_LENGTH, seed=0):
    """Gradient norm against lag, relative to lag 0, for three random cells on the same inputs.

    Weights drawn as torch does (``D = GATED_INPUT``, ``H = GATED_HIDDEN``) from ``seed``; the LSTM's
    forget-gate block of ``b_ih`` and the GRU's update-gate block (rows ``H:2H`` in both of torch's
    orders, i f g o and r z n) are set to ``bias``, the same blocks of ``b_hh`` to 0; the tanh RNN has no
    gate and is the reference. Inputs ``xs (length, GATED_BATCH, D) ~ N(0, 1)``, zero initial states,
    a random ``dh_last``. Returns ``{"RNN": norms, "LSTM": norms, "GRU": norms}``, each ``(length,)``.
    """
    from rnnlib.core import gru, lstm

    if not np.isfinite(bias):
        raise ValueError(f"bias: expected a finite number, got {bias!r}")
    rng = np.random.default_rng(seed)
    H = GATED_HIDDEN
    xs = rng.standard_normal((length, GATED_BATCH, GATED_INPUT))
    zeros, dh_last = np.zeros((GATED_BATCH, H)), rng.standard_normal((GATED_BATCH, H))
    curves = {}
    for name, module in (("RNN", rnn), ("LSTM", lstm), ("GRU", gru)):
        W_ih, W_hh, b_ih, b_hh = module.init_weights(GATED_INPUT, H, rng)
        if module is not rnn:
            b_ih[H:2 * H], b_hh[H:2 * H] = bias, 0.0
        extra = {"c0": zeros} if module is lstm else {}
        norms = decay.gradient_norms_by_lag(module, xs, zeros, W_ih, W_hh, b_ih, b_hh, dh_last, **extra)
        curves[name] = norms / norms[0]
    return curves


def gated_decay_frames(biases=GATED_BIASES, length=GATED_LENGTH, seed=0):
    """The three curves of ``gated_decay_curves`` for each bias, chosen by a slider in the browser."""
    from matplotlib.figure import Figure

    def draw(bias):
        fig = Figure(figsize=(6.5, 3.4))
        fig.subplots_adjust(left=0.13, right=0.97, bottom=0.14, top=0.9)
        ax = fig.subplots()
        curves = gated_decay_curves(bias, length, seed)
        _draw_decay(ax, {f"{name}: x{_fitted_rate(norms):.2f}/step": norms for name, norms in curves.items()})
        ax.set_ylim(1e-30, 10.0)
        ax.set_title(f"forget-gate bias (LSTM) = update-gate bias (GRU) = {bias:g}")
        ax.legend(frameon=False, loc="lower left")
        return fig

    def alt(bias):
        return (f"Relative gradient norm against lag on a log axis for a tanh RNN, an LSTM with forget-gate "
                f"bias {bias:g} and a GRU with update-gate bias {bias:g}, T = {length}.")

    return frames(draw, ("gate bias", biases), value=0.0, alt=alt)


def lstm_bias_frames(forget_biases=(-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0), input_biases=(-2.0, 0.0, 2.0),
                     length=BIAS_LENGTH, seed=0):
    """``LstmBiasExplorer`` in the static book: a slider for the forget bias, buttons for the input bias."""
    from matplotlib.figure import Figure

    reference = lstm_bias_curves(0.0, 0.0, length, seed)

    def draw(forget_bias, input_bias):
        fig = Figure(figsize=(9.0, 3.2))
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.88, wspace=0.3)
        axes = fig.subplots(1, 2)
        curves = lstm_bias_curves(forget_bias, input_bias, length, seed)
        _draw_bias(axes, reference, "both biases 0", color="grey", ls="--")
        _draw_bias(axes, curves, f"forget {forget_bias:g}, input {input_bias:g}", color="tab:blue")
        axes[1].set_ylim(1e-40, 2.0)
        axes[0].set_title(f"mean f = {curves['f_mean']:.2f}, mean i = {curves['i_mean']:.2f}")
        axes[1].set_title(f"after {length - 1} steps: {curves['cell_path'][-1]:.1e}")
        axes[0].legend(frameon=False, loc="upper left", fontsize=8)
        return fig

    def alt(forget_bias, input_bias):
        return (f"Left, the RMS of the cell state over {length} steps; right, the cell-path gradient against "
                f"lag on a log axis; for forget bias {forget_bias:g} and input bias {input_bias:g}, with "
                f"both biases 0 dashed for reference.")

    return frames(draw, ("forget bias", forget_biases), ("input bias", input_biases), value=0.0, button=0.0,
                  alt=alt)
