"""Measure the ``beyond-training-size`` warning: false alarms on the training
libraries' own shapes and detection of larger particles, with the diameter error.

    PYTHONPATH=. OMP_NUM_THREADS=1 python scripts/measure_size_warning.py [--quick]

Library-like: every distinct shape of the seven-type library (≤ 200 atoms) and of
the stacking library, at three bond lengths (2.50, 2.77, 2.88 Å), simulated with the
training parameters, clean and with 2 % Gaussian noise, and with Qdamp 0.03/0.05
(header given). Large: ase.cluster octahedra, truncated octahedra, cuboctahedra,
FaceCenteredCubic Wulff-like, icosahedra and decahedra (Marks and Ino) of 300–2,300
atoms (Pt). The "true" diameter is the volume-equivalent one (close packing); the
diameter shown is the one the warning reports (``assess_size``). Prints tables; takes a
few minutes on two cores (building the library shapes is most of it). Where the
envelope is ambiguous the warning rests on the search's result instead: measured by
``scripts/measure_size_evidence.py`` (whole searches).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from ase.cluster import Decahedron, FaceCenteredCubic, Icosahedron, Octahedron

from deepstruc_gui.model.bundle import ModelBundle, resolve_model
from deepstruc_gui.model.diagnostics import assess_size, diagnose_data
from deepstruc_gui.science.debye import simulate_pdf, simulate_pdfs
from deepstruc_gui.science.parameters import TRAINING_PARAMETERS
from deepstruc_gui.science.particle_size import volume_equivalent_diameter
from deepstruc_gui.science.pdf_io import PDFData

PT = 3.92


def flagged(r, g, meta, qdamp=None) -> tuple[bool, str]:
    metadata = {} if qdamp is None else {"qdamp": qdamp}
    found = [
        w
        for w in diagnose_data(PDFData(None, r, g, metadata=metadata), meta)
        if w.code == "beyond-training-size"
    ]
    return bool(found), (found[0].message if found else "")


def large_clusters():
    surfaces = [(1, 0, 0), (1, 1, 0), (1, 1, 1)]
    out = [
        (f"octahedron L{n}", Octahedron("Pt", n, latticeconstant=PT)) for n in (8, 9, 11, 13, 15)
    ]
    out += [
        (f"trunc. octahedron L{n} c{c}", Octahedron("Pt", n, cutoff=c, latticeconstant=PT))
        for n, c in ((9, 2), (9, 3), (11, 4), (13, 4), (15, 5))
    ]
    out += [
        (f"fcc {lay}", FaceCenteredCubic("Pt", surfaces, lay, latticeconstant=PT))
        for lay in ((5, 6, 5), (6, 7, 6), (8, 9, 8), (10, 11, 10))
    ]
    out += [
        (f"icosahedron {s} shells", Icosahedron("Pt", s, latticeconstant=PT)) for s in (5, 6, 7, 8)
    ]
    # Decahedron(p, q, r): p atoms along the (100) edges normal to the axis, q along the
    # axis, r the depth of the Marks re-entrance (r = 0 with q > 1: Ino decahedra)
    out += [
        (f"decahedron {p}{q}{r}", Decahedron("Pt", p, q, r, latticeconstant=PT))
        for p, q, r in (
            (6, 3, 0),
            (4, 4, 1),
            (3, 5, 2),
            (4, 3, 2),
            (2, 4, 3),
            (7, 2, 1),
            (3, 3, 3),
            (5, 3, 2),
            (6, 5, 1),
            (5, 5, 2),
            (3, 4, 4),
            (8, 2, 2),
            (5, 4, 3),
            (6, 6, 2),
        )
    ]
    return [(n, a) for n, a in out if 300 <= len(a) <= 2300]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="one bond length, no stacking")
    parser.add_argument(
        "--only", choices=("large", "mmnp", "stacking"), default=None, help="one part only"
    )
    parser.add_argument("--bonds", type=float, nargs="+", default=[2.50, 2.77, 2.88])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    params = TRAINING_PARAMETERS
    if args.only in (None, "large"):
        measure_large(params, rng)
    from deepstruc_gui.science.clusters import unique_shapes
    from deepstruc_gui.science.stacking import stacked_shapes

    kinds = [("mmnp", lambda: [s.positions for s in unique_shapes(5, 200)])]
    if not args.quick:
        kinds.append(("stacking", lambda: [s.positions for s in stacked_shapes()]))
    for kind, build in kinds:
        if args.only not in (None, kind):
            continue
        measure_library(kind, build, (2.77,) if args.quick else args.bonds, params, rng)


def measure_large(params, rng) -> None:
    print("== large particles (Pt), training parameters, header Qdamp given")
    print(
        f"{'cluster':28s} {'atoms':>5s} {'true Å':>7s} {'est Å':>6s} {'±':>5s} {'ratio':>5s} warn"
    )
    meta = ModelBundle.load(resolve_model("mmnp")).metadata
    stats: dict[str, list[tuple[int, float, bool]]] = {}
    for name, atoms in large_clusters():
        r, g = simulate_pdf(atoms, params)
        for noise in (0.0, 0.02):
            gn = g + noise * np.abs(g).max() * rng.standard_normal(g.size)
            data = PDFData(None, r, gn, metadata={"qdamp": params.qdamp})
            size = assess_size(data, meta)
            d, err = size.diameter, size.uncertainty
            truth = volume_equivalent_diameter(len(atoms), PT / np.sqrt(2))
            hit, _ = flagged(r, gn, meta, params.qdamp)
            family = name.split()[0] if name.startswith(("icosa", "deca")) else "single"
            stats.setdefault(family, []).append((len(atoms), d / truth, hit))
            print(
                f"{name + (' +2%' if noise else ''):28s} {len(atoms):5d} {truth:7.1f} {d:6.1f} "
                f"{err:5.1f} {d / truth:5.2f} {'yes' if hit else 'NO'}"
                f"{f' ({size.twin_kind})' if size.twinned else ''}"
            )
    for family, rows in stats.items():
        ratios = [q for _, q, _ in rows]
        warned = [(n, q) for n, q, h in rows if h]
        within = sum(abs(q - 1) <= 0.2 for _, q in warned)
        print(
            f"{family}: {min(n for n, _, _ in rows)}–{max(n for n, _, _ in rows)} atoms, "
            f"ratio {min(ratios):.2f}–{max(ratios):.2f}, warned {len(warned)}/{len(rows)}, "
            f"warned and within ±20 %: {within}/{len(rows)}"
        )


def measure_library(kind, build, bonds, params, rng) -> None:
    t0 = time.perf_counter()
    shapes = build()
    meta = ModelBundle.load(resolve_model(kind)).metadata
    print(f"== {kind}: {len(shapes)} shapes built in {time.perf_counter() - t0:.0f} s")
    total = alarms = 0
    worst = []
    for bond in bonds:
        for qdamp, noise in ((0.04, 0.0), (0.04, 0.02), (0.03, 0.0), (0.05, 0.02)):
            p = params.replace(qdamp=qdamp)
            curves = simulate_pdfs([s * bond for s in shapes], p)
            for i, g in enumerate(curves):
                gn = g + noise * np.abs(g).max() * rng.standard_normal(g.size)
                hit, message = flagged(p.r_grid, gn, meta, qdamp)
                total += 1
                alarms += hit
                if hit:
                    worst.append((len(shapes[i]), bond, qdamp, noise, message[:90]))
            print(f"  bond {bond} Qdamp {qdamp} noise {noise}: {alarms}/{total} so far", flush=True)
    print(f"false alarms: {alarms}/{total} = {100 * alarms / total:.2f} %")
    for w in worst[:10]:
        print("  ", w)


if __name__ == "__main__":
    main()
