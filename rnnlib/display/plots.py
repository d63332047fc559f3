"""Small plotting helpers shared by the lessons.

Every function draws on the matplotlib axes ``ax`` it is given (or on a new figure when ``ax`` is None)
and returns those axes, so a lesson can combine several panels in one figure. matplotlib is imported
only here, and only when a function is called, so ``import rnnlib`` does not need it.

Array shapes follow the rest of rnnlib: time-major, ``hs (T, N, H)`` or one sequence ``(T, H)``.
"""

import numpy as np


def _axes(ax, figsize):
    """Return ``ax``, or the axes of a new figure of size ``figsize`` when ``ax`` is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _one_sequence(hs, sample):
    """``hs (T, H)`` or ``hs (T, N, H)`` -> the ``(T, H)`` states of batch element ``sample``."""
    hs = np.asarray(hs, dtype=np.float64)
    if hs.ndim == 3:
        return hs[:, sample, :]
    if hs.ndim == 2:
        return hs
    raise ValueError(f"hs: expected shape (T, H) or (T, N, H), got {hs.shape}")


def plot_hidden_states(hs, ax=None, title=None, sample=0, vmax=1.0, colorbar=True, start=1):
    """Heat map of hidden states: one row per unit, one column per time step.

    ``hs`` is ``(T, H)`` or ``(T, N, H)`` (then batch element ``sample`` is drawn). Colours run from
    ``-vmax`` (blue) through 0 (white) to ``+vmax`` (red); with tanh units ``vmax=1`` is the full range.
    Columns are labelled ``start, ..., start + T - 1`` (the lessons write the first state as ``h_1``).
    Returns the axes.
    """
    states = _one_sequence(hs, sample)
    T, H = states.shape
    ax = _axes(ax, (6, 3))
    image = ax.imshow(states.T, aspect="auto", origin="lower", cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                      interpolation="nearest", extent=(start - 0.5, start + T - 0.5, -0.5, H - 0.5))
    ax.set_xlabel("time step $t$")
    ax.set_ylabel("hidden unit")
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="$h_t$")
    return ax


def plot_state_norms(norms, ax=None, title=None, start=1):
    """Line plot, log scale, of the norm of the state against time for several runs.

    ``norms`` maps a label to an array of shape ``(T,)`` (for example ``np.linalg.norm(hs[:, 0], axis=1)``).
    Exact zeros have no place on a log axis and are left out of the line. Time steps are numbered from
    ``start``. Returns the axes.
    """
    ax = _axes(ax, (6, 3))
    for label, values in norms.items():
        values = np.asarray(values, dtype=np.float64)
        values = np.where(values > 0, values, np.nan)
        ax.semilogy(start + np.arange(len(values)), values, marker=".", label=label)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel(r"$\|h_t\|$")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return ax


def plot_state_traces(traces, labels, ax=None, title=None, max_lines=40, start=1):
    """Trajectories of a one-unit state over time, coloured by a binary label.

    ``traces`` is ``(T, N)`` (one column per sequence), ``labels`` is ``(N,)`` with values -1 or +1
    (red for +1, blue for -1). At most ``max_lines`` sequences are drawn; time steps are numbered from
    ``start``. Returns the axes.
    """
    traces = np.asarray(traces, dtype=np.float64)
    labels = np.asarray(labels)
    if traces.ndim != 2 or labels.shape != (traces.shape[1],):
        raise ValueError(f"traces, labels: expected shapes (T, N) and (N,), got {traces.shape} and {labels.shape}")
    ax = _axes(ax, (6, 3))
    steps = start + np.arange(len(traces))
    for n in range(min(max_lines, traces.shape[1])):
        ax.plot(steps, traces[:, n], color="tab:red" if labels[n] > 0 else "tab:blue", alpha=0.5, lw=1)
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel("$h_t$")
    if title:
        ax.set_title(title)
    return ax


def plot_sensitivity(sensitivity, ax=None, title=None, floor=1e-16, start=1):
    """How strongly the last output depends on the input at each time step, on a log scale.

    ``sensitivity`` is ``(T,)``, for example the norm of the gradient of the final output with respect
    to each ``x_t``. Exact zeros (the model cannot see that step at all) are drawn as grey crosses on the
    bottom edge; non-zero values as a stem. Time steps are numbered from ``start``. Returns the axes.
    """
    sensitivity = np.abs(np.asarray(sensitivity, dtype=np.float64))
    if sensitivity.ndim != 1:
        raise ValueError(f"sensitivity: expected shape (T,), got {sensitivity.shape}")
    ax = _axes(ax, (6, 2.5))
    steps = start + np.arange(len(sensitivity))
    seen = sensitivity > 0
    ax.vlines(steps[seen], floor, sensitivity[seen], color="tab:blue", lw=2)
    ax.plot(steps[seen], sensitivity[seen], "o", color="tab:blue", ms=3, label="depends on $x_t$")
    ax.plot(steps[~seen], np.full((~seen).sum(), floor), "x", color="grey", ms=5, label="exactly 0: not seen")
    ax.set_yscale("log")
    ax.set_ylim(floor / 3, max(1.0, float(sensitivity.max()) * 3))
    ax.set_xlim(start - 1, start + len(sensitivity))
    ax.set_xlabel("input time step $t$")
    if title:
        ax.set_title(title)
    return ax


def plot_unrolled(steps=4, ax=None):
    """Diagram of a recurrent layer folded (left) and unrolled over ``steps`` time steps (right).

    Every unrolled step uses the same ``W_ih``, ``W_hh`` and biases; the arrows are labelled to show it.
    Returns the axes.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    ax = _axes(ax, (2.2 + 1.8 * steps, 2.8))

    def box(x, y, text, colour):
        ax.add_patch(FancyBboxPatch((x - 0.32, y - 0.22), 0.64, 0.44, boxstyle="round,pad=0.04",
                                    facecolor=colour, edgecolor="black", lw=1))
        ax.text(x, y, text, ha="center", va="center", fontsize=12)

    def arrow(start, end, text=None, offset=(0.0, 0.0), **kw):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, lw=1.2, color="black", **kw))
        if text:
            mid = ((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1])
            ax.text(*mid, text, ha="center", va="center", fontsize=9, color="tab:purple")

    # Folded view: one cell whose output feeds back into itself after a delay of one step.
    box(0.0, 0.0, "$x_t$", "#dceefb")
    box(0.0, 1.2, "$h_t$", "#fde2c8")
    arrow((0.0, 0.25), (0.0, 0.95), "$W_{ih}$", offset=(-0.32, 0.0))
    arrow((0.3, 1.35), (0.3, 1.05), connectionstyle="arc3,rad=-2.2")
    ax.text(0.85, 1.2, "$W_{hh}$", fontsize=9, color="tab:purple", va="center")
    ax.text(1.5, 0.6, "=", fontsize=20, ha="center", va="center")

    # Unrolled view: the same weights at every step.
    x0, h0 = 3.8, 2.3
    box(h0, 1.2, "$h_{0}$", "#eeeeee")
    for k in range(steps):
        x = x0 + 1.6 * k
        box(x, 0.0, f"$x_{{{k + 1}}}$", "#dceefb")
        box(x, 1.2, f"$h_{{{k + 1}}}$", "#fde2c8")
        arrow((x, 0.25), (x, 0.95), "$W_{ih}$", offset=(-0.3, 0.0))
        left = h0 if k == 0 else x - 1.6
        arrow((left + 0.36, 1.2), (x - 0.36, 1.2), "$W_{hh}$", offset=(0.0, 0.2))
    ax.text(x0 + 1.6 * (steps - 1) + 0.55, 1.2, r"$\cdots$", fontsize=14, va="center")
    ax.set_xlim(-0.6, x0 + 1.6 * (steps - 1) + 0.9)
    ax.set_ylim(-0.45, 1.85)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def plot_unit_heatmap(values, ax=None, title=None, label=None, vmin=0.0, vmax=1.0, cmap="viridis", sample=0,
                      start=1, colorbar=True):
    """Heat map of any per-unit quantity over time (a gate's activations, a cell state): one row per
    unit, one column per time step.

    ``values`` is ``(T, H)`` or ``(T, N, H)`` (then batch element ``sample`` is drawn); colours span
    ``[vmin, vmax]`` with ``cmap`` and the colour bar is labelled ``label``. Columns are numbered from
    ``start``. Returns the axes.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim not in (2, 3):
        raise ValueError(f"values: expected shape (T, H) or (T, N, H), got {values.shape}")
    states = values[:, sample, :] if values.ndim == 3 else values
    T, H = states.shape
    ax = _axes(ax, (6, 2.5))
    image = ax.imshow(states.T, aspect="auto", origin="lower", cmap=cmap, vmin=vmin, vmax=vmax,
                      interpolation="nearest", extent=(start - 0.5, start + T - 0.5, -0.5, H - 0.5))
    ax.set_xlabel("time step $t$")
    ax.set_ylabel("unit")
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=label, pad=0.01)
    return ax


def plot_norms_by_lag(norms, ax=None, title=None, rates=None, styles=None):
    """Gradient norm against time lag on a log scale, one line per run (chapter 3's decay curves).

    ``norms`` maps a label to an array ``(T,)`` indexed by lag, as ``decay.gradient_norms_by_lag``
    returns it; ``rates`` optionally maps the same labels to a fitted per-step factor, shown in the
    legend as ``x0.59/step``; ``styles`` optionally maps labels to keyword arguments of ``ax.semilogy``
    (for example ``{"ls": "--"}`` for a bound). Zeros and non-finite values are left out of the line.
    Returns the axes.
    """
    ax = _axes(ax, (6, 3.5))
    for label, values in norms.items():
        values = np.asarray(values, dtype=np.float64)
        values = np.where(np.isfinite(values) & (values > 0), values, np.nan)
        text = label if rates is None or label not in rates else f"{label}: x{rates[label]:.2f}/step"
        ax.semilogy(np.arange(len(values)), values, label=text, **(styles or {}).get(label, {}))
    ax.set_xlabel("lag $k$ (steps back from the loss)")
    ax.set_ylabel(r"$\|\partial L / \partial h_{T-k}\|$")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def _pattern_box(ax, x, y, text, colour):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - 0.3, y - 0.2), 0.6, 0.4, boxstyle="round,pad=0.04", facecolor=colour,
                                edgecolor="black", lw=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def _pattern_arrow(ax, start, end, colour="black", text=None):
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, lw=1.1, color=colour))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.18, text, ha="center", fontsize=9,
                color=colour)


def _pattern_chain(ax, x0, inputs, states, outputs, state_colour="#fde2c8"):
    """One recurrent chain: input boxes (row 0), state boxes (row 1), output boxes (row 2) where given."""
    for k, (x_text, h_text, y_text) in enumerate(zip(inputs, states, outputs)):
        x = x0 + 1.0 * k
        _pattern_box(ax, x, 0.0, x_text, "#dceefb")
        _pattern_box(ax, x, 1.1, h_text, state_colour)
        _pattern_arrow(ax, (x, 0.22), (x, 0.88))
        if k:
            _pattern_arrow(ax, (x - 0.68, 1.1), (x - 0.32, 1.1))
        if y_text:
            _pattern_box(ax, x, 2.2, y_text, "#d9f2d0")
            _pattern_arrow(ax, (x, 1.32), (x, 1.98))


def plot_io_patterns(axes=None):
    """Three ways to read outputs off a recurrent layer, drawn side by side.

    Many-to-one (one output from the last state), many-to-many (an output at every step) and
    encoder-decoder (an encoder reads the input, its last state starts a decoder that writes an output
    sequence of another length, each step reading the previous output). Inputs are blue, states orange
    (decoder states purple), outputs green. ``axes`` is a sequence of three matplotlib axes, or None for
    a new figure. Returns the three axes.
    """
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 3, figsize=(13, 3.1), layout="constrained",
                               gridspec_kw={"width_ratios": [4, 4, 6.5]})
    axes = list(axes)
    if len(axes) != 3:
        raise ValueError(f"axes: expected 3 axes, got {len(axes)}")
    steps = [f"$x_{k}$" for k in (1, 2, 3, 4)]
    states = [f"$h_{k}$" for k in (1, 2, 3, 4)]
    _pattern_chain(axes[0], 0.0, steps, states, [None, None, None, "$y$"])
    axes[0].set_title("many-to-one: one output per sequence")
    _pattern_chain(axes[1], 0.0, steps, states, [f"$y_{k}$" for k in (1, 2, 3, 4)])
    axes[1].set_title("many-to-many: an output at every step")
    _pattern_chain(axes[2], 0.0, steps[:3], states[:3], [None, None, None])
    _pattern_chain(axes[2], 3.3, ["$y_0$", "$y_1$", "$y_2$", "$y_3$"], [f"$d_{k}$" for k in (1, 2, 3, 4)],
                   [f"$y_{k}$" for k in (1, 2, 3, 4)], state_colour="#e4d7f5")
    _pattern_arrow(axes[2], (2.32, 1.1), (2.98, 1.1), colour="tab:purple", text="$h_3$")
    axes[2].set_title("encoder-decoder: the encoder's last state starts the decoder")
    for ax, width in zip(axes, (4, 4, 7.3)):
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(-0.35, 2.55)
        ax.set_aspect("equal")
        ax.axis("off")
    return axes


def plot_lstm_cell(ax=None):
    """Diagram of one LSTM step with the four blocks drawn left to right in rnnlib.core.lstm's order i, f, g, o.

    ``x_t`` and ``h_{t-1}`` feed the blocks of pre-activations
    ``a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh``; the cell state runs along the top line,
    ``c_t = f * c_{t-1} + i * g``, and the output is ``h_t = o * tanh(c_t)``. The line from ``i`` to the
    product ``i * g`` passes over the line of ``f`` (a gap marks the crossing). Returns the axes.
    """
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

    ax = _axes(ax, (9, 4.6))

    def arrow(points, halo=False):
        if halo:  # a white band under the line hides the lines it crosses
            ax.plot(*zip(*points[1:]), color="white", lw=7, solid_capstyle="butt", zorder=2)
        for start, end in zip(points[:-2], points[1:-1]):
            ax.plot(*zip(start, end), color="black", lw=1.3, solid_capstyle="round", zorder=2)
        ax.add_patch(FancyArrowPatch(points[-2], points[-1], arrowstyle="-|>", mutation_scale=13,
                                     color="black", lw=1.3, shrinkA=0, shrinkB=0, zorder=2))

    def block(x, y, text, colour):
        ax.add_patch(FancyBboxPatch((x - 0.55, y - 0.26), 1.1, 0.52, boxstyle="round,pad=0.03",
                                    facecolor=colour, edgecolor="black", lw=1, zorder=3))
        ax.text(x, y, text, ha="center", va="center", fontsize=10, zorder=4)

    def node(x, y, symbol):
        ax.add_patch(Circle((x, y), 0.2, facecolor="white", edgecolor="black", lw=1.2, zorder=3))
        ax.text(x, y, symbol, ha="center", va="center", fontsize=12, zorder=4)

    def label(x, y, text, colour):
        ax.text(x, y, text, ha="center", va="center", fontsize=12, zorder=4,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": colour, "edgecolor": "black", "lw": 0.8})

    top, bus, gates_y, mid = 3.4, 0.3, 1.35, 2.4
    xi, xf, xg, xo, xt = 2.0, 3.3, 4.6, 6.0, 7.4
    # the cell path: c_{t-1} -> (x f) -> (+ i g) -> c_t
    label(0.0, top, "$c_{t-1}$", "#d6f0d6")
    label(9.2, top, "$c_t$", "#d6f0d6")
    arrow([(0.45, top), (xf - 0.2, top)])
    arrow([(xf + 0.2, top), (xg - 0.2, top)])
    arrow([(xg + 0.2, top), (8.75, top)])
    node(xf, top, r"$\times$")
    node(xg, top, "+")
    # inputs: h_{t-1} and x_t join one bus that feeds all four blocks
    label(0.0, bus, "$h_{t-1}$", "#fde2c8")
    label(1.0, -0.75, "$x_t$", "#dceefb")
    ax.plot([0.5, xo], [bus, bus], color="black", lw=1.3)
    ax.plot([1.0, 1.0], [-0.48, bus], color="black", lw=1.3)
    for x in (xi, xf, xg, xo):
        arrow([(x, bus), (x, gates_y - 0.3)])
    block(xi, gates_y, r"$i = \sigma(a_i)$", "#f6d5d5")
    block(xf, gates_y, r"$f = \sigma(a_f)$", "#f6d5d5")
    block(xg, gates_y, r"$g = \tanh(a_g)$", "#fff2b3")
    block(xo, gates_y, r"$o = \sigma(a_o)$", "#f6d5d5")
    # f multiplies the old cell state; i times g is added to it (i's line passes over f's)
    arrow([(xf, gates_y + 0.3), (xf, top - 0.22)])
    node(xg, mid, r"$\times$")
    arrow([(xg, gates_y + 0.3), (xg, mid - 0.22)])
    arrow([(xi, gates_y + 0.3), (xi, mid), (xg - 0.22, mid)], halo=True)
    arrow([(xg, mid + 0.22), (xg, top - 0.22)])
    # output: h_t = o * tanh(c_t)
    ax.add_patch(FancyBboxPatch((xt - 0.33, mid - 0.2), 0.66, 0.4, boxstyle="round,pad=0.03",
                                facecolor="#fff2b3", edgecolor="black", lw=1, zorder=3))
    ax.text(xt, mid, "tanh", ha="center", va="center", fontsize=10, zorder=4)
    arrow([(xt, top), (xt, mid + 0.22)])
    node(xt, gates_y, r"$\times$")
    arrow([(xt, mid - 0.22), (xt, gates_y + 0.22)])
    arrow([(xo + 0.58, gates_y), (xt - 0.22, gates_y)])
    arrow([(xt, gates_y - 0.22), (xt, bus), (8.75, bus)])
    label(9.2, bus, "$h_t$", "#fde2c8")
    ax.text(4.0, -0.75, r"$[a_i, a_f, a_g, a_o] = W_{ih}x_t + b_{ih} + W_{hh}h_{t-1} + b_{hh}$",
            ha="left", va="center", fontsize=10)
    ax.text(-0.5, 2.3, "$c_t = f \\, c_{t-1} + i \\, g$\n$h_t = o \\, \\tanh(c_t)$", fontsize=11,
            va="center")
    ax.set_xlim(-0.6, 9.8)
    ax.set_ylim(-1.15, 3.85)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax
