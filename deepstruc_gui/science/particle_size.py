"""How large is the particle? An estimate of its diameter read from G(r) alone.

A finite particle's G(r) is the bulk G(r) times the particle's characteristic function
("shape function"); for a sphere of diameter D (Guinier & Fournet 1955; used for PDFs
by Kodama, Iikubo, Taguchi & Shamoto, Acta Cryst. A 62, 444 (2006), and by diffpy-cmi's
``sphericalCF``)::

    γ0(r; D) = 1 − 3r/(2D) + r³/(2D³)   for r ≤ D, else 0.

The Q resolution of the instrument damps every peak by ``exp(−(Qdamp·r)²/2)``
(PDFgui's convention). So the *envelope* of the oscillations of G(r) — their local
RMS amplitude in windows a few Å wide, after the slow baseline is removed — is
modelled as::

    a(r)² = (A0 · exp(−(Qdamp·r)²/2) · γ0(r; D))² + c²

with ``c`` the noise floor, and ``A0``, ``D``, ``c`` are fitted by least squares over
5 Å … the end of the data (Qdamp from the header, else the training value; fitting it
too is degenerate with D). Where the
envelope falls into the noise tells D; the curvature of γ0 lets the fit extrapolate
when the particle is longer than the data.

What D means, measured (``tests/test_particle_size.py`` and the report in
docs/WARNINGS.md): for single-crystal fcc particles (octahedra, truncated octahedra,
cuboctahedra, Wulff-like ``FaceCenteredCubic``) of 200–2,300 atoms, simulated with
the training parameters, D is 0.96–1.02 × the diameter of the sphere of equal volume
(``volume_equivalent_diameter``) after the 1/1.07 bias correction below. In multiply
twinned particles (icosahedra, decahedra) the peaks lose their coherence across the
twin boundaries and strained sectors, so the PDF sees a smaller *coherent* size: D
is then a lower bound (0.55–0.8 × the volume-equivalent diameter above 500 atoms).
Two other readings serve them (measured below; ``model.size_diagnosis`` picks one):

* the *twinned envelope*: their envelope decays nearly exponentially, with a decay
  length proportional to the particle's size (decahedra: 0.15–0.17 × D), so the model
  ``A0·exp(−(Qdamp·r)²/2)·exp(−r/(0.25·D))·γ0(r; D)`` reads D for decahedra to
  0.95–1.07 × (``twin_envelope_diameter``), and which of the two models fits better
  (``twin_fit_ratio``) tells single crystals (> 1.25) from decahedra (0.85–1.10) and
  icosahedra (< 0.7);
* the *extent*: icosahedra's G(r) still oscillates, weakly, out to near their size;
  where the envelope, smoothed over 0.02 Å to take out noise finer than the data can
  hold, falls below 1.5 % of the largest |G|, divided by 0.84, is 0.93–1.09 × the
  volume-equivalent diameter for icosahedra of 309–1,415 atoms (``twin_diameter``).

No Qt, no torch: plain numpy/scipy.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.ndimage import gaussian_filter1d, uniform_filter1d
from scipy.optimize import least_squares

from deepstruc_gui.science.pdf_data import checked_curve

__all__ = [
    "SizeEstimate",
    "atoms_in_sphere",
    "estimate_diameter",
    "spherical_shape_function",
    "volume_equivalent_diameter",
]

#: Window of the local RMS amplitude (Å): a few peak spacings.
ENVELOPE_WINDOW = 3.0
#: The envelope fit starts here (Å): below it delta2 sharpens the first peaks.
FIT_RMIN = 5.0
#: Measured ratio of the fitted D to the volume-equivalent diameter for single-crystal
#: fcc particles of 200–2,300 atoms (1.06–1.10; see the module docstring).
BIAS = 1.07
#: Relative systematic uncertainty of D for single-crystal particles (the spread of
#: the measured ratio over shapes, 1.06–1.15 → about ±5 %, doubled for safety).
SYSTEMATIC = 0.10
#: Qdamp (Å⁻¹) assumed when the header gives none: the training value; the fit is
#: repeated at the ends of the usual synchrotron range and the spread added to the error.
DEFAULT_QDAMP = 0.04
_QDAMP_TYPICAL = (0.025, 0.055)
#: The *extent*: the last r where the envelope of G(r), smoothed over EXTENT_SMOOTHING
#: (Å, Gaussian σ: G(r) carries nothing finer than π/Qmax, white noise does), stays above
#: EXTENT_LEVEL × the largest |G|. Measured (scripts/measure_size_warning.py, Pt, training
#: parameters, clean and 2 % noise): extent / volume-equivalent diameter is 0.78–0.92 for
#: icosahedra and 0.55–0.68 for decahedra of 300–2,000 atoms, 0.75–0.86 for single
#: crystals. It serves icosahedron-like envelopes only (``model.size_diagnosis``):
#: TWIN_EXTENT_BIAS is the icosahedra's mean ratio, TWIN_SYSTEMATIC its half-range.
EXTENT_LEVEL = 0.015
EXTENT_SMOOTHING = 0.02
TWIN_EXTENT_BIAS = 0.84
TWIN_SYSTEMATIC = 0.15
#: The *twinned envelope*: multiply twinned particles lose the coherence of their peaks
#: across twin boundaries and strained sectors, and their envelope falls off nearly
#: exponentially (decahedra of 300–1,900 atoms: decay length 0.15–0.17 × their
#: volume-equivalent diameter, measured) instead of following the sphere's γ0. The
#: model ``A0·exp(−(Qdamp·r)²/2)·exp(−r/(TWIN_COHERENCE·D))·γ0(r; D)`` ties the decay
#: length to D, so one parameter fits both where the envelope falls and where it ends.
#: Measured (scripts/measure_size_warning.py, Pt, clean and 2 % noise): D_twin /
#: TWIN_ENVELOPE_BIAS is 0.95–1.07 × the volume-equivalent diameter for Marks and Ino
#: decahedra of 333–1,840 atoms; single crystals fit it worse than the sphere
#: (``twin_fit_ratio``, the ratio of the two fits' residual sums, 1.25–2.6), decahedra
#: about as well (0.85–1.10), icosahedra better (0.50–0.69).
TWIN_COHERENCE = 0.25
TWIN_ENVELOPE_BIAS = 1.26
TWIN_ENVELOPE_SYSTEMATIC = 0.12
_D_BOUNDS = (4.0, 1000.0)


class SizeEstimate(tuple):
    """``(diameter, uncertainty)`` in Å, with the fit's extras as attributes.

    A tuple so ``d, err = estimate_diameter(r, g)`` reads naturally; ``qdamp`` is the
    Q damping used (given, or ``DEFAULT_QDAMP``; ``qdamp_given`` says which),
    ``lowest`` the smallest D over the typical Qdamp range when Qdamp was not given
    (else D: a cautious value to compare against limits),
    ``tail_exponent`` the k of a second fit with an extra factor ``(FIT_RMIN/r)^k``
    (0 for compact single crystals; 0.3–1.5 for plates and rods, whose envelope falls
    like 1/r or 1/r², and for multiply twinned particles; ``tail_exponent_error`` its
    1σ), ``envelope_ratio`` the envelope's largest value beyond 5 Å over the largest
    |G| (0.25–0.35 for compact particles of the library's packings above ~150 atoms,
    0.10 for its flat sheets, whose pairs fall off like 1/r), ``noise`` the fitted noise
    floor relative to the envelope's largest amplitude (``noise_rms``: the same in the
    units of G), ``r_max`` the end of the data (Å), and
    ``extrapolated`` is True when D lies beyond the end of the data (then it rests on
    the shape of the envelope, not on seeing it end). ``extent`` (Å): the last r where
    the smoothed envelope stays above ``EXTENT_LEVEL`` of the largest |G|
    (``extent_at_end``: it reaches the end of the data, a lower bound);
    ``twin_diameter`` ± ``twin_uncertainty`` (Å): the diameter read from the extent
    for an icosahedral particle, whose envelope measures only its coherent domains;
    ``twin_envelope_diameter`` ± ``twin_envelope_uncertainty`` (Å): the diameter of
    the twinned-envelope fit (decahedral particles), and ``twin_fit_ratio`` its
    residual sum over the sphere fit's (single crystals > 1.25, twinned ≲ 1.1).
    """

    def __new__(cls, diameter: float, uncertainty: float, **extra: float | bool):
        obj = super().__new__(cls, (float(diameter), float(uncertainty)))
        obj.__dict__.update(extra)
        return obj

    @property
    def diameter(self) -> float:
        """Diameter D in Å (the first tuple item)."""
        return self[0]

    @property
    def uncertainty(self) -> float:
        """One-σ uncertainty of D in Å (the second tuple item)."""
        return self[1]


def spherical_shape_function(r: ArrayLike, diameter: float) -> np.ndarray:
    """γ0(r; D) of a sphere of diameter D (same units as r); 0 beyond D."""
    x = np.clip(np.asarray(r, dtype=np.float64) / diameter, 0.0, 1.0)
    return 1.0 - 1.5 * x + 0.5 * x**3


def volume_equivalent_diameter(n_atoms: float, bond_length: float) -> float:
    """Diameter (Å) of the sphere holding ``n_atoms`` close-packed atoms.

    Close packing (fcc/hcp) has volume d³/√2 per atom for nearest-neighbour distance
    d, so D = d·(6n/(π√2))^(1/3). Used as the "true" diameter of a simulated cluster
    and to turn the largest training cluster's atom count into a diameter.
    """
    return bond_length * (6.0 * n_atoms / (math.pi * math.sqrt(2.0))) ** (1.0 / 3.0)


def atoms_in_sphere(diameter: float, bond_length: float) -> float:
    """Inverse of :func:`volume_equivalent_diameter`: close-packed atoms in a sphere."""
    return (diameter / bond_length) ** 3 * math.pi * math.sqrt(2.0) / 6.0


def _envelope(r: np.ndarray, g: np.ndarray, window: float) -> np.ndarray:
    """Local RMS of G(r) about its slow baseline, on the (uniform) grid r."""
    step = float(np.median(np.diff(r)))
    n = max(3, round(window / step))
    baseline = uniform_filter1d(g, 2 * n, mode="nearest")
    return np.sqrt(uniform_filter1d((g - baseline) ** 2, n, mode="nearest"))


def _fit_envelope(
    x: np.ndarray, a: np.ndarray, qdamp: float, free_exponent: bool = False
) -> tuple[float, float, float, float]:
    """Fit ``a(x)`` (normalised envelope) for fixed Qdamp: raw D, its σ, noise floor and
    the tail exponent k (0 unless ``free_exponent``) of the factor ``(FIT_RMIN/r)^k``."""

    def residual(p: np.ndarray) -> np.ndarray:
        """Residual (n,) of the envelope model at ``p`` = (A0, D in Å, floor[, k]): Qdamp
        Gaussian times the spherical shape function, in quadrature with the noise floor."""
        a0, diameter, floor = p[:3]
        k = p[3] if free_exponent else 0.0
        signal = a0 * np.exp(-0.5 * (qdamp * x) ** 2) * spherical_shape_function(x, diameter)
        return np.sqrt((signal * (FIT_RMIN / x) ** k) ** 2 + floor**2) - a

    lo = [0.0, _D_BOUNDS[0], 0.0] + ([0.0] if free_exponent else [])
    hi = [np.inf, _D_BOUNDS[1], 1.0] + ([3.0] if free_exponent else [])
    # the kink of γ0 at r = D makes the fit multimodal: start from the best D of a
    # coarse grid (amplitude by linear least squares, no floor)
    damping = np.exp(-0.5 * (qdamp * x) ** 2)
    grid = np.geomspace(_D_BOUNDS[0] * 1.5, 400.0, 48)
    shapes = damping[None, :] * spherical_shape_function(x[None, :], grid[:, None])
    norms = np.maximum(np.einsum("ij,ij->i", shapes, shapes), 1e-300)
    amplitudes = shapes @ a / norms
    costs = np.sum((amplitudes[:, None] * shapes - a[None, :]) ** 2, axis=1)
    k_best = int(np.argmin(costs))
    d0, a0 = float(grid[k_best]), max(float(amplitudes[k_best]), 1e-3)
    best = None
    for k0 in (0.0, 1.0) if free_exponent else (None,):
        p0 = [a0, d0, 0.01] + ([k0] if free_exponent else [])
        fit = least_squares(residual, p0, bounds=(lo, hi))
        if best is None or fit.cost < best.cost:
            best = fit
    assert best is not None
    sigma2 = 2 * best.cost / max(1, x.size - len(lo))
    cov = np.linalg.pinv(best.jac.T @ best.jac) * sigma2
    if free_exponent:  # the exponent and its σ instead of the floor
        k_err = float(math.sqrt(max(cov[3, 3], 0.0)))
        return float(best.x[1]), k_err, float(best.x[2]), float(best.x[3])
    return float(best.x[1]), float(math.sqrt(max(cov[1, 1], 0.0))), float(best.x[2]), 0.0


def _sphere_cost(x: np.ndarray, a: np.ndarray, qdamp: float, raw: float, floor: float) -> float:
    """Residual sum of squares of the sphere envelope at D = ``raw`` (amplitude by linear
    least squares), for comparison with :func:`_fit_twinned_envelope`."""
    shape = np.exp(-0.5 * (qdamp * x) ** 2) * spherical_shape_function(x, raw)
    amplitude = float(shape @ a) / max(float(shape @ shape), 1e-300)
    return float(np.sum((np.sqrt((amplitude * shape) ** 2 + floor**2) - a) ** 2))


def _fit_twinned_envelope(x: np.ndarray, a: np.ndarray, qdamp: float) -> tuple[float, float]:
    """Fit the twinned envelope (TWIN_COHERENCE) to ``a(x)``: raw D (Å) and the residual
    sum of squares."""
    damping = np.exp(-0.5 * (qdamp * x) ** 2)

    def shape(diameter: float | np.ndarray) -> np.ndarray:
        d = np.asarray(diameter, dtype=np.float64)[..., None]
        return damping * np.exp(-x / (TWIN_COHERENCE * d)) * spherical_shape_function(x, d)

    def residual(p: np.ndarray) -> np.ndarray:
        """Residual (n,) at ``p`` = (A0, D in Å, floor)."""
        return np.sqrt((p[0] * shape(np.array([p[1]]))[0]) ** 2 + p[2] ** 2) - a

    grid = np.geomspace(_D_BOUNDS[0] * 1.5, 400.0, 60)
    shapes = shape(grid)
    norms = np.maximum(np.einsum("ij,ij->i", shapes, shapes), 1e-300)
    amplitudes = shapes @ a / norms
    costs = np.sum((amplitudes[:, None] * shapes - a[None, :]) ** 2, axis=1)
    k = int(np.argmin(costs))
    p0 = [max(float(amplitudes[k]), 1e-3), float(grid[k]), 0.01]
    fit = least_squares(
        residual, p0, bounds=([0.0, _D_BOUNDS[0], 0.0], [np.inf, _D_BOUNDS[1], 1.0])
    )
    return float(fit.x[1]), float(2 * fit.cost)


def estimate_diameter(r: ArrayLike, g: ArrayLike, qdamp: float | None = None) -> SizeEstimate:
    """``(diameter_Å, uncertainty_Å)`` of the particle whose G(r) this is (1 σ).

    The method is in the module docstring.

    ``r`` (Å, increasing) and ``g`` (any scale) are 1-D of equal length and should
    reach at least ~15 Å. ``qdamp`` (Å⁻¹): the instrument's Q damping when known (a
    header's ``qdamp``); None assumes ``DEFAULT_QDAMP`` and adds the change of D over
    Qdamp 0.025–0.055 Å⁻¹ to the uncertainty (fitting Qdamp and D together is
    degenerate: both shorten the envelope).

    The uncertainty combines the fit's own (from its Jacobian, scaled by the residual)
    with ``SYSTEMATIC`` × D for the shape dependence. Raises ValueError when the data
    are too short (< 12 Å beyond ``FIT_RMIN``) or carry no oscillation at all.
    """
    r_arr, g_arr = checked_curve(r, g, 10)
    step = min(0.02, float(np.median(np.diff(r_arr))))
    grid = np.arange(max(r_arr[0], 0.0), r_arr[-1], step)
    if grid.size < 10 or grid[-1] - FIT_RMIN < 12.0:
        raise ValueError(
            f"G(r) ends at {r_arr[-1]:.1f} Å; a size estimate needs data to ≥ {FIT_RMIN + 12:.0f} Å"
        )
    gi = np.interp(grid, r_arr, g_arr)
    env = _envelope(grid, gi, ENVELOPE_WINDOW)
    # leave out half a window at the end (the filter reflects there) and the start
    keep = (grid >= FIT_RMIN) & (grid <= grid[-1] - ENVELOPE_WINDOW / 2)
    sample = max(1, round(0.25 / step))
    x = grid[keep][::sample]
    a = env[keep][::sample]
    scale = float(a.max())
    if not scale > 0:
        raise ValueError("G(r) has no oscillation beyond 5 Å to read a size from")
    peak = float(np.max(np.abs(gi[grid >= 1.5]))) if np.any(grid >= 1.5) else scale
    extent = _extent(grid, gi, keep, peak)
    a = a / scale
    given = qdamp is not None
    q = float(qdamp) if given else DEFAULT_QDAMP
    raw, fit_err, floor, _ = _fit_envelope(x, a, q)
    twin_raw, twin_cost = _fit_twinned_envelope(x, a, q)
    sphere_cost = _sphere_cost(x, a, q, raw, floor)
    _, k_err, _, tail_exponent = _fit_envelope(x, a, q, free_exponent=True)
    k_err *= math.sqrt(ENVELOPE_WINDOW / (sample * step))  # correlated samples, as for D
    # samples are correlated over a window: inflate the fit's error accordingly
    fit_err *= math.sqrt(ENVELOPE_WINDOW / (sample * step))
    spread, lowest = 0.0, raw
    if not given:  # Qdamp unknown: the spread over typical instruments is part of the error
        others = [_fit_envelope(x, a, qq)[0] for qq in _QDAMP_TYPICAL]
        spread = max(abs(d - raw) for d in others)
        lowest = min([raw, *others])
    diameter = raw / BIAS
    uncertainty = math.sqrt(fit_err**2 + spread**2) / BIAS
    uncertainty = math.hypot(uncertainty, SYSTEMATIC * diameter)
    return SizeEstimate(
        diameter,
        uncertainty,
        qdamp=q,
        qdamp_given=given,
        lowest=lowest / BIAS,
        noise=floor,
        noise_rms=floor * scale,
        tail_exponent=tail_exponent,
        tail_exponent_error=k_err,
        envelope_ratio=scale / peak if peak > 0 else 0.0,
        r_max=float(r_arr[-1]),
        extrapolated=bool(raw > r_arr[-1]),
        extent=extent,
        extent_at_end=bool(extent >= grid[keep][-1] - 0.5),
        twin_diameter=extent / TWIN_EXTENT_BIAS,
        twin_uncertainty=TWIN_SYSTEMATIC * extent / TWIN_EXTENT_BIAS,
        twin_envelope_diameter=twin_raw / TWIN_ENVELOPE_BIAS,
        twin_envelope_uncertainty=TWIN_ENVELOPE_SYSTEMATIC * twin_raw / TWIN_ENVELOPE_BIAS,
        twin_fit_ratio=twin_cost / max(sphere_cost, 1e-300),
    )


def _extent(grid: np.ndarray, g: np.ndarray, keep: np.ndarray, peak: float) -> float:
    """Last r (Å) in ``grid[keep]`` where the smoothed envelope exceeds EXTENT_LEVEL × peak
    (FIT_RMIN when it never does)."""
    step = float(grid[1] - grid[0])
    smooth = gaussian_filter1d(g, EXTENT_SMOOTHING / step, mode="nearest")
    env = _envelope(grid, smooth, ENVELOPE_WINDOW)[keep]
    above = np.nonzero(env > EXTENT_LEVEL * peak)[0]
    return float(grid[keep][above[-1]]) if above.size else FIT_RMIN
