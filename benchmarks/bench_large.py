"""Benchmark: fitting clusters of 200–2,000 atoms (the size extension's workload).

Fits ``--n`` candidates spread evenly over 200–2,000 atoms against the shipped JQ_S1
data with :func:`deepstruc_gui.model.size_extension.fit_sized` (sorted by size,
batches bounded by a pair budget, streamed), and prints:

* wall time, candidates per second, peak memory (max RSS) and the total pair count;
* where the time goes: the pair histogram (``debye.pair_histogram`` on the same
  clusters, timed alone) against the rest of the fit (tables, Levenberg–Marquardt);
* how the cost grows with N: seconds per candidate at N = 200, 500, 1,000, 2,000 and
  the fitted exponent (pairs grow as N²);
* in the same run, the reference: the same number of 200-atom candidates, and the
  ratio of the two.

    OMP_NUM_THREADS=2 python benchmarks/bench_large.py [--n 1000] [--threads 2]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import torch
from ase.cluster import Octahedron

from deepstruc_gui.model.size_extension import PAIR_BUDGET, fit_sized
from deepstruc_gui.science.debye import pad_structures, pair_histogram
from deepstruc_gui.science.fitting import FitConfig
from deepstruc_gui.science.parameters import parameters_from_metadata
from deepstruc_gui.science.pdf_io import read_pdf

ROOT = Path(__file__).resolve().parents[1]
PT_BOND = 2.775


def clusters(sizes, seed: int = 0) -> list[np.ndarray]:
    """Compact Pt clusters of the given atom counts, cut from one large octahedron and
    jittered (0.03 Å), so every candidate is distinct."""
    rng = np.random.default_rng(seed)
    big = Octahedron("Pt", 21, 7, latticeconstant=PT_BOND * np.sqrt(2)).positions
    big = big - big.mean(0)
    order = np.argsort(np.linalg.norm(big, axis=1) + rng.normal(scale=1e-3, size=len(big)))
    return [big[order[:n]] + rng.normal(scale=0.03, size=(n, 3)) for n in sizes]


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def histogram_seconds(structures, n_bins: int, r_cut: float, pair_budget: int) -> float:
    """The pair-histogram part alone, batched as fit_sized batches."""
    t0 = time.perf_counter()
    order = np.argsort([len(s) for s in structures])
    start = 0
    while start < len(order):
        n = len(structures[order[min(start + 255, len(order) - 1)]])
        batch = int(np.clip(pair_budget // max(n * (n - 1) // 2, 1), 1, 256))
        chunk = [structures[i] for i in order[start : start + batch]]
        pos, mask = pad_structures(chunk, torch.float32)
        pair_histogram(pos, mask, 0.01, n_bins, 0.0, r_cut)
        start += batch
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="candidates of 200–2,000 atoms")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scaling", type=int, default=6, help="candidates per scaling size")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = read_pdf(ROOT / "resources" / "examples" / "JQ_S1.gr")
    config = FitConfig(params=parameters_from_metadata(data.metadata))
    r_cut = config.params.rcalc_high / config.expansion_bounds[0]
    n_bins = int(np.ceil(r_cut / 0.01)) + 3

    sizes = np.linspace(200, 2000, args.n).round().astype(int)
    large = clusters(sizes)
    pairs = int(sum(n * (n - 1) // 2 for n in sizes))
    fit_sized(data, large[:2], config)  # warm the data-side tables
    chunks = []
    t0 = time.perf_counter()
    fitted = fit_sized(data, large, config, on_chunk=lambda idx, _r: chunks.append(len(idx)))
    t_large = time.perf_counter() - t0
    t_hist = histogram_seconds(large, n_bins, r_cut, PAIR_BUDGET)
    print(f"{args.n} candidates of 200–2,000 atoms (threads {args.threads}):")
    print(
        f"  fit {t_large:.1f} s ({args.n / t_large:.1f} per s) in {len(chunks)} streamed "
        f"batches; {pairs / 1e9:.2f} G pairs, {t_large / pairs * 1e9:.1f} ns per pair; "
        f"peak RSS {peak_rss_gb():.2f} GB; best Rw {fitted['rw'].min():.3f}"
    )
    print(
        f"  pair histogram alone {t_hist:.1f} s ({t_hist / t_large:.0%} of the fit; "
        f"{t_hist / pairs * 1e9:.1f} ns per pair); the rest (tables, LM) "
        f"{t_large - t_hist:.1f} s"
    )

    print("cost per candidate against N:")
    per = []
    grid = (200, 500, 1000, 2000)
    for n in grid:
        batch = clusters([n] * args.scaling, seed=n)
        t0 = time.perf_counter()
        fit_sized(data, batch, config)
        per.append((time.perf_counter() - t0) / args.scaling)
        print(f"  N {n:>5}: {per[-1] * 1e3:8.1f} ms per candidate")
    slope = np.polyfit(np.log(grid), np.log(per), 1)[0]
    print(f"  grows as N^{slope:.2f} (pairs: N^2; fixed per-candidate work flattens it at small N)")

    small = clusters([200] * args.n, seed=1)
    t0 = time.perf_counter()
    fit_sized(data, small, config)
    t_small = time.perf_counter() - t0
    print(
        f"reference, same run: {args.n} candidates of 200 atoms {t_small:.1f} s; "
        f"200–2,000 atoms costs {t_large / t_small:.1f}× that "
        f"(pairs {pairs / (args.n * 199 * 100):.1f}×)"
    )


if __name__ == "__main__":
    main()
