"""Close-packed clusters built layer by layer from A/B/C stacking sequences.

The paper's second experiment: pure fcc (ABCABC…), pure hcp (ABAB…) and faulted
sequences that are neither (ABCAC, ABCABA, …). A close-packed layer sits at one of
three positions of the 2-D hexagonal cell (a1 = (1, 0), a2 = (−½, √3/2), γ = 120°):
A at (0, 0), B at (⅓, ⅔), C at (⅔, ⅓); consecutive layers are √(2/3)·d apart, so
every bond, in-plane or between layers, is d.

A layer is *cubic* when its two neighbours differ (…A B C…) and *hexagonal* when
they are equal (…A B A…); ``fcc_fraction`` is the fraction of cubic interior layers
(1 for fcc, 0 for hcp).

Sequences are canonical: the first two layers are relabelled to AB, and a sequence
and its reverse are the same stacking (ABCAC reversed is CACBA, relabelled ABACB).
A finite cluster also depends on where its axis crosses the layers, which is no
longer a relabelling symmetry; so each cluster is a canonical sequence, a patch
shape and size, and the site (A, B or C) the axis passes through. Clusters that
still coincide are removed by comparing sorted pair distances.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from deepstruc_gui.science.structures import DuplicateFilter, centred

A1 = np.array([1.0, 0.0])
A2 = np.array([-0.5, math.sqrt(3) / 2])
#: fractional in-plane position of each layer label
LAYER_SITES: dict[str, tuple[float, float]] = {
    "A": (0.0, 0.0),
    "B": (1 / 3, 2 / 3),
    "C": (2 / 3, 1 / 3),
}
LAYER_SPACING = math.sqrt(2 / 3)  # in units of the nearest-neighbour distance
PATCH_SHAPES = ("circle", "hexagon", "triangle", "inverted triangle")
#: the letter of each shape in a patch label (``c2.2a``)
PATCH_LETTERS = {"circle": "c", "hexagon": "h", "triangle": "t", "inverted triangle": "v"}
#: a polygon patch's edge normals: first angle, step (degrees) and count; its edges
#: run along close-packed rows. The two triangles are not one cluster turned: turning
#: by 60° about the axis also moves the B and C sites of the other layers.
_POLYGON_NORMALS = {
    "hexagon": (30, 60, 6),
    "triangle": (90, 120, 3),
    "inverted triangle": (30, 120, 3),
}


def site_xy(label: str) -> np.ndarray:
    """Cartesian in-plane position of site A, B or C (unit bond)."""
    u, v = LAYER_SITES[label]
    return u * A1 + v * A2


def is_valid(sequence: str) -> bool:
    """Only A, B, C; no two equal neighbours (those would sit on top of each other)."""
    return (
        len(sequence) >= 2
        and set(sequence) <= set("ABC")
        and all(a != b for a, b in itertools.pairwise(sequence))
    )


def _relabel(sequence: str) -> str:
    first, second = sequence[0], sequence[1]
    third = ({"A", "B", "C"} - {first, second}).pop()
    return sequence.translate(str.maketrans({first: "A", second: "B", third: "C"}))


def canonical(sequence: str) -> str:
    """The representative of a stacking: relabelled to start AB; of a sequence and its
    reverse, the alphabetically first."""
    if not is_valid(sequence):
        raise ValueError(f"invalid stacking sequence {sequence!r}: use A, B, C, no repeats")
    return min(_relabel(sequence), _relabel(sequence[::-1]))


def canonical_stacking(sequence: str, axis: str) -> tuple[str, str]:
    """The representative of a finite stacked cluster: (sequence, axis site).

    Relabelling the sites or reading the layers upside down gives the same cluster
    only when the axis site is relabelled with them; of the two readings (sequence and
    its reverse, each relabelled to start AB) the alphabetically first pair is kept.
    The sequence is :func:`canonical`'s; the library builds these pairs, so a cluster
    built from one has the library's orientation.
    """
    if not is_valid(sequence) or axis not in LAYER_SITES:
        raise ValueError(f"invalid stacked cluster {sequence!r} with axis {axis!r}")
    pairs = []
    for form in (sequence, sequence[::-1]):
        third = ({"A", "B", "C"} - {form[0], form[1]}).pop()
        table = str.maketrans({form[0]: "A", form[1]: "B", third: "C"})
        pairs.append((form.translate(table), axis.translate(table)))
    return min(pairs)


def sequences(n_layers: int) -> list[str]:
    """All distinct stackings of ``n_layers`` layers (canonical, sorted)."""
    if n_layers < 2:
        return []
    found = set()
    for rest in itertools.product("ABC", repeat=n_layers - 2):
        seq = "AB" + "".join(rest)
        if is_valid(seq):
            found.add(canonical(seq))
    return sorted(found)


def fcc_fraction(sequence: str) -> float:
    """Fraction of interior layers with cubic stacking (neighbours differ); NaN for
    fewer than three layers (no interior layer)."""
    cubic = [sequence[i - 1] != sequence[i + 1] for i in range(1, len(sequence) - 1)]
    return float(np.mean(cubic)) if cubic else float("nan")


def stacking_type(sequence: str) -> str:
    """The label of a sequence: fcc (all interior layers cubic), hcp (all
    hexagonal) or faulted (both)."""
    f = fcc_fraction(sequence)
    if math.isnan(f):
        raise ValueError(f"{sequence!r}: a stacking type needs at least three layers")
    return "fcc" if f == 1.0 else "hcp" if f == 0.0 else "faulted"


@dataclass(frozen=True)
class Patch:
    """The part of each close-packed layer kept in the cluster.

    ``shape`` "circle": atoms within ``size`` bonds of the axis; "hexagon",
    "triangle" and "inverted triangle" (turned by 60°): atoms inside the regular
    polygon of apothem (inradius) ``size`` whose edges run along the close-packed rows.
    ``axis`` is the site (A, B or C) the axis passes through. The library uses circles
    and hexagons; triangles are for stacked clusters built outside it.
    """

    shape: str = "circle"
    size: float = 2.0
    axis: str = "A"

    def __post_init__(self) -> None:
        if self.shape not in PATCH_SHAPES:
            raise ValueError(f"unknown patch shape {self.shape!r}; known: {PATCH_SHAPES}")
        if self.axis not in LAYER_SITES:
            raise ValueError(f"axis must pass through site A, B or C, not {self.axis!r}")

    @property
    def label(self) -> str:
        """Short label, e.g. ``c2a``: shape letter (:data:`PATCH_LETTERS`), size, axis
        site in lower case."""
        return f"{PATCH_LETTERS[self.shape]}{self.size:g}{self.axis.lower()}"

    @classmethod
    def from_label(cls, label: str) -> Patch:
        """The patch of a :attr:`label` (``c2.2a``, ``h1.7b``); ``ValueError`` when
        ``label`` is not one."""
        shapes = {letter: name for name, letter in PATCH_LETTERS.items()}
        try:
            return cls(shapes[label[0]], float(label[1:-1]), label[-1].upper())
        except (KeyError, IndexError, ValueError):
            raise ValueError(f"not a patch label: {label!r} (e.g. 'c2.2a', 'h1.7b')") from None

    @property
    def description(self) -> str:
        """Words for a user: ``circle of radius 2.2 bonds, axis through site C``."""
        what = "circle of radius" if self.shape == "circle" else f"{self.shape} of apothem"
        return f"{what} {self.size:g} bonds, axis through site {self.axis}"

    def metric(self, xy: np.ndarray) -> np.ndarray:
        """How far each in-plane point (m, 2), relative to the axis, lies out in this
        patch's shape (bonds): its radius for a circle, the largest projection on the
        edge normals for a polygon. A point is inside when it is ≤ ``size``."""
        if self.shape == "circle":
            return np.linalg.norm(xy, axis=1)
        first, step, count = _POLYGON_NORMALS[self.shape]
        angles = np.deg2rad(first + step * np.arange(count))
        normals = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        return (xy @ normals.T).max(axis=1)

    def contains(self, xy: np.ndarray) -> np.ndarray:
        """Mask of the in-plane points (relative to the axis) inside the patch."""
        return self.metric(xy) <= self.size + 1e-6

    def neighbours(self) -> tuple[Patch | None, Patch | None]:
        """The next smaller and the next larger patch of the same shape and axis that
        hold other atoms (their size half-way between two shells of lattice points, as
        the library's sizes are), or None where no smaller patch keeps
        :data:`MIN_LAYER_ATOMS` atoms in every layer."""
        shells = self._shells(self.shape, self.size + 3.0)
        inside = shells[shells <= self.size + 1e-6]
        outside = shells[shells > self.size + 1e-6]
        larger = Patch(self.shape, round(float(outside[:2].mean()), 3), self.axis)
        smaller = None
        if len(inside) >= 2:
            smaller = Patch(self.shape, round(float(inside[-2:].mean()), 3), self.axis)
            if not holds_layers("ABC", smaller):
                smaller = None
        return smaller, larger

    def _shells(self, shape: str, extent: float) -> np.ndarray:
        """Sorted distinct values of ``shape``'s metric over the lattice points of all
        three layers, about this patch's axis, out to ``extent`` (bonds)."""
        far = Patch(shape, extent, self.axis)
        xy = np.vstack([layer_points(label, far) for label in "ABC"])
        return np.unique(np.round(far.metric(xy), 6))

    def like(self, shape: str) -> Patch:
        """The patch of another ``shape`` about the same axis whose three layers (A, B,
        C) hold the number of atoms nearest to this one's (its size half-way between
        two shells)."""
        atoms = sum(len(layer_points(label, self)) for label in "ABC")
        shells = self._shells(shape, 2.5 * self.size + 2.0)
        best, best_gap = Patch(shape, 2.5 * self.size + 2.0, self.axis), math.inf
        for size in (shells[:-1] + shells[1:]) / 2:
            trial = Patch(shape, round(float(size), 3), self.axis)
            gap = abs(sum(len(layer_points(label, trial)) for label in "ABC") - atoms)
            if gap < best_gap:
                best, best_gap = trial, gap
        return best


def layer_points(label: str, patch: Patch) -> np.ndarray:
    """In-plane positions (m, 2) of one layer inside the patch, relative to the axis."""
    n = math.ceil(patch.size * (2.4 if patch.shape.endswith("triangle") else 1.2)) + 2
    ij = np.array(list(itertools.product(range(-n, n + 1), repeat=2)), dtype=float)
    xy = ij[:, :1] * A1 + ij[:, 1:] * A2 + site_xy(label) - site_xy(patch.axis)
    return xy[patch.contains(xy)]


def holds_layers(sequence: str, patch: Patch) -> bool:
    """Every layer label of ``sequence`` keeps at least :data:`MIN_LAYER_ATOMS` atoms in
    ``patch`` (so each layer is a real plane)."""
    return all(len(layer_points(label, patch)) >= MIN_LAYER_ATOMS for label in set(sequence))


def parse_stacked_shape(shape: str) -> tuple[str, Patch]:
    """(sequence, patch) of a stacked cluster's shape label ``SEQ_PATCH`` as the library
    names it (``ABCAC_c2.2a``); ``ValueError`` when ``shape`` is not one."""
    sequence, _, label = str(shape).partition("_")
    if not is_valid(sequence) or "_" in label:
        raise ValueError(f"not a stacked cluster's shape: {shape!r} (e.g. 'ABCAC_c2.2a')")
    return sequence, Patch.from_label(label)


def stacked_cluster(
    sequence: str, patch: Patch | float = 2.0, nn_distance: float = 1.0
) -> np.ndarray:
    """Positions (n, 3) of the stacked cluster, centred, bond length ``nn_distance``.

    A bare number for ``patch`` means a circle of that radius around an A site.
    """
    if not is_valid(sequence):
        raise ValueError(f"invalid stacking sequence {sequence!r}: use A, B, C, no repeats")
    if not isinstance(patch, Patch):
        patch = Patch("circle", float(patch), "A")
    layers = []
    for k, label in enumerate(sequence):
        xy = layer_points(label, patch)
        layers.append(np.column_stack([xy, np.full(len(xy), k * LAYER_SPACING)]))
    return centred(np.vstack(layers)) * nn_distance


@dataclass(frozen=True)
class StackedShape:
    """A stacked cluster at unit bond length, with what it was built from."""

    sequence: str
    patch: Patch
    positions: np.ndarray

    @property
    def n_atoms(self) -> int:
        """Number of atoms N (rows of ``positions``, (N, 3) at unit bond length)."""
        return len(self.positions)

    @property
    def type(self) -> str:
        """Stacking type of the sequence: fcc, hcp or faulted (see :func:`stacking_type`)."""
        return stacking_type(self.sequence)

    @property
    def fcc_fraction(self) -> float:
        """Fraction of interior layers with cubic stacking; NaN below three layers."""
        return fcc_fraction(self.sequence)

    @property
    def label(self) -> str:
        """``ABCAC_c2.2a``: sequence, patch shape initial, size and axis site."""
        return f"{self.sequence}_{self.patch.label}"

    @property
    def params(self) -> dict:
        """Build parameters as a dict: layer count, patch shape, size (bonds) and axis."""
        p = self.patch
        return {"layers": len(self.sequence), "patch": p.shape, "size": p.size, "axis": p.axis}


#: The default enumeration: 3–8 layers; circles of radius 1.6, 2.2, 2.7 bonds and
#: hexagons of apothem 1.2, 1.7, 2.2 bonds; the axis through each of the three sites.
#: Sizes sit between neighbour shells so no atom lies on a patch boundary. This gives
#: 696 distinct clusters (595 faulted, 45 fcc, 56 hcp) of 18–197 atoms per bond length.
LAYER_COUNTS = tuple(range(3, 9))
DEFAULT_PATCHES: tuple[Patch, ...] = tuple(
    Patch(shape, size, axis)
    for shape, sizes in (("circle", (1.6, 2.2, 2.7)), ("hexagon", (1.2, 1.7, 2.2)))
    for size in sizes
    for axis in "ABC"
)
#: The stacking library's metals: Co (2.32 Å, the classic fcc/hcp polytype metal), Pt
#: (2.60 Å) and Au (2.68 Å), the metals of the bundled experimental PDFs; three bond
#: lengths × 595 faulted shapes ≈ the paper's 1,620 faulted structures.
DEFAULT_METALS: tuple[str, ...] = ("Co", "Pt", "Au")
#: at least this many atoms in every layer, so each layer is a real plane
MIN_LAYER_ATOMS = 3


def stacked_shapes(
    layer_counts: Iterable[int] = LAYER_COUNTS,
    patches: Iterable[Patch] = DEFAULT_PATCHES,
    min_atoms: int = 5,
    max_atoms: int = 200,
) -> list[StackedShape]:
    """Every distinct stacked cluster of the given sequence lengths and patches.

    Enumeration order (and so which of two coinciding clusters is kept) is fixed:
    layer count, canonical sequence, then patch in the given order.
    """
    patches = tuple(patches)
    seen = DuplicateFilter(tolerance=1e-4)
    out: list[StackedShape] = []
    for n_layers in layer_counts:
        for seq in sequences(n_layers):
            for patch in patches:
                if not holds_layers(seq, patch):
                    continue
                positions = stacked_cluster(seq, patch)
                if min_atoms <= len(positions) <= max_atoms and seen.add(None, positions):
                    out.append(StackedShape(seq, patch, positions))
    return out
