"""Solve a measured PDF from Python, as in a Jupyter notebook.

    python docs/example_api.py [FILE] [--model mmnp] [--samples 1000]

Reads a G(r) file (default: the bundled Pt example), lets DeepStruc propose and rank
candidate structures, simulates and refits the best one, and writes it as extended
XYZ. The same pipeline as the window and ``deepstruc-gui predict``; the test suite
runs this script. Cite: Kjær, Anker et al., Digital Discovery 2, 69–80 (2023),
doi:10.1039/d2dd00086e (``deepstruc_gui.CITATION``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import deepstruc_gui as ds

EXAMPLE = Path(__file__).resolve().parents[1] / "resources" / "examples" / "JQ_S1.gr"

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("file", nargs="?", default=str(EXAMPLE))
parser.add_argument("--model", default="mmnp", help="shipped model name or bundle folder")
parser.add_argument("--samples", type=int, default=1000)
parser.add_argument("--out", default=None, help="write the best structure here (.xyz)")
args = parser.parse_args()

# 1. the data: r (Å) and G(r) (Å⁻²) arrays, and what the header says
data = ds.read_pdf(args.file)
print(f"{data.name}: {data.r.size} points, r {data.r[0]:.2f}–{data.r[-1]:.2f} Å")

# 2. the search: candidates ranked by Rw, best first
result = ds.solve(data, model=args.model, samples=args.samples, seed=0)
print(f"{len(result.candidates)} candidates ({result.search}) in {result.seconds:.1f} s")
print("parameters from:", result.parameter_sources)
for rank, c in enumerate(result.candidates[:5], 1):
    print(f"{rank:>2}  Rw {c.rw:.4f}  {c.n_atoms:>3} atoms  {c.structure_type}")

# 3. the best candidate as ase.Atoms (refined coordinates, Rw and parameters in .info)
best = result.candidates[0]
atoms = best.to_atoms()
print(f"best: {atoms.get_chemical_formula()}, Rw {atoms.info['rw']:.4f}")

# 4. its PDF with the Debye engine, and a refinement of it against the data
r, g = ds.simulate(atoms, qmax=float(data.metadata.get("qmax", 25.0)))
print(f"simulated G(r): {r.size} points, first peak at {r[g.argmax()]:.2f} Å")
refit = ds.fit(atoms, data)
print(f"refit: Rw {refit.rw:.4f}, expansion {refit.expansion:.4f}, Biso {refit.biso:.3f} Å²")

if args.out:
    atoms.write(args.out, format="extxyz")
    print(f"wrote {args.out}")
