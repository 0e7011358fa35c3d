"""Training libraries: contents, first peaks, graphs, split, determinism, resuming, CLI."""

from __future__ import annotations

import hashlib

import h5py
import numpy as np
import pytest

from deepstruc_gui.cli.main import main
from deepstruc_gui.model import library as library_module
from deepstruc_gui.model.library import Library, LibraryError, build_library, stratified_split
from deepstruc_gui.science.clusters import CLUSTER_TYPES
from deepstruc_gui.science.elements import nearest_neighbour_distance
from deepstruc_gui.science.structures import DuplicateFilter, mean_bond_length

SMALL = {"metals": ["Zn", "Pt", "W"], "max_atoms": 40, "progress": False}  # W shares Pt's bond


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def first_peak(r: np.ndarray, g: np.ndarray, threshold: float = 0.3) -> float:
    """Position of the first local maximum above ``threshold`` (G is max-normalised)."""
    inner = (g[1:-1] >= g[:-2]) & (g[1:-1] >= g[2:]) & (g[1:-1] > threshold)
    return float(r[1:-1][np.argmax(inner)])


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("lib") / "small.h5"
    return build_library("mmnp", path, **SMALL)


@pytest.fixture(scope="module")
def stacking(tmp_path_factory):
    path = tmp_path_factory.mktemp("lib") / "stacking.h5"
    return build_library("stacking", path, metals=["Au"], max_atoms=60, progress=False)


def test_entries_are_the_metals_clusters(small) -> None:
    with Library.open(small) as lib:
        assert lib.kind == "mmnp" and set(lib.types.tolist()) == set(CLUSTER_TYPES)
        assert len(lib) == 2 * len(lib.indices()) // 2 and len(lib) > 80
        assert sorted(set(lib.metals.tolist())) == ["W", "Zn"]  # W named first, stands for Pt
        assert lib.pdfs.shape == (len(lib), 2800) and lib.pdfs.dtype == np.float32
        assert np.allclose(lib.pdfs.max(axis=1), 1.0)
        assert ((lib.n_atoms >= 5) & (lib.n_atoms <= 40)).all()
        assert len(set(lib.names.tolist())) == len(lib)
        e = lib.entry(int(np.flatnonzero(lib.metals == "W")[0]))
        assert e.metals == ["W", "Pt"] and e.nn_distance == pytest.approx(2.60)
        assert e.name.endswith("_W_2.60") and e.name.startswith(e.type)
        assert e.sequence == "" and np.isnan(e.fcc_fraction)
        assert e.positions.shape == (e.n_atoms, 3) and set(e.size_params) <= {"h", "k", "l"}
        fcc = [n for n in lib.names if n.startswith("fcc_h2_k2_l2_Zn")]
        assert fcc == ["fcc_h2_k2_l2_Zn_2.42"]


def test_geometry_first_peak_and_graphs(small) -> None:
    with Library.open(small) as lib:
        r = lib.parameters.r_grid
        assert r[0] == pytest.approx(2.0) and r[-1] == pytest.approx(29.99)
        for i in range(len(lib)):
            e = lib.entry(i)
            assert e.nn_distance == pytest.approx(nearest_neighbour_distance(e.metal), abs=1e-6)
            assert np.allclose(e.positions.mean(axis=0), 0, atol=1e-4)
            d = np.linalg.norm(e.positions[:, None] - e.positions[None], axis=-1)
            assert mean_bond_length(e.positions) == pytest.approx(e.nn_distance, abs=1e-4)
            if e.type not in ("icosahedral", "decahedral"):  # those are strained
                assert d[d > 0].min() == pytest.approx(e.nn_distance, abs=1e-4), e.name
            assert abs(first_peak(r, e.pdf) - e.nn_distance) <= 0.03, e.name
            # edges: exactly the pairs closer than 1.02 × the bond, both directions
            close = (d < 1.02 * e.nn_distance) & (d > 0)
            assert e.edge_index.shape == (2, int(close.sum()))
            assert close[e.edge_index[0], e.edge_index[1]].all()
            assert np.allclose(e.edge_length, d[e.edge_index[0], e.edge_index[1]], atol=1e-4)


def test_no_duplicates_survive(small) -> None:
    seen = DuplicateFilter(tolerance=1e-3)
    with Library.open(small) as lib:
        assert all(seen.add(lib.types[i], lib.structure(i)) for i in range(len(lib)))


def test_split_is_stratified_stored_and_reproducible(small) -> None:
    types = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    s1 = stratified_split(types, 3)
    assert (s1 == stratified_split(types, 3)).all() and not (s1 == stratified_split(types, 4)).all()
    for t in "abc":
        sel = np.array(types) == t
        assert np.allclose(np.bincount(s1[sel], minlength=3) / sel.sum(), [0.6, 0.2, 0.2])
    with Library.open(small) as lib:
        assert (lib.split == stratified_split(lib.types.tolist(), 0)).all()
        for t in set(lib.types.tolist()):
            counts = np.bincount(lib.split[lib.types == t], minlength=3)
            n = counts.sum()
            assert abs(counts[0] - 0.6 * n) <= 1 and abs(counts[2] - 0.2 * n) <= 1
        parts = [lib.indices(s) for s in ("train", "val", "test")]
        assert sorted(np.concatenate(parts).tolist()) == list(range(len(lib)))
        assert lib.entry(int(parts[2][0])).split == "test"
        with pytest.raises(ValueError):
            lib.indices("training")


