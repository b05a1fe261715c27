"""Printing bench figures: nearest-rank percentiles and plain aligned tables."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def pct(values: Sequence[float], q: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], left: int = 1) -> None:
    """Columns padded to their widest cell; the first `left` columns flush left."""
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    print("  " + line(cells[0]))
    print("  " + "  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print("  " + line(row))
