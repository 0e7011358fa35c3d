"""Cluster builders and training libraries: geometry, uniqueness, PDFs, graphs, splits."""

from __future__ import annotations

import numpy as np
import pytest

from deepstruc_gui.cli.main import main
from deepstruc_gui.model.library import Library, LibraryError, build_library, stratified_split
from deepstruc_gui.science.clusters import CLUSTER_TYPES, shape_fingerprint, unique_shapes
from deepstruc_gui.science.elements import METALS, metals_by_distance, nearest_neighbour_distance
from deepstruc_gui.science.stacking import fcc_fraction, stacked_cluster, stacking_type
from deepstruc_gui.science.structures import coordination_numbers
from deepstruc_gui.science.structures import nearest_neighbour_distance as nn

INTERIOR_CN = {
    "sc": 6,
    "bcc": 8,
    "fcc": 12,
    "hcp": 12,
    "icosahedral": 12,
    "decahedral": 12,
    "octahedral": 12,
}


@pytest.fixture(scope="module")
def shapes():
    return unique_shapes(max_atoms=200)


@pytest.fixture(scope="module")
def small_library(tmp_path_factory):
    path = tmp_path_factory.mktemp("lib") / "small.h5"
    return build_library("mmnp", path, metals=["Pt", "Zn"], max_atoms=60, progress=False)


def test_reference_distances_and_metal_groups() -> None:
    for metal, d in {"Zn": 2.42, "V": 2.44, "Re": 2.56, "Os": 2.52, "Cr": 2.38}.items():
        assert nearest_neighbour_distance(metal) == pytest.approx(d)
    groups = metals_by_distance()
    assert len(groups) == 19 and sum(len(g) for g in groups.values()) == len(METALS)


def test_every_type_has_its_geometry(shapes) -> None:
    assert {s.type for s in shapes} == set(CLUSTER_TYPES)
    for kind, cn in INTERIOR_CN.items():
        # the most compact big shape of the type (thin slabs have no interior)
        pool = [s for s in shapes if s.type == kind and min(s.params.values(), default=3) >= 3]
        pool = pool or [s for s in shapes if s.type == kind]
        biggest = max(pool, key=lambda s: s.n_atoms)
        assert nn(biggest.positions) == pytest.approx(1.0, abs=0.01)  # unit bond, bcc too
        counts = coordination_numbers(biggest.positions, 1.02)
        radius = np.linalg.norm(biggest.positions, axis=1)
        core = radius < 0.3 * radius.max() + 1e-6
        # interior atoms have the type's coordination; no atom has more
        assert core.any() and np.bincount(counts[core]).argmax() == cn, kind
        assert counts.max() == cn, kind


def test_no_duplicates_and_size_limits(shapes) -> None:
    keys = [shape_fingerprint(s) for s in shapes]
    assert len(keys) == len(set(keys))
    assert all(5 <= s.n_atoms <= 200 for s in shapes)
    assert 190 <= len(shapes) <= 205  # NOTES: 197 with the original's bcc


def test_library_contents(small_library) -> None:
    lib = Library.open(small_library)
    assert set(lib.types.tolist()) <= set(CLUSTER_TYPES) and len(lib) > 50
    assert lib.pdfs.shape == (len(lib), 2800)
    assert np.allclose(lib.pdfs.max(axis=1), 1.0)
    r = lib.parameters.r_grid
    for i in range(0, len(lib), 7):
        e = lib.entry(i)
        assert np.allclose(e.positions.mean(axis=0), 0, atol=1e-4)
        # first strong peak at the nearest-neighbour distance (the shortest pair: a few
        # small bcc shapes hold only second neighbours)
        d = np.linalg.norm(e.positions[:, None] - e.positions[None], axis=-1)
        shortest = d[d > 0].min()
        g = e.pdf
        first = np.argmax(g[: np.searchsorted(r, shortest + 0.6)])
        assert abs(r[first] - shortest) < 0.03, e.name
        # edges: exactly the pairs closer than 1.02 × the bond length, both directions
        expected = int(((d < 1.02 * e.nn_distance) & (d > 0)).sum())
        assert e.edge_index.shape == (2, expected)
        assert np.allclose(e.edge_length, d[e.edge_index[0], e.edge_index[1]], atol=1e-4)
    lib.close()


def test_split_is_stratified_and_reproducible() -> None:
    types = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    s1, s2 = stratified_split(types, 3), stratified_split(types, 3)
    assert (s1 == s2).all()
    for t in "abc":
        sel = np.array(types) == t
        frac = np.bincount(s1[sel], minlength=3) / sel.sum()
        assert np.allclose(frac, [0.6, 0.2, 0.2], atol=0.05)


def test_build_is_deterministic(tmp_path, small_library) -> None:
    again = build_library(
        "mmnp", tmp_path / "again.h5", metals=["Pt", "Zn"], max_atoms=60, progress=False
    )
    a, b = Library.open(small_library), Library.open(again)
    assert np.array_equal(a.positions, b.positions) and np.array_equal(a.pdfs, b.pdfs)
    assert np.array_equal(a.split, b.split) and list(a.names) == list(b.names)


def test_data_cli_info_and_errors(small_library, tmp_path, capsys) -> None:
    assert main(["data", "info", str(small_library)]) == 0
    out = capsys.readouterr().out
    assert "mmnp library" in out and "icosahedral" in out and "split: train" in out
    bad = tmp_path / "x.h5"
    bad.write_text("not hdf5")
    assert main(["data", "info", str(bad)]) == 2
    assert "x.h5" in capsys.readouterr().err
    with pytest.raises(LibraryError):
        Library.open(tmp_path / "missing.h5")


def test_stacking_sequences() -> None:
    assert fcc_fraction("ABCABC") == 1.0 and stacking_type("ABCABC") == "fcc"
    assert fcc_fraction("ABABAB") == 0.0 and stacking_type("ABAB") == "hcp"
    assert 0 < fcc_fraction("ABCACB") < 1 and stacking_type("ABCBCB") == "faulted"
    pos = stacked_cluster("ABCABCA", 2.1)
    counts = coordination_numbers(pos, 1.02)
    assert nn(pos) == pytest.approx(1.0, abs=1e-6)
    assert counts.max() == 12  # fcc interior atoms


def test_stacking_library(tmp_path) -> None:
    path = build_library(
        "stacking", tmp_path / "st.h5", metals=["Pt"], max_atoms=60, progress=False
    )
    lib = Library.open(path)
    assert {"fcc", "hcp", "faulted"} <= set(lib.types.tolist())
    f = lib.fcc_fraction
    assert (f[lib.types == "fcc"] == 1).all() and (f[lib.types == "hcp"] == 0).all()
    faulted = f[lib.types == "faulted"]
    assert ((faulted > 0) & (faulted < 1)).all()
