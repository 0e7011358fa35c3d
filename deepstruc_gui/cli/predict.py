"""``deepstruc-gui predict``: the whole DeepStruc solve of one PDF, headless."""

from __future__ import annotations

import argparse

HELP = "sample the latent region of a PDF, decode, fit and rank candidate structures"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="measured G(r) file")
    parser.add_argument("--model", default=None, help="shipped model name or bundle folder")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--sigma", type=float, default=3.0, help="region: k·σ of the prior")
    parser.add_argument(
        "--center",
        type=float,
        nargs=2,
        metavar=("X", "Y"),
        default=None,
        help="sample around this latent point instead of the prior mean",
    )
    parser.add_argument(
        "--radius", type=float, default=None, help="circle radius (overrides --sigma)"
    )
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--out", default=None, help="folder for xyz and fit CSV files")
    parser.add_argument("--json", default=None, help="write a JSON summary here")
    parser.add_argument("--element", default=None, help="element of the exported structures")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rmin", type=float, default=2.0)
    parser.add_argument("--rmax", type=float, default=30.0)
    parser.add_argument("--device", default=None)
    parser.add_argument(
        "--whole-map",
        action="store_true",
        help="fit every training structure's map point instead of the prior region "
        "(for data the prior places badly; ~3,000 candidates)",
    )
    parser.add_argument(
        "--no-fallback",
        action="store_true",
        help="do not search the whole map when the region's best Rw is above 0.5",
    )


def run(args: argparse.Namespace) -> int:
    import json
    import time
    from pathlib import Path

    import numpy as np
    from ase import Atoms
    from ase.data import atomic_numbers

    from deepstruc_gui.cli.common import read_data_file
    from deepstruc_gui.cli.main import UserError
    from deepstruc_gui.model.bundle import BundleError, ModelBundle, resolve_model
    from deepstruc_gui.model.candidate import POOR_FIT_RW
    from deepstruc_gui.model.inference import Predictor
    from deepstruc_gui.model.solve import solve, solve_points, whole_map_points
    from deepstruc_gui.science.debye import PDFParameters, parameters_from_metadata
    from deepstruc_gui.science.fitting import FitConfig
    from deepstruc_gui.util.atomic import atomic_write, atomic_write_text

    data = read_data_file(args.data)
    element = args.element or data.main_element
    if (args.out or args.json) and not element:
        raise UserError(f"{args.data}: no composition in the header; give --element SYMBOL")
    if element and element not in atomic_numbers:
        raise UserError(f"--element {element}: not a chemical element")
    try:
        bundle = ModelBundle.load(resolve_model(args.model))
        predictor = Predictor(bundle, args.device)
    except BundleError as exc:
        raise UserError(str(exc)) from exc
    base = PDFParameters.from_dict(bundle.metadata["pdf_parameters"])
    params = parameters_from_metadata(data.metadata, base)
    try:
        config = FitConfig(rmin=args.rmin, rmax=args.rmax, params=params)
        model_input = data.model_input()
    except ValueError as exc:
        raise UserError(f"{args.data}: {exc}") from exc
    mean, sigma = predictor.prior(model_input)
    bond = predictor.bond_length(model_input)
    center = np.asarray(args.center, float) if args.center else mean
    radius = args.radius if args.radius is not None else args.sigma * sigma
    print(f"model {bundle.name} on {predictor.device_name}")
    print(f"prior mean ({mean[0]:.3f}, {mean[1]:.3f}), σ ({sigma[0]:.3f}, {sigma[1]:.3f})")
    print(f"nearest-neighbour distance read from the PDF: {bond:.3f} Å")
    t0 = time.perf_counter()
    search = "whole map" if args.whole_map else "region"
    if args.whole_map:
        ranked = solve_points(data, predictor, whole_map_points(predictor), config)
    else:
        ranked = solve(data, predictor, center, radius, args.samples, config, seed=args.seed)
        if ranked and ranked[0].rw > POOR_FIT_RW:
            print(
                f"the best Rw in this region is {ranked[0].rw:.3f} (above {POOR_FIT_RW}): "
                "the prior may have misplaced these data"
                + ("" if args.no_fallback else "; searching the whole map as well")
            )
            if not args.no_fallback:
                search = "region, then whole map"
                more = solve_points(data, predictor, whole_map_points(predictor), config)
                ranked = sorted(ranked + more, key=lambda c: c.rw)
    elapsed = time.perf_counter() - t0
    top = ranked[: args.top]
    print(f"{len(ranked)} candidates ({search}) in {elapsed:.1f} s; best {len(top)}:")
    print(
        f"{'rank':>4} {'Rw':>7} {'atoms':>5} {'type':<12} {'scale':>8} {'expand':>7} "
        f"{'Biso':>6} {'z1':>7} {'z2':>7}"
    )
    for k, c in enumerate(top, 1):
        print(
            f"{k:>4} {c.rw:7.4f} {c.n_atoms:>5} {c.nearest_type:<12} {c.scale:8.4g} "
            f"{c.expansion:7.4f} {c.biso:6.3f} {c.latent[0]:7.3f} {c.latent[1]:7.3f}"
        )
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for k, c in enumerate(top, 1):
            atoms = Atoms(f"{element}{c.n_atoms}", positions=c.positions)
            with atomic_write(out / f"rank{k:02d}_{c.nearest_type}_{c.n_atoms}.xyz") as fh:
                atoms.write(fh, format="xyz")
            inside = (data.r >= args.rmin) & (data.r <= args.rmax)
            table = np.column_stack([c.r, data.g[inside], c.gcalc, data.g[inside] - c.gcalc])
            with atomic_write(out / f"rank{k:02d}_fit.csv") as fh:
                fh.write("r,Gobs,Gcalc,diff\n")
                np.savetxt(fh, table, delimiter=",", fmt="%.6g")
        print(f"wrote {len(top)} structures and fits to {out}")
    if args.json:
        summary = {
            "data": str(args.data),
            "model": bundle.name,
            "device": predictor.device_name,
            "element": element,
            "prior_mean": mean.tolist(),
            "prior_sigma": sigma.tolist(),
            "bond_length": bond,
            "center": np.asarray(center).tolist(),
            "radius": np.broadcast_to(np.asarray(radius, float), (2,)).tolist(),
            "samples": len(ranked),
            "whole_map": args.whole_map,
            "search": search,
            "seed": args.seed,
            "seconds": round(elapsed, 2),
            "fit_range": [args.rmin, args.rmax],
            "candidates": [
                {
                    "rank": k,
                    "rw": c.rw,
                    "n_atoms": c.n_atoms,
                    "nearest_type": c.nearest_type,
                    "scale": c.scale,
                    "expansion": c.expansion,
                    "biso": c.biso,
                    "latent": c.latent.tolist(),
                }
                for k, c in enumerate(top, 1)
            ],
        }
        atomic_write_text(args.json, json.dumps(summary, indent=1))
        print(f"wrote {args.json}")
    return 0
