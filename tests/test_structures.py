"""Structure helpers: ase round trips, file reading errors, graphs, coordination, duplicates."""

from __future__ import annotations

import numpy as np
import pytest

from deepstruc_gui.science.structures import (
    DuplicateFilter,
    StructureReadError,
    centred,
    coordination_numbers,
    from_atoms,
    nearest_neighbour_distance,
    neighbour_edges,
    read_positions,
    read_structure,
    sorted_pair_distances,
    to_atoms,
)


def fcc_block(n: int = 3, d: float = 2.0) -> np.ndarray:
    """Cube of n×n×n fcc unit cells with bond length d (for coordination checks)."""
    a = d * np.sqrt(2)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cells = np.array([(i, j, k) for i in range(n) for j in range(n) for k in range(n)])
    return ((cells[:, None, :] + basis[None]) * a).reshape(-1, 3)


def test_centred_and_ase_round_trip() -> None:
    p = np.array([[0.0, 0, 0], [2.0, 0, 0], [0, 4.0, 0]])
    c = centred(p)
    assert np.allclose(c.mean(axis=0), 0) and np.allclose(c[1] - c[0], [2, 0, 0])
    atoms = to_atoms(p, "Au")
    assert atoms.get_chemical_symbols() == ["Au"] * 3 and not atoms.pbc.any()
    back, symbols = from_atoms(atoms)
    assert np.allclose(back, c) and symbols == ["Au"] * 3
    raw, _ = from_atoms(atoms, centre=False)
    assert np.allclose(raw, p)


def test_read_structure_formats_and_errors(tmp_path) -> None:
    import ase.io

    p = fcc_block(2)
    for name in ("c.xyz", "c.cif", "c.pdb"):
        path = tmp_path / name
        ase.io.write(path, to_atoms(p, "Pt"))
        positions, symbols = read_positions(path)
        assert positions.shape == p.shape and set(symbols) == {"Pt"}
        assert np.allclose(sorted_pair_distances(positions), sorted_pair_distances(p), atol=5e-3)

    missing = tmp_path / "missing.xyz"
    with pytest.raises(StructureReadError, match=r"missing\.xyz: no such file"):
        read_structure(missing)
    junk = tmp_path / "junk.xyz"
    junk.write_text("this is\nnot a structure\n")
    with pytest.raises(StructureReadError, match=r"junk\.xyz: not a structure file"):
        read_structure(junk)
    single = tmp_path / "one.xyz"
    ase.io.write(single, to_atoms(p[:1], "Pt"))
    with pytest.raises(StructureReadError, match=r"one\.xyz: .*at least 2 atoms, found 1"):
        read_structure(single)
    with pytest.raises(StructureReadError, match="not a file"):
        read_structure(tmp_path)
    assert issubclass(StructureReadError, ValueError)


def test_neighbour_edges_follow_the_cutoff() -> None:
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 6, size=(40, 3))
    edges, lengths = neighbour_edges(p, 1.5)
    d = np.linalg.norm(p[:, None] - p[None], axis=-1)
    expected = {(i, j) for i in range(40) for j in range(40) if i != j and d[i, j] < 1.5}
    assert set(map(tuple, edges.T.tolist())) == expected
    assert edges.shape[1] == len(expected)  # each directed edge once
    assert np.allclose(lengths, d[edges[0], edges[1]])
    order = np.lexsort((edges[1], edges[0]))
    assert (order == np.arange(len(order))).all()  # sorted: reproducible arrays
    # exactly at the cutoff is not an edge ("closer than")
    e, _ = neighbour_edges(np.array([[0.0, 0, 0], [1.0, 0, 0]]), 1.0)
    assert e.shape == (2, 0)
    for few in (np.zeros((0, 3)), np.zeros((1, 3))):
        e, ln = neighbour_edges(few, 2.0)
        assert e.shape == (2, 0) and ln.shape == (0,)


def test_coordination_and_bond_length() -> None:
    p = fcc_block(3, d=2.5)
    cn = coordination_numbers(p, 1.1 * 2.5)
    assert cn.max() == 12 and (cn == 12).sum() > 0 and cn.min() >= 3
    assert nearest_neighbour_distance(p) == pytest.approx(2.5)
    assert np.isnan(nearest_neighbour_distance(p[:1]))


def test_duplicate_filter_ignores_rotation_and_order_not_scale() -> None:
    rng = np.random.default_rng(0)
    p = fcc_block(2)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))  # a random rotation (or reflection)
    moved = (p @ q.T + 5.0)[rng.permutation(len(p))]
    seen = DuplicateFilter(tolerance=1e-6)
    assert seen.add("fcc", p)
    assert not seen.add("fcc", moved)  # same cluster, other place/orientation/order
    assert seen.add("sc", p)  # the key (type) is part of the identity
    assert seen.add("fcc", p * 1.01)  # another bond length is another cluster
    assert seen.add("fcc", p[:-1])
