"""Qmax read from the termination ripples (science/termination.py): right where it
answers, silent where it cannot see the step (docs/WARNINGS.md,
scripts/measure_qmax_estimate.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.science.clusters import build_cluster
from deepstruc_gui.science.debye import simulate_pdf
from deepstruc_gui.science.parameters import TRAINING_PARAMETERS
from deepstruc_gui.science.pdf_io import read_pdf
from deepstruc_gui.science.termination import estimate_qmax

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FCC = build_cluster("fcc", {"h": 3, "k": 4, "l": 4}, 2.77)


@pytest.mark.parametrize("qmax", [14.0, 19.0, 26.0, 30.0])
def test_qmax_of_simulated_pdfs_within_5_percent(qmax: float) -> None:
    r, g = simulate_pdf(FCC, TRAINING_PARAMETERS.replace(qmax=qmax))
    estimate = estimate_qmax(r, g)
    assert estimate is not None
    assert abs(estimate.qmax / qmax - 1) < 0.05, estimate


def test_no_answer_where_the_step_is_hidden() -> None:
    """White noise fills every Q; a Debye–Waller fall is a knee, not a step."""
    r, g = simulate_pdf(FCC, TRAINING_PARAMETERS.replace(qmax=22.0))
    noisy = g + 0.02 * np.abs(g).max() * np.random.default_rng(0).standard_normal(g.size)
    assert estimate_qmax(r, noisy) is None
    r, g = simulate_pdf(FCC, TRAINING_PARAMETERS.replace(qmax=25.0, biso=2.5))
    assert estimate_qmax(r, g) is None


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared data not present")
@pytest.mark.parametrize(
    "name",
    ["experimental/JQ_S1.gr", "experimental/Au144PET_100K-00000.gr", "field-cases/pt_oct11.gr"],
)
def test_files_qmax_agrees_with_their_header(name: str) -> None:
    data = read_pdf(SHARED / name)
    estimate = estimate_qmax(data.r, data.g)
    assert estimate is not None
    assert abs(estimate.qmax / data.metadata["qmax"] - 1) < 0.05, estimate


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared data not present")
def test_high_adp_field_case_gets_no_answer() -> None:
    data = read_pdf(SHARED / "field-cases" / "pt_oct5_biso2.5.gr")
    assert estimate_qmax(data.r, data.g) is None
