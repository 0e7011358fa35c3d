"""Measure Qmax read from termination ripples (``science.termination.estimate_qmax``).

    PYTHONPATH=. OMP_NUM_THREADS=1 python scripts/measure_qmax_estimate.py

Simulated: library-sized and larger clusters (Pt bond 2.77 Å) with our Debye engine at
Qmax 14–30 Å⁻¹, Biso 0.3/1.0/2.5 Å², Qdamp 0.04, three noise kinds: none, white noise
in r (2 % of |G|max: the hard case, it fills every Q) and noise in F(Q) growing like Q
(5 % and 20 % of |F|max at Qmax: how measured data carry it, cut at Qmax with the
signal). Measured and field files whose header gives Qmax. Prints, per setting, how
often an estimate is given and how far it lies from the true Qmax.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from ase.cluster import Decahedron, Icosahedron, Octahedron

from deepstruc_gui.science import termination
from deepstruc_gui.science.clusters import build_cluster
from deepstruc_gui.science.debye import envelope, simulate_pdf, sine_transform_matrix
from deepstruc_gui.science.parameters import TRAINING_PARAMETERS
from deepstruc_gui.science.pdf_io import PDFReadError, read_pdf
from deepstruc_gui.science.termination import estimate_qmax

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def structures():
    bond = 2.77
    out = [
        ("fcc 3-4-4", build_cluster("fcc", {"h": 3, "k": 4, "l": 4}, bond)),
        ("hcp 2-3-4", build_cluster("hcp", {"s1": 2, "s2": 3, "s3": 4}, bond)),
        ("bcc 3-4-5", build_cluster("bcc", {"h": 3, "k": 4, "l": 5}, bond)),
        ("icosahedron 3", build_cluster("icosahedral", {"shells": 3}, bond)),
        ("octahedron 85", Octahedron("Pt", 5, latticeconstant=3.92).get_positions()),
        ("decahedron 5-3-2", Decahedron("Pt", 5, 3, 2, latticeconstant=3.92).get_positions()),
        ("icosahedron 309", Icosahedron("Pt", 5, latticeconstant=3.92).get_positions()),
    ]
    return out


def q_noise_pdf(positions, params, level, rng):
    """G(r) from F(Q) with noise ∝ Q added before the transform (cut at Qmax with it)."""
    from deepstruc_gui.science.debye import DebyeEngine, pad_structures

    engine = DebyeEngine(params, dtype=torch.float64, device="cpu")
    pos, mask = pad_structures([positions], torch.float64)
    with torch.inference_mode():
        f = engine.structure_function(pos, mask).numpy()[0]
    q = params.q_grid
    f = f + level * np.abs(f).max() * (q / params.qmax) * rng.standard_normal(f.size)
    transform = sine_transform_matrix(params, params.r_grid) * envelope(params, params.r_grid)
    return params.r_grid, f @ transform


def measure_simulated(rng) -> list[tuple]:
    rows = []
    for name, positions in structures():
        for qmax in (14.0, 16.0, 18.0, 20.0, 22.0, 25.0, 28.0, 30.0):
            for biso in (0.3, 1.0, 2.5):
                params = TRAINING_PARAMETERS.replace(qmax=qmax, biso=biso)
                r, g = simulate_pdf(positions, params)
                scale = np.abs(g).max()
                variants = {
                    "clean": g,
                    "white 2%": g + 0.02 * scale * rng.standard_normal(g.size),
                }
                for level in (0.05, 0.2):
                    variants[f"F(Q) {level:.0%}"] = q_noise_pdf(positions, params, level, rng)[1]
                for kind, gv in variants.items():
                    est = estimate_qmax(r, gv)
                    rows.append((name, qmax, biso, kind, est))
    return rows


def summarise(rows) -> None:
    print(f"{'setting':28s} {'cases':>5s} {'answered':>8s} {'within 10 %':>11s} {'worst':>6s}")
    keys = {}
    for _name, qmax, biso, kind, est in rows:
        keys.setdefault((kind, biso), []).append((qmax, est))
        keys.setdefault((kind, "all"), []).append((qmax, est))
    for (kind, biso), items in keys.items():
        answered = [(q, e) for q, e in items if e is not None]
        errors = [abs(e.qmax / q - 1) for q, e in answered]
        within = sum(x <= 0.1 for x in errors)
        worst = max(errors) if errors else float("nan")
        label = f"{kind}, Biso {biso}"
        print(
            f"{label:28s} {len(items):5d} {len(answered):8d} "
            f"{within:>5d}/{len(answered):<5d} {worst:6.1%}"
        )
    bad = [
        (n, q, b, k, e.qmax, e.contrast, e.sharpness)
        for n, q, b, k, e in rows
        if e is not None and abs(e.qmax / q - 1) > 0.1
    ]
    for row in bad[:20]:
        print("   off by > 10 %:", row)


def measure_files() -> None:
    print("== files whose header gives Qmax")
    paths = sorted((SHARED / "field-cases").glob("*.gr")) + sorted(
        (SHARED / "experimental").glob("*.gr")
    )
    for path in paths:
        try:
            data = read_pdf(path)
        except PDFReadError as exc:
            print(f"  {path.name:28s} not read: {exc.problem[:60]}")
            continue
        truth = data.metadata.get("qmax")
        est = estimate_qmax(data.r, data.g)
        shown = "none" if est is None else f"{est.qmax:5.2f}"
        extra = (
            "" if est is None else f" contrast {est.contrast:8.1f} sharpness {est.sharpness:7.1f}"
        )
        print(f"  {path.name:28s} header {truth!s:>13s}  read {shown}{extra}")


def thresholds(rows) -> None:
    """Answered and right (within 10 %) for other reporting thresholds (the estimates
    were made with the thresholds off)."""
    print("== thresholds: min contrast, min sharpness -> answered, within 10 %, worst")
    for c_min in (30, 100, 1e3, 1e4, 1e5):
        for s_min in (10, 100, 1e3, 1e4):
            kept = [
                abs(e.qmax / q - 1)
                for _, q, _, _, e in rows
                if e is not None and e.contrast >= c_min and e.sharpness >= s_min
            ]
            within = sum(x <= 0.1 for x in kept)
            worst = max(kept) if kept else float("nan")
            print(
                f"  {c_min:8.0f} {s_min:8.0f} -> {len(kept):4d}/{len(rows)}, "
                f"{within:4d}, {worst:.1%}"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files-only", action="store_true")
    parser.add_argument("--thresholds", action="store_true", help="explore the thresholds")
    args = parser.parse_args()
    if args.thresholds:
        termination.MIN_CONTRAST = termination.MIN_SHARPNESS = 0.0
    measure_files()
    if not args.files_only:
        rows = measure_simulated(np.random.default_rng(0))
        summarise(rows)
        if args.thresholds:
            thresholds(rows)


if __name__ == "__main__":
    main()
