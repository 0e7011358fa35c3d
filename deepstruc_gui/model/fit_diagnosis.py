"""About an answer: ``poor-fit`` (the best Rw is above what data of this quality
allow) and ``close-atoms`` (a candidate or a loaded structure with overlapping atoms)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from deepstruc_gui.model.diagnostic import Diagnostic

if TYPE_CHECKING:
    from deepstruc_gui.science.pdf_data import PDFData

__all__ = [
    "CLOSE_FACTOR",
    "POOR_RW",
    "candidates_close_atoms",
    "close_pairs",
    "noise_rw",
    "poor_fit_warning",
    "structure_close_atoms",
]

#: atoms closer than this × the structure's bond length are flagged
CLOSE_FACTOR = 0.6
#: best Rw above which a measured-data fit is "poor" (Rw of the right structure on
#: synchrotron nanoparticle data is typically 0.1–0.3; JQ_S1 with ase octahedra
#: 0.135–0.19, docs/WARNINGS.md), raised when the data's own noise is larger
POOR_RW = 0.35


def close_pairs(
    positions: np.ndarray, factor: float = CLOSE_FACTOR, bond_length: float | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Atom pairs closer than ``factor`` × the bond length, with their distances
    (:func:`deepstruc_gui.science.close_atoms.close_atom_pairs`).

    ``positions``: (n, 3) Å. ``bond_length``: None = the median nearest-neighbour
    distance of the structure itself (robust to a few overlapping atoms). Returns
    (pairs (k, 2) int, their distances (k,) Å, the bond length used).
    """
    from deepstruc_gui.science.close_atoms import close_atom_pairs
    from deepstruc_gui.science.structures import nearest_neighbour_distance

    p = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    bond = nearest_neighbour_distance(p) if bond_length is None else float(bond_length)
    if len(p) < 2 or not math.isfinite(bond) or bond <= 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0), bond
    pairs = close_atom_pairs(p, bond, factor)  # sorted by distance, shortest first
    distances = np.linalg.norm(p[pairs[:, 0]] - p[pairs[:, 1]], axis=1)
    return pairs, distances, bond


def structure_close_atoms(positions: np.ndarray, name: str = "the structure") -> list[Diagnostic]:
    """``close-atoms`` for a structure the user loaded (positions (n, 3) Å)."""
    pairs, distances, bond = close_pairs(positions)
    if not len(pairs):
        return []
    shown = ", ".join(
        f"{i + 1}–{j + 1} ({d:.2f} Å)" for (i, j), d in zip(pairs[:3], distances[:3], strict=True)
    )
    more = f" and {len(pairs) - 3} more" if len(pairs) > 3 else ""
    return [
        Diagnostic(
            "close-atoms",
            f"{name} has {len(pairs)} atom pair(s) closer than {CLOSE_FACTOR} × its bond "
            f"length {bond:.2f} Å: atoms {shown}{more} (1-based). Overlapping atoms are "
            "usually a duplicated site in the file; remove one of each pair before fitting.",
        )
    ]


def candidates_close_atoms(candidates: Sequence[Any], top: int = 10) -> Diagnostic | None:
    """``close-atoms`` for the ``top`` best of ``candidates`` (ranked best first, each
    with ``.positions`` (n, 3) Å); None when none of them has close atoms."""
    flagged = []
    for rank, c in enumerate(candidates[:top], 1):
        pairs, distances, bond = close_pairs(c.positions)
        if len(pairs):
            flagged.append((rank, len(pairs), float(distances[0]), bond))
    if not flagged:
        return None
    ranks = ", ".join(f"#{rank}" for rank, *_ in flagged)
    rank, n, shortest, bond = flagged[0]
    return Diagnostic(
        "close-atoms",
        f"candidate(s) {ranks} of the top {min(top, len(candidates))} have atoms "
        f"closer than {CLOSE_FACTOR} × the bond length (#{rank}: {n} pair(s), the "
        f"closest {shortest:.2f} Å for a {bond:.2f} Å bond). Such a cluster is not "
        "physical; its Rw may still look good. Prefer a candidate without them.",
    )


def noise_rw(data: PDFData, rmin: float = 2.0, rmax: float = 30.0) -> float | None:
    """The Rw that the data's own noise alone gives: sqrt(Σσ²/ΣG²) over [rmin, rmax],
    σ from the file's dG column, else from the size fit's noise floor (None if
    neither is available)."""
    keep = (data.r >= rmin) & (data.r <= rmax)
    if keep.sum() < 10:
        return None
    g2 = float(np.sum(data.g[keep] ** 2))
    if g2 <= 0:
        return None
    if data.dg is not None and np.all(np.isfinite(data.dg)) and np.any(data.dg > 0):
        return math.sqrt(float(np.sum(data.dg[keep] ** 2)) / g2)
    from deepstruc_gui.science.particle_size import estimate_diameter

    try:
        estimate = estimate_diameter(data.r, data.g)
    except ValueError:
        return None
    return math.sqrt(estimate.noise_rms**2 * keep.sum() / g2)


def poor_fit_warning(
    data: PDFData,
    rw: float,
    meta: Mapping[str, Any] | None,
    known: list[Diagnostic],
    fit_range: tuple[float, float] = (2.0, 30.0),
) -> Diagnostic | None:
    if not math.isfinite(rw):
        return Diagnostic(
            "poor-fit", "the fit gave no finite Rw: nothing can be concluded from it."
        )
    floor = noise_rw(data, *fit_range)
    threshold = max(POOR_RW, 1.5 * floor) if floor is not None else POOR_RW
    if rw <= threshold:
        return None
    noise = f" (the noise alone gives Rw ≈ {floor:.2f})" if floor is not None else ""
    causes = [w.code for w in known if w.code in ("beyond-training-size", "not-monometallic")]
    other = "stacking" if (meta or {}).get("library_kind") == "mmnp" else "mmnp"
    because = f" The warnings {', '.join(causes)} may explain it." if causes else ""
    return Diagnostic(
        "poor-fit",
        f"the best Rw {rw:.3f} is above {threshold:.2f}, what a right structure usually "
        f"reaches on data of this quality{noise}: none of these candidates is a good "
        f"description.{because} Try the whole map or a wider region (5σ or 7σ), the "
        f"other model ({other}), refining Qdamp, or a narrower fit range.",
    )
