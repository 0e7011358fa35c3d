"""Benchmark: 1000 PDFs and a 1000-candidate fit of 200-atom clusters.

Prints wall times and, in the same run, the ratio to the public DebyeCalculator
computing the same 1000 PDFs one call each (the reference the issue names).

    python benchmarks/bench_pdf_fit.py [--n 1000] [--atoms 200] [--reference-n 200]

It then repeats both with two elements (every other atom Au in Pt clusters: three
element-pair tables, Q-dependent X-ray form factors) and prints the cost ratio.

DebyeCalculator is optional; install it for the benchmark only:
    pip install --no-deps debyecalculator==1.1.1 pyyaml ipywidgets
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch
from ase.cluster import Decahedron, FaceCenteredCubic, Icosahedron, Octahedron

from deepstruc_gui.science.debye import PDFParameters, simulate_pdf, simulate_pdfs
from deepstruc_gui.science.fitting import FitConfig, fit_candidates


def clusters(n: int, atoms: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` jittered metal clusters of exactly ``atoms`` atoms (cut from larger shapes)."""
    rng = np.random.default_rng(seed)
    shapes = [
        Icosahedron("Pt", 5).positions,
        Decahedron("Pt", 4, 3, 1).positions,
        Octahedron("Pt", 9, 3).positions,
        FaceCenteredCubic("Pt", [(1, 0, 0), (1, 1, 0), (1, 1, 1)], [6, 7, 6]).positions,
    ]
    out = []
    for i in range(n):
        s = shapes[i % len(shapes)]
        s = s - s.mean(0)
        keep = np.argsort(np.linalg.norm(s, axis=1))[:atoms]  # the most compact `atoms`
        x = s[keep] * rng.uniform(0.9, 1.1) + rng.normal(scale=0.03, size=(atoms, 3))
        out.append(x)
    return out


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--atoms", type=int, default=200)
    parser.add_argument(
        "--reference-n",
        type=int,
        default=1000,
        help="how many PDFs DebyeCalculator computes (scaled to --n)",
    )
    args = parser.parse_args()
    params = PDFParameters()
    structures = clusters(args.n, args.atoms)
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"device {'cuda' if torch.cuda.is_available() else 'cpu'}"
    )
    print(
        f"{args.n} clusters of {args.atoms} atoms; Qmin {params.qmin}, Qmax {params.qmax}, "
        f"r {params.rmin}–{params.rmax} step {params.rstep}"
    )

    simulate_pdfs(structures[:8], params)  # warm-up (kernels, threads)
    t_pdf, _ = timed(lambda: simulate_pdfs(structures, params), repeat=2)
    print(f"ours: {args.n} PDFs                 {t_pdf:7.2f} s")

    truth = structures[7] * 1.03
    r, g = simulate_pdf(truth, params.replace(biso=0.6))
    g = g + np.random.default_rng(1).normal(scale=0.01 * g.max(), size=g.shape)
    t_fit, result = timed(lambda: fit_candidates(structures, r, g, FitConfig(params=params)))
    best = int(result.ranking()[0])
    print(
        f"ours: fit {args.n} candidates       {t_fit:7.2f} s "
        f"(best #{best}, Rw {result.rw[best]:.4f}, expansion {result.expansion[best]:.4f}, "
        f"Biso {result.biso[best]:.3f}; planted #7)"
    )
    # two elements: every other atom Au, X-ray form factors
    two = [["Pt", "Au"] * (args.atoms // 2) + ["Pt"] * (args.atoms % 2) for _ in structures]
    simulate_pdfs(structures[:8], params, elements=two[:8])
    t_pdf2, _ = timed(lambda: simulate_pdfs(structures, params, elements=two), repeat=2)
    ratio = t_pdf2 / t_pdf
    print(f"ours: {args.n} PDFs, two elements    {t_pdf2:7.2f} s  ({ratio:.2f}x one element)")
    r2, g2 = simulate_pdf(truth, params.replace(biso=0.6), elements=two[7])
    t_fit2, result2 = timed(
        lambda: fit_candidates(structures, r2, g2, FitConfig(params=params), elements=two)
    )
    best2 = int(result2.ranking()[0])
    print(
        f"ours: fit {args.n}, two elements    {t_fit2:7.2f} s  ({t_fit2 / t_fit:.2f}x one element; "
        f"best #{best2}, Rw {result2.rw[best2]:.4f})"
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory                {peak_mb:7.0f} MB")

    try:
        from debyecalculator import DebyeCalculator
    except ImportError:
        print(
            "DebyeCalculator not installed: no reference ratio "
            "(pip install --no-deps debyecalculator==1.1.1 pyyaml ipywidgets)"
        )
        return
    from ase import Atoms

    calc = DebyeCalculator(
        qmin=params.qmin,
        qmax=params.qmax,
        rmin=params.rmin,
        rmax=params.rmax,
        rstep=params.rstep,
        biso=params.biso,
        qdamp=params.qdamp,
        device="cpu",
    )
    n_ref = min(args.reference_n, args.n)
    atoms = [Atoms(f"Pt{args.atoms}", positions=s) for s in structures[:n_ref]]
    calc.gr(atoms[0])  # warm-up
    t_ref, _ = timed(lambda: [calc.gr(a) for a in atoms])
    t_ref *= args.n / n_ref
    print(
        f"DebyeCalculator: {args.n} PDFs, one call each {t_ref:7.2f} s"
        f"{'' if n_ref == args.n else f' (measured on {n_ref}, scaled)'}"
    )
    print(
        f"ratio PDFs  ours / DebyeCalculator  {t_pdf / t_ref:7.3f}  ({t_ref / t_pdf:.1f}x faster)"
    )
    print(
        f"ratio fit   ours / DebyeCalculator  {t_fit / t_ref:7.3f}  "
        f"(goal < 1: the whole fit faster than their PDFs alone)"
    )


if __name__ == "__main__":
    main()
