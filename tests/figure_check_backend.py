"""A matplotlib backend for notebook tests: every figure shown must have a title and labelled axes.

The tests start kernels with ``MPLBACKEND=module://tests.figure_check_backend`` and
``FIGURE_CHECK_LOG=<file>``; ``plt.show()`` then records one line per problem in that file
instead of drawing. Rules: a figure has a suptitle or a title on every panel; every panel that
shows its axes has an x and a y label, unless a panel sharing that axis carries it (outer labels
of a grid). Image panels with ``axis("off")`` need only the title; colorbars are exempt.
"""

import atexit
import json
import os

import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas  # noqa: F401 (backend API)

_seen: set[int] = set()


def _label_shared(ax, axis: str) -> bool:
    group = ax.get_shared_x_axes() if axis == "x" else ax.get_shared_y_axes()
    getter = "get_xlabel" if axis == "x" else "get_ylabel"
    return any(getattr(a, getter)() for a in group.get_siblings(ax))


def problems(fig) -> list[str]:
    panels = [ax for ax in fig.axes if not hasattr(ax, "_colorbar") and ax.get_label() != "<colorbar>"
              and (ax.has_data() or ax.images or ax.texts or ax.collections)]
    found = []
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    untitled = [ax for ax in panels if not ax.get_title() and not ax.get_title("left")]
    if not suptitle and untitled:
        found.append(f"{len(untitled)} panel(s) without a title and no suptitle")
    for ax in panels:
        if not ax.axison or ax.name != "rectilinear":
            continue
        name = ax.get_title() or suptitle or "untitled panel"
        if not _label_shared(ax, "x"):
            found.append(f"'{name}': no x-axis label")
        if not _label_shared(ax, "y"):
            found.append(f"'{name}': no y-axis label")
    return found


def _check_open_figures() -> None:
    log = os.environ.get("FIGURE_CHECK_LOG")
    lines = []
    for num in plt.get_fignums():
        fig = plt.figure(num)
        if id(fig) in _seen:
            continue
        _seen.add(id(fig))
        lines += [json.dumps({"figure": num, "problem": p}) for p in problems(fig)]
    if log and lines:
        with open(log, "a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")


def show(*args, **kwargs):
    _check_open_figures()
    plt.close("all")


atexit.register(_check_open_figures)  # figures never shown are checked when the kernel exits
