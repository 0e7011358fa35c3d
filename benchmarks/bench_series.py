"""Series mode: frames per second with the warm start, and agreement with ``predict``.

A simulated in-situ series of 200-atom-class clusters (a decahedron heated until it
becomes an icosahedron: the bond length grows 2.77 → 2.80 Å, Biso 0.3 → 0.9 Å², 1 %
noise) is written with ``science.pdf_io.write_pdf`` into a temporary folder. The
series is solved the way ``deepstruc-gui series`` solves it (warm start from the
previous frame, full search when the fit gets worse), and ``predict``'s full search
(same seed, same samples, region then whole map when it fits nothing) runs once per
file in the same process as the reference:

* frames per second of the series (goal ≥ 1 on a 2-core CPU);
* agreement: frames whose best candidate has the reference's type and atom count
  (goal ≥ 95 %);
* the ratio of the series' time to the reference's time per frame.

``--reference-every K`` runs the reference on every K-th frame only (it costs
~10–20 s a frame on a CPU); the agreement and ratio are then over those frames.

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/bench_series.py \
        --frames 200 --reference-every 20
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

#: (type, size parameters) before and after the transition, 140–200 atoms
BEFORE = ("decahedral", {"p": 3, "q": 3, "r": 1})
AFTER = ("icosahedral", {"shells": 4})


def write_series(
    folder: Path,
    n_frames: int,
    seed: int = 0,
    noise: float = 0.01,
    transition: float = 0.5,
    before: tuple[str, dict] = BEFORE,
    after: tuple[str, dict] = AFTER,
) -> list[tuple[Path, str, int]]:
    """Write ``frame_1.gr`` … ``frame_{n}.gr``; return (path, type, atom count) of each.

    The cluster is ``before`` until the fraction ``transition`` of the series, then
    ``after``; bond length and Biso grow linearly, Gaussian noise of ``noise`` × max|G|.
    """
    from deepstruc_gui.science.clusters import build_cluster
    from deepstruc_gui.science.debye import TRAINING_PARAMETERS, simulate_pdf
    from deepstruc_gui.science.pdf_io import write_pdf

    rng = np.random.default_rng(seed)
    shapes = {kind: build_cluster(kind, params) for kind, params in (before, after)}
    out = []
    for k in range(n_frames):
        f = k / max(n_frames - 1, 1)
        kind = before[0] if f < transition else after[0]
        bond = 2.77 + 0.03 * f
        params = TRAINING_PARAMETERS.replace(biso=0.3 + 0.6 * f)
        r, g = simulate_pdf(shapes[kind] * bond, params)
        g = g + rng.normal(0.0, noise * np.abs(g).max(), g.shape)
        path = folder / f"frame_{k + 1}.gr"
        write_pdf(path, r, g, {"composition": "Pt", "qmax": params.qmax, "qdamp": params.qdamp})
        out.append((path, kind, len(shapes[kind])))
    return out


def cluster_arg(text: str | None, default: tuple[str, dict]) -> tuple[str, dict]:
    """``type:key=value,…`` (the size parameters of ``science.clusters.build_cluster``)."""
    if not text:
        return default
    kind, _, rest = text.partition(":")
    return kind, {k: int(v) for k, v in (item.split("=") for item in rest.split(",") if item)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--warm-samples", type=int, default=24)
    parser.add_argument("--reference-every", type=int, default=20)
    parser.add_argument(
        "--before", default=None, help="cluster before the transition, e.g. fcc:h=3,k=6,l=6"
    )
    parser.add_argument("--after", default=None, help="cluster after it, e.g. hcp:s1=3,s2=5,s3=6")
    parser.add_argument("--model", default=None)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()

    from deepstruc_gui.model.pipeline import SolveSettings, load_predictor
    from deepstruc_gui.model.series import SeriesSettings, SeriesSolver
    from deepstruc_gui.model.series_watch import iter_ready

    predictor = load_predictor(args.model, args.device)
    search = SolveSettings(samples=args.samples, seed=0)
    settings = SeriesSettings(search=search, warm_samples=args.warm_samples)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        before, after = cluster_arg(args.before, BEFORE), cluster_arg(args.after, AFTER)
        truth = write_series(folder, args.frames, before=before, after=after)
        print(f"wrote {len(truth)} frames in {time.perf_counter() - t0:.1f} s "
              f"({truth[0][1]} {truth[0][2]} atoms → {truth[-1][1]} {truth[-1][2]} atoms) "
              f"on {predictor.device_name}")  # fmt: skip
        solver = SeriesSolver(predictor, settings)
        c0 = time.process_time()
        t0 = time.perf_counter()
        records = [
            solver.solve_frame(k, ready.path, ready.data, ready.error or "")
            for k, ready in enumerate(iter_ready(folder, settle=0.0), 1)
        ]
        series_s = time.perf_counter() - t0
        series_cpu = time.process_time() - c0
        reference = SeriesSolver(predictor, SeriesSettings(search=search, warm=False))
        checked = agree = right = better = 0
        ref_s = ref_cpu = 0.0
        for k, (path, kind, n) in enumerate(truth):
            right += records[k].type == kind and records[k].n_atoms == n
            if k % args.reference_every:
                continue
            from deepstruc_gui.science.pdf_io import read_pdf

            t1, c1 = time.perf_counter(), time.process_time()
            ref = reference.solve_frame(k + 1, path, read_pdf(path))
            ref_s += time.perf_counter() - t1
            ref_cpu += time.process_time() - c1
            checked += 1
            same = (ref.type, ref.n_atoms) == (records[k].type, records[k].n_atoms)
            agree += same
            better += not same and records[k].rw < ref.rw
            if not same:
                print(f"  frame {k + 1}: series {records[k].type} {records[k].n_atoms} "
                      f"(Rw {records[k].rw:.4f}, {records[k].search}), predict {ref.type} "
                      f"{ref.n_atoms} (Rw {ref.rw:.4f})")  # fmt: skip
    n = len(records)
    per_frame = series_s / n
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"machine: {os.cpu_count()} cores, load average {load:.1f} at the end (wall-clock "
        "figures shrink when other work shares the cores; CPU-time figures do not)"
    )
    ref_per_frame = ref_s / max(checked, 1)
    print(f"series: {n} frames in {series_s:.1f} s = {n / series_s:.2f} frames/s wall, "
          f"{n / series_cpu:.2f} frames per CPU-second of this process "
          f"({solver.full_searches} full searches, {n - solver.full_searches} warm)")  # fmt: skip
    print(f"predict per file: {ref_cpu / max(checked, 1):.2f} CPU-s; CPU ratio series/predict "
          f"= {(series_cpu / n) / (ref_cpu / max(checked, 1)):.3f}")  # fmt: skip
    print(f"predict per file: {ref_per_frame:.2f} s over {checked} frames; "
          f"ratio series/predict per frame = {per_frame / ref_per_frame:.3f} "
          f"(speed-up ×{ref_per_frame / per_frame:.1f})")  # fmt: skip
    print(f"agreement with predict (type and atom count): {agree}/{checked} = "
          f"{100 * agree / max(checked, 1):.1f} %")  # fmt: skip
    print(f"  of the others, the series' answer fits better than predict's: {better}")
    print(f"series answer = simulated cluster: {right}/{n} = {100 * right / n:.1f} %")


if __name__ == "__main__":
    main()
