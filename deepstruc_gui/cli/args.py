"""Argument types that refuse impossible values while parsing.

argparse turns the ``ArgumentTypeError`` they raise into ``deepstruc-gui SUB: error:
argument --NAME: …`` and exit code 2, so every numeric option is checked before any
work starts (and before torch is imported).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def integer(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    """A whole number in [lo, hi] (either end open when None)."""

    def parse(text: str) -> int:
        """The text as an int; raises ``argparse.ArgumentTypeError`` when it is not a whole
        number or lies outside [lo, hi]."""
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        _check(value, lo, hi, text)
        return value

    parse.__name__ = "whole number"
    return parse


def number(
    lo: float | None = None, hi: float | None = None, above: bool = False
) -> Callable[[str], float]:
    """A finite number in [lo, hi] (``above``: strictly greater than ``lo``)."""

    def parse(text: str) -> float:
        """The text as a float; raises ``argparse.ArgumentTypeError`` when it is not a finite
        number or lies outside the allowed range."""
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if above and lo is not None and not value > lo:
            raise argparse.ArgumentTypeError(f"must be above {lo:g}, got {text}")
        _check(value, lo, hi, text)
        return value

    parse.__name__ = "number"
    return parse


def _check(value: float, lo: float | None, hi: float | None, text: str) -> None:
    if lo is not None and value < lo:
        limit = f"between {lo:g} and {hi:g}" if hi is not None else f"at least {lo:g}"
        raise argparse.ArgumentTypeError(f"must be {limit}, got {text}")
    if hi is not None and value > hi:
        limit = f"between {lo:g} and {hi:g}" if lo is not None else f"at most {hi:g}"
        raise argparse.ArgumentTypeError(f"must be {limit}, got {text}")


#: the kinds of option most commands share
def part(text: str) -> tuple[int, int]:
    """``K/N`` (1 ≤ K ≤ N): the K-th of N parts of a job; raises
    ``argparse.ArgumentTypeError`` otherwise."""
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K/N such as 1/2, got {text!r}") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"{text!r}: K must be within 1…N")
    return k, n


part.__name__ = "part"

POSITIVE_INT = integer(1)
SEED = integer(0, 2**32 - 1)
THREADS = integer(1, 1024)
POSITIVE = number(0.0, above=True)


def check_fit_range(rmin: float, rmax: float) -> None:
    """A ``UserError`` (exit 2) naming ``--rmin``/``--rmax`` unless rmin < rmax."""
    from deepstruc_gui.cli.main import UserError

    if not rmin < rmax:
        raise UserError(f"--rmin {rmin:g} must be below --rmax {rmax:g} (Å)")
