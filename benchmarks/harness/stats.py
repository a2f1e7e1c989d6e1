"""Figures as the benchmarks print them: median, min and max of the repetitions, paired ratios,
and a header that makes every summary self-contained (machine, load, versions, command).

A ratio is computed per repetition from the subject and the anchor measured in that same
repetition (interleaved), then summarised like any other figure; the two medians it comes
from are printed next to it.
"""

from __future__ import annotations

import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(median, min, max); NaN for no values."""
    clean = [v for v in values if v == v]
    if not clean:
        nan = float("nan")
        return nan, nan, nan
    return statistics.median(clean), min(clean), max(clean)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): a real sample, never an interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def fmt(values: Sequence[float], unit: str = "", scale: float = 1.0, digits: int = 1) -> str:
    """``median [min..max] unit (n=N)``."""
    med, low, high = spread([v * scale for v in values])
    n = sum(1 for v in values if v == v)
    return f"{med:.{digits}f} [{low:.{digits}f}..{high:.{digits}f}]{unit} (n={n})"


def paired_ratios(subject: Sequence[float], anchor: Sequence[float]) -> list[float]:
    return [s / a if a else float("nan") for s, a in zip(subject, anchor, strict=True)]


def ratio_line(label: str, subject: Sequence[float], anchor: Sequence[float], *,
               unit: str = "", scale: float = 1.0, digits: int = 1, goal: str = "") -> str:
    ratios = paired_ratios(subject, anchor)
    med_s = spread([v * scale for v in subject])[0]
    med_a = spread([v * scale for v in anchor])[0]
    target = f"  goal {goal}" if goal else ""
    return (f"{label}: {fmt(ratios, 'x', digits=2)}  from subject "
            f"{med_s:.{digits}f}{unit} / anchor {med_a:.{digits}f}{unit} (medians){target}")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def _commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=5, check=False)
        return out.stdout.strip() or "-"
    except OSError:
        return "-"


def header(title: str, repeat: int | None = None) -> None:
    """Print what a reader needs to judge the figures below without this terminal."""
    load = os.getloadavg()
    print(f"== {title}")
    if repeat is not None and repeat < 5:
        print(f"   ** {repeat} repetition(s): a smoke check, not figures to quote (use >= 5) **")
    print(f"   command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"   when: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}   commit: {_commit()}   "
          f"host: {platform.node()}, {os.cpu_count()} CPUs, load {load[0]:.2f} {load[1]:.2f}")
    print(f"   python {platform.python_version()}, textual {_version('textual')}, "
          f"httpx {_version('httpx')}, pydantic {_version('pydantic')}, pyte {_version('pyte')}")
    print("   figures: median [min..max] over repetitions; ratios are paired per repetition")


def footer() -> None:
    load = os.getloadavg()
    print(f"   load at the end: {load[0]:.2f} {load[1]:.2f} "
          f"(a load above the {os.cpu_count()} CPUs means the figures are noisy)")
