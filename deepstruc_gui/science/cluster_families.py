"""Cluster families beyond the training sizes: 150–3,000 atoms, built with ase.cluster.

The training library (:mod:`deepstruc_gui.science.clusters`) stops at 200 atoms.
Measured nanoparticles are mostly larger (a 2.2 nm Pt particle has ~370 atoms, a
3.4 nm one ~1,400), so the size extension of a search builds candidates of the same
seven types — and their usual truncations — at those sizes:

========================  ===========  =============================================
family                    type         ase builder (sizes)
========================  ===========  =============================================
octahedron                octahedral   ``Octahedron(length, cutoff=0)``
truncated octahedron      fcc          ``Octahedron(length, cutoff)``, 0 < cutoff
cuboctahedron             fcc          ``Octahedron(2k+1, cutoff=k)``
fcc cluster               fcc          ``FaceCenteredCubic`` (100)/(110)/(111) layers
fcc Wulff                 fcc          ``wulff_construction`` (three energy sets)
icosahedron               icosahedral  ``Icosahedron(shells)``
Ino decahedron            decahedral   ``Decahedron(p, q, r=0)``
Marks decahedron          decahedral   ``Decahedron(p, q, r>0)``
hcp cluster               hcp          ``HexagonalClosedPacked`` (0001)/(10-10)/(11-20)
bcc cluster               bcc          ``BodyCenteredCubic`` (100)/(110)/(111) layers
sc cluster                sc           ``SimpleCubic`` (100)/(110)/(111) layers
========================  ===========  =============================================

Shapes are built at unit mean bond length (as the library's; the strained
icosahedra and decahedra are scaled so their *mean* bond is 1) and scaled to the
data's bond length by the caller. ase's builders are slow for large clusters (all
families: ~30 s on a free core, mostly the cubic and Wulff ones), so each family is
built once and kept in the user's cache folder (``cache_folder()``; a version tag in
the name, rebuilt when missing or unreadable) and in memory for the process.
Compact shapes only: clusters whose extent along one axis is more than twice that
along another are left out (a measured particle is rarely a rod, and rods of every
length would multiply the fits).
Source of the shapes: ase.cluster (Larsen et al., J. Phys.: Condens. Matter 29,
273002 (2017)); Marks decahedra: L. D. Marks, Philos. Mag. A 49, 81 (1984).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial import ConvexHull, QhullError, cKDTree
from scipy.spatial.distance import pdist

from deepstruc_gui.science.clusters import CLUSTER_TYPES, HCP_C_OVER_A
from deepstruc_gui.util.atomic import atomic_write

#: the families of each of the seven types, in the order they are tried
FAMILIES_BY_TYPE: dict[str, tuple[str, ...]] = {
    "fcc": ("truncated octahedron", "cuboctahedron", "octahedron", "fcc cluster", "fcc Wulff"),
    "octahedral": ("octahedron", "truncated octahedron", "cuboctahedron"),
    "icosahedral": ("icosahedron",),
    "decahedral": ("Ino decahedron", "Marks decahedron"),
    "hcp": ("hcp cluster",),
    "bcc": ("bcc cluster",),
    "sc": ("sc cluster",),
}
#: the type a family's clusters are labelled with (one of the seven)
FAMILY_TYPE: dict[str, str] = {
    "octahedron": "octahedral",
    "truncated octahedron": "fcc",
    "cuboctahedron": "fcc",
    "fcc cluster": "fcc",
    "fcc Wulff": "fcc",
    "icosahedron": "icosahedral",
    "Ino decahedron": "decahedral",
    "Marks decahedron": "decahedral",
    "hcp cluster": "hcp",
    "bcc cluster": "bcc",
    "sc cluster": "sc",
}
FAMILIES: tuple[str, ...] = tuple(FAMILY_TYPE)
#: type families for judging an answer: fcc, octahedral and cuboctahedral are all fcc
TYPE_FAMILY: dict[str, str] = {
    t: ("fcc" if t in ("fcc", "octahedral") else t) for t in CLUSTER_TYPES
}

MIN_ATOMS = 150
MAX_ATOMS = 3000
#: longest/shortest extent above which a shape counts as a rod or plate and is skipped
MAX_ASPECT = 2.0
_FCC_UNIT = math.sqrt(2)
_CUBIC_SURFACES = [(1, 0, 0), (1, 1, 0), (1, 1, 1)]
_HCP_SURFACES = [(0, 0, 0, 1), (1, 0, -1, 0), (1, 1, -2, 0)]
#: Wulff surface energies (100), (111), (110): relative values that give compact
#: truncated octahedra, cuboctahedron-like and (110)-faceted shapes
_WULFF_ENERGIES = ((1.0, 0.86, 1.1), (1.0, 0.95, 1.2), (1.0, 0.8, 0.95))
_WULFF_SIZES = (250, 400, 600, 850, 1150, 1500, 1950, 2500)


@dataclass(frozen=True)
class FamilyShape:
    """A cluster of one family at unit mean bond length, centred on its centroid."""

    family: str
    params: dict[str, float] = field(hash=False)
    positions: np.ndarray = field(repr=False, hash=False, compare=False)  # (n, 3)
    diameter: float = 0.0  # longest interatomic distance, in bond lengths

    @property
    def structure_type(self) -> str:
        """One of the seven types (``FAMILY_TYPE``)."""
        return FAMILY_TYPE[self.family]

    @property
    def n_atoms(self) -> int:
        """Number of atoms N (rows of ``positions``, (N, 3) in bond lengths)."""
        return len(self.positions)

    @property
    def label(self) -> str:
        """``truncated octahedron (length 9, cutoff 2)``: family and size parameters."""
        args = ", ".join(f"{k} {v}" for k, v in self.params.items())
        return f"{self.family} ({args})"

    def scaled(self, bond_length: float) -> np.ndarray:
        """Positions (n, 3) in Å for this nearest-neighbour distance."""
        return self.positions * bond_length


def family_shapes(family: str) -> list[FamilyShape]:
    """Every compact shape of one family with MIN_ATOMS ≤ n ≤ MAX_ATOMS, smallest first.

    Built on first use and kept for the process (the whole set of one family takes
    0.1–5 s; Wulff shapes are the slow ones). Raises ``ValueError`` for an unknown
    family.
    """
    if family not in FAMILY_TYPE:
        raise ValueError(f"unknown cluster family {family!r}; known: {', '.join(FAMILIES)}")
    return list(_family_shapes(family))


#: bump when a builder's enumeration changes: old cache files are then ignored
_CACHE_VERSION = 2


def cache_folder() -> Path:
    """Where built families are kept: ``$DEEPSTRUC_CACHE`` or the user cache folder."""
    env = os.environ.get("DEEPSTRUC_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("deepstruc-gui"))


@functools.cache
def _family_shapes(family: str) -> tuple[FamilyShape, ...]:
    slug = family.lower().replace(" ", "-")
    path = cache_folder() / f"cluster-families-v{_CACHE_VERSION}" / f"{slug}.npz"
    shapes = _load(path, family)
    if shapes is None:
        shapes = _build(family)
        with contextlib.suppress(OSError):  # a read-only home: build again next time
            _save(path, shapes)
    return shapes


def _build(family: str) -> tuple[FamilyShape, ...]:
    out: dict[tuple, FamilyShape] = {}
    for params, positions in _enumerate(family):
        n = len(positions)
        if not MIN_ATOMS <= n <= MAX_ATOMS or _aspect(positions) > MAX_ASPECT:
            continue
        unit = _unit_bond(positions)
        diameter = _longest_distance(unit)
        radii = np.linalg.norm(unit, axis=1)
        key = (n, round(diameter, 3), round(float(radii.sum()), 2))
        out.setdefault(key, FamilyShape(family, params, unit, diameter))
    return tuple(sorted(out.values(), key=lambda s: (s.n_atoms, s.diameter)))


def _save(path: Path, shapes: tuple[FamilyShape, ...]) -> None:
    counts = np.array([s.n_atoms for s in shapes], dtype=np.int64)
    positions = np.concatenate([s.positions for s in shapes]) if shapes else np.zeros((0, 3))
    with atomic_write(path, "wb") as fh:
        np.savez(
            fh,
            counts=counts,
            positions=positions,
            diameters=np.array([s.diameter for s in shapes]),
            params=np.array(json.dumps([s.params for s in shapes])),
        )


def _load(path: Path, family: str) -> tuple[FamilyShape, ...] | None:
    """The cached shapes, or None when the file is missing or not readable."""
    try:
        with np.load(path, allow_pickle=False) as z:
            counts, positions = z["counts"], z["positions"]
            diameters, params = z["diameters"], json.loads(str(z["params"]))
    except (OSError, KeyError, ValueError):
        return None
    if len(params) != len(counts) or counts.sum() != len(positions):
        return None
    parts = np.split(positions, np.cumsum(counts)[:-1]) if len(counts) else []
    return tuple(
        FamilyShape(family, p, x, float(d))
        for p, x, d in zip(params, parts, diameters, strict=True)
    )


def shapes_for(
    families: tuple[str, ...] | list[str],
    n_range: tuple[int, int] = (MIN_ATOMS, MAX_ATOMS),
) -> list[FamilyShape]:
    """Shapes of the given families with n_range[0] ≤ n ≤ n_range[1], smallest first."""
    lo, hi = n_range
    shapes = [s for f in families for s in family_shapes(f) if lo <= s.n_atoms <= hi]
    return sorted(shapes, key=lambda s: s.n_atoms)


# --- the builders ---------------------------------------------------------------------
def _enumerate(family: str) -> Iterator[tuple[dict, np.ndarray]]:
    from ase.cluster import Decahedron, Icosahedron, Octahedron

    if family in ("octahedron", "truncated octahedron", "cuboctahedron"):
        for length in range(4, 22):
            cutoffs = {
                "octahedron": [0],
                "cuboctahedron": [(length - 1) // 2] if length % 2 else [],
                "truncated octahedron": range(1, (length - 1) // 2 + (0 if length % 2 else 1)),
            }[family]
            for cutoff in cutoffs:
                if _octahedron_atoms(length, cutoff) > MAX_ATOMS:
                    continue
                yield (
                    {"length": length, "cutoff": cutoff},
                    Octahedron("Cu", length, cutoff, latticeconstant=_FCC_UNIT).positions,
                )
    elif family == "icosahedron":
        for shells in range(4, 11):
            if _icosahedron_atoms(shells) <= MAX_ATOMS:
                yield (
                    {"shells": shells},
                    Icosahedron("Cu", shells, latticeconstant=_FCC_UNIT).positions,
                )
    elif family in ("Ino decahedron", "Marks decahedron"):
        rs = [0] if family == "Ino decahedron" else [1, 2, 3]
        for p, q, r in itertools.product(range(2, 12), range(1, 12), rs):
            if abs(p - q) > 4 or (r and r >= p):
                continue
            positions = Decahedron("Cu", p, q, r, latticeconstant=_FCC_UNIT).positions
            if len(positions) <= MAX_ATOMS:
                yield {"p": p, "q": q, "r": r}, positions
    elif family in ("fcc cluster", "bcc cluster", "sc cluster"):
        yield from _cubic(family.split()[0])
    elif family == "hcp cluster":
        from ase.cluster import HexagonalClosedPacked

        # either prism facet may be the larger one (b > c cuts more by (11-20) planes:
        # a 1,713-atom particle of layers (9, 12, 9) had no shape within 10 % in a
        # family of b ≤ c only, and read 2,081 atoms)
        # (up to 13 layers: MAX_ATOMS, not the layer count, bounds the family)
        for a, b, c in itertools.product(range(2, 14), repeat=3):
            if max(a, b, c) - min(a, b, c) > 3:
                continue
            positions = HexagonalClosedPacked(
                "Cu", _HCP_SURFACES, [a, b, c], latticeconstant=(1.0, HCP_C_OVER_A)
            ).positions
            if MIN_ATOMS <= len(positions) <= MAX_ATOMS:
                yield {"basal": a, "prism1": b, "prism2": c}, positions
    elif family == "fcc Wulff":
        from ase.cluster import wulff_construction

        for k, energies in enumerate(_WULFF_ENERGIES):
            for size in _WULFF_SIZES:
                atoms = wulff_construction(
                    "Cu", _CUBIC_SURFACES, list(energies), size, "fcc",
                    rounding="closest", latticeconstant=_FCC_UNIT,
                )  # fmt: skip
                yield {"energies": k + 1, "target": size}, atoms.positions


def _cubic(lattice: str) -> Iterator[tuple[dict, np.ndarray]]:
    """Cubic clusters with (100)/(110)/(111) layers h, k, l of similar sizes."""
    from ase.cluster import BodyCenteredCubic, FaceCenteredCubic, SimpleCubic

    builder = {"fcc": FaceCenteredCubic, "bcc": BodyCenteredCubic, "sc": SimpleCubic}[lattice]
    unit = {"fcc": _FCC_UNIT, "bcc": 2 / math.sqrt(3), "sc": 1.0}[lattice]
    for h in range(2, 16):
        for k, l_ in itertools.product(range(h, h + 3), range(h, h + 3)):
            if k > l_:
                continue
            positions = builder("Cu", _CUBIC_SURFACES, [h, k, l_], latticeconstant=unit).positions
            if len(positions) > MAX_ATOMS:
                break
            yield {"h": h, "k": k, "l": l_}, positions


def _octahedron_atoms(length: int, cutoff: int) -> int:
    """Atoms of ase's Octahedron(length, cutoff): (2L³+L)/3 minus six corner pyramids."""
    corner = cutoff * (cutoff + 1) * (2 * cutoff + 1) // 6
    return (2 * length**3 + length) // 3 - 6 * corner


