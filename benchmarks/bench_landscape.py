"""Benchmark: the Rw landscape, the default search and "Refine here".

Prints, on the shipped model and a measured PDF (default: the Pt example JQ_S1):

* the landscape (every map point, a grid over the map's box, its refinement and the
  full fit of its lowest points): time to the first picture, total time, candidates
  a second — cold (a fresh Predictor: no decoded clusters or pair histograms cached)
  and warm (the same model again: what the window sees for a second data set);
* the reference measured in the same run: today's whole-map search,
  ``solve_points(data, predictor, whole_map_points(predictor), config)``, and the ratio;
* the default search (``run_solve`` with default settings, as ``predict`` runs it) on
  the two shipped examples: time, best type, Rw;
* with ``--snap N``: "Refine here" from the best candidate of a plain region search
  (200 samples) on N measured-like PDFs of validation-split shapes: best Rw before and
  after, and the matched coordinate MAE (Å) before and after.

    OMP_NUM_THREADS=2 python benchmarks/bench_landscape.py [--data FILE] [--snap 8]

The default search prints the time to the model's own answer (``run_solve``'s
``on_answer``, before any size extension) and the total.

Wall times need a quiet machine; the CPU times (all threads together) are printed
beside them, and on a loaded machine ``OMP_NUM_THREADS=1`` gives the steadiest ones.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"
GOAL_TOTAL, GOAL_FIRST, GOAL_SEARCH = 3.0, 0.5, 5.0


def timed_landscape(data, predictor, config):
    from deepstruc_gui.model.landscape import compute_landscape

    marks: list[tuple[float, int, int]] = []
    c0 = time.process_time()
    t0 = time.perf_counter()
    land = compute_landscape(
        data,
        predictor,
        config,
        on_update=lambda s: marks.append((time.perf_counter() - t0, len(s), int(s.stage.max()))),
    )
    total = time.perf_counter() - t0
    cpu = time.process_time() - c0
    first = max(t for t, _, stage in marks if stage == 0)
    return land, total, cpu, first


def shape_of(name: str) -> tuple[str, dict[str, int]]:
    """Builder kind and size parameters from a library entry's name."""
    label = name.rsplit("_", 2)[0]
    kind, *parts = label.split("_")
    params = {}
    for part in parts:
        if "-" in part:
            key, value = part.split("-")
        else:
            key, value = re.fullmatch(r"([a-z]+)(\d+)", part).groups()
        params[key] = int(value)
    return kind, params


