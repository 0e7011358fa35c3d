"""The model's r grid and resampling measured curves onto it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.science.grid import MODEL_R, to_model_grid
from deepstruc_gui.science.pdf_io import read_pdf


def gaussian(r: np.ndarray, centre: float, width: float = 0.08) -> np.ndarray:
    return np.exp(-(((r - centre) / width) ** 2))


def test_model_r_is_exactly_the_decimal_grid() -> None:
    assert MODEL_R.shape == (2800,)
    assert MODEL_R[0] == 2.0
    assert MODEL_R[-1] == 29.99
    decimal = np.array([float(f"{k // 100}.{k % 100:02d}") for k in range(200, 3000)])
    np.testing.assert_array_equal(MODEL_R, decimal)  # no float drift anywhere
    np.testing.assert_allclose(np.diff(MODEL_R), 0.01, atol=1e-12)


def test_model_r_cannot_be_modified() -> None:
    with pytest.raises(ValueError):
        MODEL_R[0] = 0.0


def test_output_shape_dtype_and_maximum() -> None:
    r = np.linspace(0, 40, 4001)
    x = to_model_grid(r, gaussian(r, 10.0) * 7.3 - 0.5)
    assert x.shape == (2800,)
    assert x.dtype == np.float32
    assert x.max() == 1.0


def test_interpolation_is_linear_in_r() -> None:
    r = np.array([1.0, 31.0])
    x = to_model_grid(r, r)  # G = r: the interpolant is exact
    np.testing.assert_allclose(x, MODEL_R / MODEL_R[-1], rtol=1e-6)


def test_coarse_offset_grid_keeps_the_peak_in_place(tmp_path: Path) -> None:
    """Grid 0.5, 0.53, … (step 0.03): the original DeepStruc shifted such curves."""
    r = 0.5 + 0.03 * np.arange(1000)  # 0.5 … 30.47 Å
    centre = 7.37  # not on the file's grid, on the model's
    g = gaussian(r, centre, width=0.15) + 0.3 * gaussian(r, 12.0, width=0.2)
    path = tmp_path / "step003.gr"
    path.write_text("".join(f"{a:.2f} {b:.8f}\n" for a, b in zip(r, g, strict=True)))
    data = read_pdf(path)
    assert data.r[0] == 0.5
    assert data.r[1] == 0.53
    x = data.model_input()
    assert MODEL_R[np.argmax(x)] == pytest.approx(centre, abs=0.011)
    # the whole curve matches the true one at the model's r, to linear-interpolation error
    truth = gaussian(MODEL_R, centre, width=0.15) + 0.3 * gaussian(MODEL_R, 12.0, width=0.2)
    np.testing.assert_allclose(x, truth / truth.max(), atol=0.03)


def test_different_steps_give_the_same_model_input() -> None:
    fine = np.arange(0, 4000) * 0.01
    coarse = np.arange(0, 1500) * 0.0231 + 0.117
    x_fine = to_model_grid(fine, gaussian(fine, 5.55, 0.3))
    x_coarse = to_model_grid(coarse, gaussian(coarse, 5.55, 0.3))
    np.testing.assert_allclose(x_fine, x_coarse, atol=2e-3)


def test_zero_outside_the_measured_range() -> None:
    r = np.linspace(5.0, 20.0, 1501)
    x = to_model_grid(r, 1.0 + gaussian(r, 10.0))
    assert np.all(x[MODEL_R < 5.0] == 0.0)
    assert np.all(x[MODEL_R > 20.0] == 0.0)
    assert np.all(x[(MODEL_R >= 5.0) & (MODEL_R <= 20.0)] > 0.0)


def test_accepts_lists() -> None:
    x = to_model_grid([2.0, 3.0], [1.0, 3.0])
    assert x[MODEL_R == 3.0][0] == 1.0


@pytest.mark.parametrize(
    ("r", "g", "match"),
    [
        ([2.0, 3.0, 4.0], [-1.0, -2.0, -0.5], "no positive value"),
        ([2.0, 3.0, 4.0], [0.0, 0.0, 0.0], "no positive value"),
        ([2.0, 3.0], [1.0], "differ in length"),
        ([2.0], [1.0], "at least two"),
        ([2.0, 2.0, 3.0], [1.0, 1.0, 1.0], "increasing"),
        ([3.0, 2.0], [1.0, 1.0], "increasing"),
        ([2.0, np.nan], [1.0, 1.0], "finite"),
        ([2.0, 3.0], [1.0, np.inf], "finite"),
        ([0.0, 1.5], [1.0, 1.0], "does not overlap"),
        ([30.0, 40.0], [1.0, 1.0], "does not overlap"),
        ([[2.0, 3.0]], [[1.0, 1.0]], "1-D"),
    ],
)
def test_bad_curves_raise_value_error(r, g, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        to_model_grid(r, g)


def test_positive_only_outside_the_model_range_is_an_error() -> None:
    r = np.linspace(0, 40, 401)
    g = np.where((r < 2.0) | (r > 30.0), 1.0, -1.0)
    with pytest.raises(ValueError, match="maximum"):
        to_model_grid(r, g)