def _icosahedron_atoms(shells: int) -> int:
    return (10 * shells**3 - 15 * shells**2 + 11 * shells - 3) // 3


def _unit_bond(positions: np.ndarray) -> np.ndarray:
    """Centred and scaled to unit mean nearest-neighbour bond (pairs within 1.1 × the
    shortest, found with a k-d tree: a full pdist of 3,000 atoms is 4.5 M pairs)."""
    p = np.asarray(positions, dtype=np.float64)
    p = p - p.mean(axis=0)
    tree = cKDTree(p)
    shortest = float(tree.query(p, k=2)[0][:, 1].min())
    pairs = tree.query_pairs(1.1 * shortest, output_type="ndarray")
    bond = float(np.linalg.norm(p[pairs[:, 0]] - p[pairs[:, 1]], axis=1).mean())
    return p / bond


def _aspect(positions: np.ndarray) -> float:
    """Longest over shortest principal extent (RMS along the inertia axes)."""
    p = positions - positions.mean(axis=0)
    ev = np.linalg.eigvalsh(p.T @ p / max(len(p), 1))
    return float(math.sqrt(ev[-1] / max(ev[0], 1e-12)))


def _longest_distance(positions: np.ndarray) -> float:
    """Longest interatomic distance, over the convex hull's vertices only."""
    try:
        hull = positions[ConvexHull(positions).vertices]
    except QhullError:  # flat or degenerate: fall back to all pairs
        hull = positions
    return float(pdist(hull).max()) if len(hull) > 1 else 0.0
