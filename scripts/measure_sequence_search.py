"""Measure the stacking model with its sequence search on stacked clusters built
independently of the library: other patch sizes and shapes, other metals, 3–10 layers.

    PYTHONPATH=. OMP_NUM_THREADS=1 python scripts/measure_sequence_search.py [--n 40]

Each cluster is built here from its own lattice arithmetic (not science/stacking.py):
close-packed layers of a hexagonal net, each at site A, B or C of a random valid
sequence of 3–10 layers, cut by a patch around an axis through a random site —
circles and hexagons of sizes beyond the library's three each, and triangles, a
shape the library does not have — at the bond length of Ni, Cu, Pd, Pt or Ag. Its
G(r) is simulated with the training parameters (clean, or with 2 % noise) and solved
as ``predict`` does with the stacking model (region search, then the sequence
search). A stacked cluster's G(r) does not depend on its orientation, so the
structure error is the matched MAE after the best of the cluster's 24 orientations
that keep the stacking axis (z flipped or not, rotations by 60°, mirrors); "same
cluster" means equal sorted pair distances (to 1 % of a bond). Prints one row per
cluster and a summary; takes ~10 s a cluster on one thread.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from deepstruc_gui.model.evaluation import matched_mae
from deepstruc_gui.model.pipeline import SolveSettings, load_predictor, run_solve
from deepstruc_gui.science.debye import simulate_pdf
from deepstruc_gui.science.parameters import TRAINING_PARAMETERS
from deepstruc_gui.science.pdf_io import PDFData
from deepstruc_gui.science.structures import sorted_pair_distances

METALS = {"Ni": 2.49, "Cu": 2.56, "Pd": 2.75, "Pt": 2.77, "Ag": 2.89}
SITES = {"A": (0.0, 0.0), "B": (0.5, math.sqrt(3) / 6), "C": (1.0, math.sqrt(3) / 3)}


def random_sequence(n: int, rng: np.random.Generator) -> str:
    seq = str(rng.choice(list("ABC")))
    while len(seq) < n:
        seq += str(rng.choice([s for s in "ABC" if s != seq[-1]]))
    return seq


def build(sequence: str, shape: str, size: float, axis: str) -> np.ndarray:
    """Unit-bond positions: rows of the hexagonal net at each layer's site, cut by
    ``shape`` ('circle' radius, 'hexagon' apothem, 'triangle' inradius) about the
    axis through site ``axis``."""
    ax = np.array(SITES[axis])
    ij = np.array([(i, j) for i in range(-12, 13) for j in range(-12, 13)], float)
    net = np.column_stack([ij[:, 0] + 0.5 * ij[:, 1], ij[:, 1] * math.sqrt(3) / 2])
    layers = []
    for k, label in enumerate(sequence):
        xy = net + np.array(SITES[label]) - ax
        if shape == "circle":
            keep = np.hypot(xy[:, 0], xy[:, 1]) <= size + 1e-6
        else:
            sides = 6 if shape == "hexagon" else 3
            angles = np.deg2rad(90 + 360 / sides * np.arange(sides))
            normals = np.stack([np.cos(angles), np.sin(angles)], axis=1)
            keep = (xy @ normals.T).max(axis=1) <= size + 1e-6
        layers.append(np.column_stack([xy[keep], np.full(keep.sum(), k * math.sqrt(2 / 3))]))
    x = np.vstack(layers)
    return x - x.mean(axis=0)


def shape_of(x: np.ndarray) -> np.ndarray:
    """Sorted pair distances in units of the shortest one (the bond)."""
    d = sorted_pair_distances(x)
    return d / d[0]


def orientation_free_mae(pred: np.ndarray, true: np.ndarray) -> float:
    """Matched MAE (Å) after the best orientation keeping the z axis (flip, 30° turns,
    mirror); with unequal counts over the atoms paired, as ``evaluate`` counts it."""
    pred, true = pred - pred.mean(axis=0), true - true.mean(axis=0)
    best = math.inf
    for flip in (1, -1):
        for mirror in (1, -1):
            for k in range(12):
                a = k * math.pi / 6
                rot = np.array(
                    [[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]]
                )
                t = true * np.array([mirror, 1, flip]) @ rot.T
                best = min(best, matched_mae(pred, t))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    predictor = load_predictor("stacking", "cpu")
    rows = []
    while len(rows) < args.n:
        shape = str(rng.choice(["circle", "hexagon", "triangle"], p=[0.4, 0.4, 0.2]))
        size = {"circle": (1.3, 3.3), "hexagon": (1.0, 2.7), "triangle": (1.0, 2.2)}[shape]
        size = float(rng.uniform(*size))
        n_layers = int(rng.integers(3, 11))
        seq, axis = random_sequence(n_layers, rng), str(rng.choice(list("ABC")))
        unit = build(seq, shape, size, axis)
        per_layer = [np.sum(np.isclose(unit[:, 2], z)) for z in np.unique(unit[:, 2])]
        if min(per_layer) < 3 or not 20 <= len(unit) <= 450:
            continue
        metal = str(rng.choice(list(METALS)))
        truth = unit * METALS[metal]
        r, g = simulate_pdf(truth, TRAINING_PARAMETERS)
        noisy = len(rows) % 2 == 1
        if noisy:
            g = g + rng.normal(0, 0.02 * np.abs(g).max(), g.shape)
        t0 = time.perf_counter()
        result = run_solve(
            PDFData(None, r, g),
            predictor,
            SolveSettings(samples=100, search="region", fallback=False, size_extension=False),
        )
        seconds = time.perf_counter() - t0
        best = result.best
        model = next(c for c in result.candidates if c.source == "model")
        same = len(best.positions) == len(truth) and np.allclose(
            shape_of(best.positions), shape_of(truth), atol=0.01
        )
        interior = [seq[i - 1] != seq[i + 1] for i in range(1, len(seq) - 1)]
        kind = "fcc" if all(interior) else "hcp" if not any(interior) else "faulted"
        row = {
            "case": f"{seq} {shape} {size:.2f} axis {axis} {metal}",
            "atoms": len(truth),
            "noise": noisy,
            "type": kind,
            "model_mae": orientation_free_mae(model.positions, truth),
            "mae": orientation_free_mae(best.positions, truth),
            "same": bool(same),
            "type_right": best.nearest_type == kind,
            "atoms_right": abs(best.n_atoms - len(truth)) <= 0.1 * len(truth),
            "source": best.source,
            "rw": best.rw,
            "seconds": seconds,
        }
        rows.append(row)
        print(
            f"{row['case']:<42} {row['atoms']:>4} {'2%' if noisy else '  '} {kind:<8}"
            f" model {row['model_mae']:.3f} → {row['mae']:.3f} Å {'same' if same else '    '}"
            f" {best.nearest_type:<8} {best.n_atoms:>4} Rw {best.rw:.4f} {seconds:.1f} s",
            flush=True,
        )
    mae = np.array([r["mae"] for r in rows])
    print(f"\n{len(rows)} clusters; the same cluster found: {sum(r['same'] for r in rows)}")
    print(
        f"type right {np.mean([r['type_right'] for r in rows]):.1%}, atoms ±10 % "
        f"{np.mean([r['atoms_right'] for r in rows]):.1%}"
    )
    print(
        f"MAE: mean {mae.mean():.3f} ± {mae.std():.3f} Å, median {np.median(mae):.4f} Å; "
        f"model alone {np.mean([r['model_mae'] for r in rows]):.3f} Å"
    )
    for shape in ("circle", "hexagon", "triangle"):
        sel = [r for r in rows if f" {shape} " in r["case"]]
        if sel:
            m = np.array([r["mae"] for r in sel])
            print(
                f"  {shape}: {len(sel)}, same {sum(r['same'] for r in sel)}, type right "
                f"{np.mean([r['type_right'] for r in sel]):.0%}, MAE {m.mean():.3f} Å"
            )
    print(f"seconds per cluster: median {np.median([r['seconds'] for r in rows]):.1f}")


if __name__ == "__main__":
    main()
