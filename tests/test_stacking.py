"""Stacking sequences: labels, canonical forms, geometry of fcc/hcp/faulted clusters."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from deepstruc_gui.science.stacking import (
    DEFAULT_PATCHES,
    LAYER_SPACING,
    Patch,
    canonical,
    fcc_fraction,
    layer_points,
    sequences,
    stacked_cluster,
    stacked_shapes,
    stacking_type,
)
from deepstruc_gui.science.structures import (
    DuplicateFilter,
    coordination_numbers,
    sorted_pair_distances,
)


def test_fcc_fraction_and_type() -> None:
    assert fcc_fraction("ABCABC") == 1.0 and stacking_type("ABCABC") == "fcc"
    assert fcc_fraction("ABAB") == 0.0 and stacking_type("ABAB") == "hcp"
    assert fcc_fraction("ABCAC") == pytest.approx(2 / 3)  # B, C cubic; A hexagonal
    for seq in ("ABCAC", "ABCABA", "ABCBCB", "ABCACB"):
        assert 0 < fcc_fraction(seq) < 1 and stacking_type(seq) == "faulted"
    assert math.isnan(fcc_fraction("AB"))
    with pytest.raises(ValueError):
        stacking_type("AB")


def test_canonical_sequences() -> None:
    assert canonical("BCA") == "ABC" and canonical("CBCB") == "ABAB"
    assert canonical("ABCAC") == canonical("CACBA") == "ABACB"  # reverse, relabelled
    assert canonical("ACBCB") == canonical("ABCBC")  # B↔C relabelling
    assert [len(sequences(n)) for n in range(2, 9)] == [1, 2, 3, 6, 10, 20, 36]
    for n in range(3, 8):
        seqs = sequences(n)
        assert all(s.startswith("AB") and canonical(s) == s for s in seqs)
        assert {"fcc", "hcp"} <= {stacking_type(s) for s in seqs}
    for bad in ("AAB", "ABD", "A"):
        with pytest.raises(ValueError, match="invalid stacking sequence"):
            canonical(bad)


def test_layers_sit_on_their_sites() -> None:
    patch = Patch("circle", 1.1, "A")
    assert len(layer_points("A", patch)) == 7  # atom + its 6 neighbours
    assert np.allclose(np.linalg.norm(layer_points("B", patch), axis=1), 1 / math.sqrt(3))
    assert len(layer_points("B", Patch("hexagon", 1.2, "B"))) == 7
    with pytest.raises(ValueError):
        Patch("square", 2.0, "A")
    with pytest.raises(ValueError):
        Patch("circle", 2.0, "D")


@pytest.mark.parametrize("sequence", ["ABCABC", "ABABAB", "ABCACB"])
def test_close_packed_geometry(sequence: str) -> None:
    p = stacked_cluster(sequence, Patch("circle", 2.2, "A"), nn_distance=2.6)
    assert np.allclose(p.mean(axis=0), 0)
    d = sorted_pair_distances(p)
    assert d[0] == pytest.approx(2.6)  # every bond, in-plane and between layers
    z = np.unique(np.round(p[:, 2], 6))
    assert len(z) == len(sequence) and np.allclose(np.diff(z), 2.6 * LAYER_SPACING)
    cn = coordination_numbers(p, 1.1 * 2.6)
    assert cn.max() == 12  # fully surrounded interior atoms
    # the middle atom of an interior A layer is fully surrounded whatever the stacking
    middle = next(k for k in range(1, len(sequence) - 1) if sequence[k] == "A")
    on_axis = np.flatnonzero(
        (np.abs(p[:, 2] - z[middle]) < 1e-6) & (np.linalg.norm(p[:, :2], axis=1) < 1e-6)
    )
    assert cn[on_axis].tolist() == [12]


def test_fcc_and_hcp_are_told_apart_by_their_distances() -> None:
    patch = Patch("hexagon", 2.2, "A")
    squared = lambda s: sorted_pair_distances(stacked_cluster(s, patch)) ** 2  # noqa: E731
    fcc = squared("ABCABC")
    assert np.allclose(fcc, np.round(fcc), atol=1e-9)  # fcc: d² = 1, 2, 3, … only
    hcp = squared("ABABAB")
    assert np.any(np.isclose(hcp, 8 / 3))  # hcp: the c-axis neighbour at √(8/3)
    assert not np.any(np.isclose(fcc, 8 / 3))


def test_default_enumeration() -> None:
    shapes = stacked_shapes()
    assert len(shapes) == 696  # documented in stacking.py and LIBRARY_FORMAT.md
    counts = Counter(s.type for s in shapes)
    assert counts == {"faulted": 595, "fcc": 45, "hcp": 56}
    assert all(5 <= s.n_atoms <= 200 for s in shapes)
    assert {len(s.sequence) for s in shapes} == set(range(3, 9))
    assert {s.patch for s in shapes} <= set(DEFAULT_PATCHES)
    seen = DuplicateFilter(tolerance=1e-3)
    assert all(seen.add(None, s.positions) for s in shapes)
    labels = [s.label for s in shapes]
    assert len(set(labels)) == len(labels)
    for s in shapes[::25]:
        assert s.fcc_fraction == fcc_fraction(s.sequence) and canonical(s.sequence) == s.sequence
        assert s.params["layers"] == len(s.sequence)
    assert len(stacked_shapes(layer_counts=[3, 4], max_atoms=40)) < len(shapes)