def snap_sample(predictor, n: int, seed: int = 0) -> None:
    from deepstruc_gui.model.evaluation import matched_mae
    from deepstruc_gui.model.measured_like import measured_like_pdfs
    from deepstruc_gui.model.pipeline import SolveSettings, fit_config_for, run_solve
    from deepstruc_gui.model.snap import snap
    from deepstruc_gui.science.clusters import build_cluster
    from deepstruc_gui.science.grid import MODEL_R
    from deepstruc_gui.science.parameters import PDFParameters
    from deepstruc_gui.science.pdf_io import PDFData

    lm = predictor.bundle.latent_map
    rng = np.random.default_rng(seed)
    val = [i for i, s in enumerate(lm.split) if s == "val"]
    picked = rng.choice(val, n, replace=False)
    truths = []
    for i in picked:
        kind, params = shape_of(lm.names[i])
        nn = float(lm.names[i].rsplit("_", 1)[1])
        truths.append(build_cluster(kind, params, nn))
    pdfs = measured_like_pdfs(truths, 1, seed)
    base = PDFParameters.from_dict(predictor.bundle.metadata["pdf_parameters"])
    rows = []
    for k, (g, src, params) in enumerate(zip(pdfs.pdf, pdfs.source, pdfs.params, strict=True)):
        r = np.asarray(MODEL_R[: len(g)], dtype=float)
        data = PDFData(path=None, r=r, g=np.asarray(g, float), metadata={"qmax": params.qmax})
        settings = SolveSettings(samples=200, seed=k, search="region", fallback=False)
        before = run_solve(data, predictor, settings).best
        config, _ = fit_config_for(data, base)
        t0 = time.perf_counter()
        after = snap(data, predictor, before.latent, config).best
        seconds = time.perf_counter() - t0
        truth = truths[src]
        rows.append(
            (
                before.rw,
                after.rw,
                matched_mae(before.positions, truth),
                matched_mae(after.positions, truth),
                seconds,
            )
        )
        print(
            f"  {lm.names[picked[src]]:<32} Rw {before.rw:.3f} → {after.rw:.3f}   "
            f"MAE {rows[-1][2]:.3f} → {rows[-1][3]:.3f} Å   {seconds:.1f} s"
        )
    a = np.array(rows)
    print(
        f"snap on {n} measured-like validation PDFs: median Rw {np.median(a[:, 0]):.3f} → "
        f"{np.median(a[:, 1]):.3f} (lower on {int((a[:, 1] < a[:, 0] - 1e-6).sum())}/{n}); "
        f"median MAE {np.median(a[:, 2]):.3f} → {np.median(a[:, 3]):.3f} Å; "
        f"median {np.median(a[:, 4]):.1f} s each"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(EXAMPLES / "JQ_S1.gr"))
    parser.add_argument("--model", default=None)
    parser.add_argument("--snap", type=int, default=0, help="snap on this many PDFs")
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args()

    import torch

    from deepstruc_gui.model.pipeline import (
        SolveSettings,
        fit_config_for,
        load_predictor,
        run_solve,
    )
    from deepstruc_gui.model.solve import solve_points, whole_map_points
    from deepstruc_gui.science.parameters import PDFParameters
    from deepstruc_gui.science.pdf_io import read_pdf

    print(
        f"torch threads {torch.get_num_threads()}, CPUs {os.cpu_count()}, load average "
        f"{os.getloadavg()[0]:.2f} (wall times are only as good as the machine is quiet)"
    )
    data = read_pdf(args.data)
    predictor = load_predictor(args.model, "cpu")
    base = PDFParameters.from_dict(predictor.bundle.metadata["pdf_parameters"])
    config, _ = fit_config_for(data, base)

    land, total, cpu, first = timed_landscape(data, predictor, config)
    n = len(land)
    print(
        f"landscape cold: {n} points ({int((land.source == 0).sum())} map, "
        f"{int((land.source == 1).sum())} grid, {int((land.source == 2).sum())} refined) "
        f"in {total:.2f} s, CPU {cpu:.2f} s ({n / total:.0f} candidates/s); first picture "
        f"{first:.2f} s; stages {land.info['seconds']}"
    )
    land, total_w, cpu_w, first_w = timed_landscape(data, predictor, config)
    print(
        f"landscape warm: {total_w:.2f} s, CPU {cpu_w:.2f} s ({n / total_w:.0f} candidates/s); "
        f"first picture "
        f"{first_w:.2f} s   [goals: ≤ {GOAL_TOTAL} s, first ≤ {GOAL_FIRST} s]"
    )
    best = land.lowest(1)[0]
    print(
        f"  lowest: {land.types[best]}, {land.n_atoms[best]} atoms, coarse Rw "
        f"{land.rw[best]:.3f}, full fit {land.rw_fit[best]:.3f}"
    )
    if not args.no_reference:
        z = whole_map_points(predictor)
        c0, t0 = time.process_time(), time.perf_counter()
        ranked = solve_points(data, predictor, z, config)
        reference, cpu_ref = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"reference, whole-map search: {len(z)} candidates in {reference:.2f} s, "
            f"CPU {cpu_ref:.2f} s "
            f"({len(z) / reference:.0f} candidates/s), best {ranked[0].nearest_type} "
            f"Rw {ranked[0].rw:.3f}"
        )
        print(
            f"ratio: landscape ({n} points) takes {total / reference:.2f}× (cold) and "
            f"{total_w / reference:.2f}× (warm) the whole-map search's time; per candidate "
            f"{(reference / len(z)) / (total_w / n):.0f}× faster (warm); CPU time ratio "
            f"{cpu / cpu_ref:.2f}× (cold), {cpu_w / cpu_ref:.2f}× (warm)"
        )
    for name in ("JQ_S1.gr", "Au144PET_100K-00000.gr"):
        example = read_pdf(EXAMPLES / name)
        answer: list = []

        def model_answer(ranked, search, seconds, answer=answer) -> None:
            answer.append((ranked[0], seconds, time.process_time()))

        c0, t0 = time.process_time(), time.perf_counter()
        result = run_solve(example, predictor, SolveSettings(seed=0), on_answer=model_answer)
        seconds, cpu_s = time.perf_counter() - t0, time.process_time() - c0
        b = result.best
        codes = [w.code for w in result.warnings]
        first, first_s, first_cpu = answer[0]
        print(
            f"default search {name}: model's answer {first.nearest_type}, {first.n_atoms} "
            f"atoms, Rw {first.rw:.3f} after {first_s:.2f} s, CPU {first_cpu - c0:.2f} s "
            f"(goal ≤ {GOAL_SEARCH} s); in all ({result.search}) {b.nearest_type}, "
            f"{b.n_atoms} atoms, Rw {b.rw:.3f}, {len(result.candidates)} fitted, "
            f"{seconds:.2f} s, CPU {cpu_s:.2f} s; findings {codes}"
        )
    if args.snap:
        snap_sample(predictor, args.snap)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
