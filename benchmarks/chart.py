"""Bar charts for the benchmark scripts (matplotlib, headless): one PNG per table, next to its JSON."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt


def bar_chart(
    path: Path,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    unit: str,
    highlight: int | None = None,
    reference: float | None = None,
    reference_label: str = "",
) -> Path:
    """Horizontal bars (long engine names read well), each labelled with its value; `highlight` colours one
    bar (the service), `reference` draws a dashed target line."""
    height = 0.6 * len(labels) + 1.9
    fig, ax = plt.subplots(figsize=(9, height), dpi=110)
    colours = ["#e4572e" if i == highlight else "#4c72b0" for i in range(len(labels))]
    bars = ax.barh(list(labels)[::-1], list(values)[::-1], color=colours[::-1])
    ax.bar_label(bars, labels=[f"{v:.3g} {unit}" for v in list(values)[::-1]], padding=3, fontsize=9)
    if reference is not None:
        ax.axvline(reference, color="#555555", linestyle="--", linewidth=1, label=reference_label)
        # below the x label, a fixed ~0.55 inch down whatever the chart's height (a fraction of the axes would
        # leave a tall chart's legend far below it)
        below = -0.55 / max(height - 1.4, 0.5)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, below), fontsize=8, frameon=False)
    ax.set_xlabel(unit)
    ax.set_title(title, fontsize=10)
    ax.set_xlim(0, max([*values, reference or 0]) * 1.25)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