def test_build_is_deterministic_and_resumable(small, tmp_path, monkeypatch) -> None:
    again = build_library("mmnp", tmp_path / "again.h5", **SMALL)
    assert sha256(again) == sha256(small)  # same command, same bytes

    # interrupt after the first PDF chunk …
    monkeypatch.setattr(library_module, "PDF_CHUNK", 40)
    real = library_module.simulate_pdfs
    calls = []

    interrupt_at = [2]

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == interrupt_at[0]:
            raise KeyboardInterrupt  # what Ctrl-C raises
        return real(*args, **kwargs)

    monkeypatch.setattr(library_module, "simulate_pdfs", flaky)
    out = tmp_path / "resumed.h5"
    with pytest.raises(KeyboardInterrupt):
        build_library("mmnp", out, **SMALL)
    partial = out.with_name("resumed.h5.partial")
    assert not out.exists() and partial.exists()
    with h5py.File(partial) as f:
        assert f.attrs["entries_done"] and f.attrs["pdf_chunks_done"] == 1

    # … and resume: no shape is rebuilt, only the missing chunks are simulated
    def no_shapes(*args, **kwargs):
        raise AssertionError("the resumed build rebuilt the clusters")

    make_entries = library_module.mmnp_entries
    monkeypatch.setattr(library_module, "mmnp_entries", no_shapes)
    calls.clear()
    interrupt_at[0] = 0
    build_library("mmnp", out, **SMALL)
    with Library.open(out) as lib:
        assert len(calls) == -(-len(lib) // 40) - 1 and not partial.exists()
    # the same bytes as a build that was never interrupted
    monkeypatch.setattr(library_module, "mmnp_entries", make_entries)
    assert sha256(build_library("mmnp", tmp_path / "whole.h5", **SMALL)) == sha256(out)


def test_a_stale_partial_file_is_not_reused(tmp_path) -> None:
    out = tmp_path / "lib.h5"
    with h5py.File(out.with_name("lib.h5.partial"), "w") as f:
        f.attrs["build"] = "another build"
        f.attrs["entries_done"] = True
    path = build_library("stacking", out, metals=["Pt"], max_atoms=30, progress=False)
    with Library.open(path) as lib:
        assert len(lib) > 10


def test_build_rejects_bad_input(tmp_path) -> None:
    with pytest.raises(ValueError, match="Xx"):
        build_library("mmnp", tmp_path / "x.h5", metals=["Xx"], progress=False)
    with pytest.raises(ValueError, match="unknown library"):
        build_library("binary", tmp_path / "x.h5", progress=False)
    with pytest.raises(ValueError, match="at least 5"):
        build_library("mmnp", tmp_path / "x.h5", max_atoms=4, progress=False)
    assert not list(tmp_path.iterdir())


def test_stacking_library(stacking) -> None:
    with Library.open(stacking) as lib:
        assert lib.kind == "stacking" and set(lib.types.tolist()) == {"fcc", "hcp", "faulted"}
        f = lib.fcc_fraction
        assert (f[lib.types == "fcc"] == 1).all() and (f[lib.types == "hcp"] == 0).all()
        faulted = f[lib.types == "faulted"]
        assert ((faulted > 0) & (faulted < 1)).all()
        r = lib.parameters.r_grid
        for i in range(0, len(lib), 9):
            e = lib.entry(i)
            assert e.name.startswith(e.sequence + "_") and e.name.endswith("_Au_2.68")
            assert e.metals == ["Nb", "Ag", "Ta", "Au"] and e.size_params["layers"] == len(
                e.sequence
            )
            assert abs(first_peak(r, e.pdf) - 2.68) <= 0.03, e.name
            assert e.edge_index.shape[1] > 0 and np.allclose(e.edge_length.max(), 2.68, atol=1e-3)


def test_open_errors_name_the_file(tmp_path) -> None:
    with pytest.raises(LibraryError, match=r"missing\.h5: no such library file"):
        Library.open(tmp_path / "missing.h5")
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    with pytest.raises(LibraryError, match=r"text\.h5: not an HDF5 file"):
        Library.open(text)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = [1, 2]
    with pytest.raises(LibraryError, match=r"other\.h5: not a DeepStruc library"):
        Library.open(other)


def test_data_cli(small, stacking, tmp_path, capsys) -> None:
    assert main(["data", "info", str(small)]) == 0
    out = capsys.readouterr().out
    assert "mmnp library" in out and "split: train" in out and "PDF parameters" in out
    for t in CLUSTER_TYPES:
        assert t in out
    assert main(["data", "info", str(stacking)]) == 0
    assert "faulted" in capsys.readouterr().out
    bad = tmp_path / "x.h5"
    bad.write_text("not hdf5")
    assert main(["data", "info", str(bad)]) == 2
    assert "x.h5" in capsys.readouterr().err
    assert main(["data", "build", "--library", "mmnp", "--metals", "Xx", "-o", str(tmp_path)]) == 2
    assert "Xx" in capsys.readouterr().err
    args = ["data", "build", "--library", "stacking", "--metals", "Pt", "--max-atoms", "30"]
    assert main([*args, "-q", "-o", str(tmp_path)]) == 0
    assert (tmp_path / "stacking.h5").is_file() and "clusters" in capsys.readouterr().out
