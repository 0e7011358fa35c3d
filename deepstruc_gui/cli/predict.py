"""``deepstruc-gui predict``: the whole DeepStruc solve of one PDF, headless.

The search is :func:`deepstruc_gui.model.pipeline.run_solve` (the same the window and
the notebook API run); ``--out`` writes through :mod:`deepstruc_gui.model.export`, the
same files the window's export writes.
"""

from __future__ import annotations

import argparse

from deepstruc_gui.cli.args import POSITIVE, SEED, check_fit_range, integer, number
from deepstruc_gui.cli.common import add_pdf_parameter_arguments

HELP = "sample the latent region of a PDF, decode, fit and rank candidate structures"
SIMULATION_OPTIONS = ["qmin", "qmax", "qdamp", "delta2", "biso"]
# the limits of model.pipeline (not imported here: --help stays fast)
MAX_SAMPLES = 100_000
MAX_SIGMA = 50.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's positional arguments and options to ``parser``."""
    parser.add_argument("data", help="measured G(r) file")
    parser.add_argument(
        "--model", default=None, help="shipped model name or bundle folder (default: mmnp)"
    )
    parser.add_argument(
        "--samples",
        type=integer(1, MAX_SAMPLES),
        default=1000,
        help="latent points searched in the region",
    )
    parser.add_argument(
        "--sigma",
        type=number(0.0, MAX_SIGMA, above=True),
        default=3.0,
        help="region: k·σ of the prior",
    )
    parser.add_argument(
        "--center",
        type=number(),
        nargs=2,
        metavar=("X", "Y"),
        default=None,
        help="sample around this latent point instead of the prior mean",
    )
    parser.add_argument(
        "--radius", type=POSITIVE, default=None, help="circle radius (overrides --sigma)"
    )
    parser.add_argument(
        "--top", type=integer(1, MAX_SAMPLES), default=10, help="candidates printed and written"
    )
    parser.add_argument(
        "--out",
        default=None,
        help="folder for structures (.xyz, top.extxyz), fits (.csv, .fgr) and the ranked table",
    )
    parser.add_argument("--json", default=None, help="write a JSON summary here")
    parser.add_argument(
        "--element", default=None, help="element of the structures (default: the data header's)"
    )
    parser.add_argument("--seed", type=SEED, default=0, help="seed of the region's sampling")
    parser.add_argument("--rmin", type=number(0.0, 200.0), default=2.0, help="fit range start (Å)")
    parser.add_argument(
        "--rmax", type=number(0.0, 200.0, above=True), default=30.0, help="fit range end (Å)"
    )
    add_pdf_parameter_arguments(parser, SIMULATION_OPTIONS, from_header=True)
    parser.add_argument("--refine-qdamp", action="store_true", help="refine Qdamp too")
    parser.add_argument("--refine-delta2", action="store_true", help="refine delta2 too")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if present)")
    parser.add_argument(
        "--whole-map",
        action="store_true",
        help="fit every training structure's map point instead of the prior region "
        "(for data the prior places badly; ~3,000 candidates)",
    )
    parser.add_argument(
        "--region-only",
        action="store_true",
        help="the paper's plain search: sample the prior's region only (with the whole-map "
        "fallback above Rw 0.5), without the Rw landscape of the default search",
    )
    parser.add_argument(
        "--no-size-extension",
        action="store_true",
        help="do not build larger clusters when the data show a particle beyond the "
        "training sizes (see docs/MODEL.md, size extension)",
    )
    parser.add_argument(
        "--no-sequence-search",
        action="store_true",
        help="stacking models: do not build and fit every stacking of the layers and "
        "patches the model reads (see docs/MODEL.md, sequence search)",
    )
    parser.add_argument(
        "--no-fallback",
        action="store_true",
        help="the plain region search without its fallback: do not search the whole map "
        "when the region's best Rw is above 0.5",
    )


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the exit code (0 on success). Bad input raises
    :class:`UserError`, which :func:`main` prints as one line with exit code 2."""
    import json
    import sys
    from pathlib import Path

    from ase.data import atomic_numbers

    from deepstruc_gui.cli.common import progress_bar, read_data_file
    from deepstruc_gui.cli.main import UserError
    from deepstruc_gui.model.bundle import BundleError
    from deepstruc_gui.model.pipeline import SolveSettings, load_predictor, run_solve
    from deepstruc_gui.science.pdf_io import PDFReadError
    from deepstruc_gui.util.atomic import atomic_write_text

    check_fit_range(args.rmin, args.rmax)
    data = read_data_file(args.data)
    element = args.element or data.main_element
    if (args.out or args.json) and not element:
        raise UserError(f"{args.data}: no composition in the header; give --element SYMBOL")
    if element and element not in atomic_numbers:
        raise UserError(f"--element {element}: not a chemical element")
    overrides = {n: getattr(args, n) for n in SIMULATION_OPTIONS if getattr(args, n) is not None}
    try:
        settings = SolveSettings(
            rmin=args.rmin,
            rmax=args.rmax,
            samples=args.samples,
            sigma=args.sigma,
            center=tuple(args.center) if args.center else None,
            radius=args.radius,
            seed=args.seed,
            whole_map=args.whole_map,
            fallback=not args.no_fallback,
            search="region" if args.region_only or args.no_fallback else "default",
            element=element,
            overrides=overrides,
            refine_qdamp=args.refine_qdamp,
            refine_delta2=args.refine_delta2,
            size_extension=not args.no_size_extension,
            sequence_search=not args.no_sequence_search,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    try:
        predictor = load_predictor(args.model, args.device)
    except BundleError as exc:
        raise UserError(str(exc)) from exc
    print(f"model {predictor.bundle.name} on {predictor.device_name}")
    with progress_bar("fitting", unit="candidate") as bar:

        def progress(done: int, total: int) -> None:
            """Move the progress bar to ``done`` of ``total`` fitted candidates."""
            bar.total = total
            bar.update(done - bar.n)

        def answer(ranked: list, search: str, seconds: float) -> None:
            """Print the model's answer the moment it exists (a size extension may follow)."""
            if ranked:
                best = ranked[0]
                bar.write(
                    f"model's answer ({search}) after {seconds:.1f} s: {best.nearest_type}, "
                    f"{best.n_atoms} atoms, Rw {best.rw:.4f}"
                )
                sys.stdout.flush()  # seen now, also through a pipe

        try:
            result = run_solve(
                data, predictor, settings, progress=progress, log=bar.write, on_answer=answer
            )
        except PDFReadError as exc:
            raise UserError(str(exc)) from exc
        except ValueError as exc:
            raise UserError(f"{args.data}: {exc}") from exc
    mean, sigma = result.prior_mean, result.prior_sigma
    print(f"prior mean ({mean[0]:.3f}, {mean[1]:.3f}), σ ({sigma[0]:.3f}, {sigma[1]:.3f})")
    print(f"nearest-neighbour distance read from the PDF: {result.bond_length:.3f} Å")
    sources = ", ".join(
        f"{name} {value:g} ({result.parameter_sources[name]})"
        for name, value in result.parameters.items()
    )
    print(f"fit {settings.rmin:g}–{settings.rmax:g} Å from {sources}")
    top = result.candidates[: args.top]
    print(
        f"{len(result.candidates)} candidates ({result.search}) in {result.seconds:.1f} s; "
        f"best {len(top)}:"
    )
    print(
        f"{'rank':>4} {'Rw':>7} {'atoms':>5} {'type':<12} {'scale':>8} {'expand':>7} "
        f"{'Biso':>6} {'z1':>7} {'z2':>7}  source"
    )
    for k, c in enumerate(top, 1):
        where = "model" if c.source == "model" else f"{c.source}: {c.shape}"
        z = f"{'—':>7} {'—':>7}"  # built clusters have no map point
        if c.source == "model":
            z = f"{c.latent[0]:7.3f} {c.latent[1]:7.3f}"
        print(
            f"{k:>4} {c.rw:7.4f} {c.n_atoms:>5} {c.nearest_type:<12} {c.scale:8.4g} "
            f"{c.expansion:7.4f} {c.biso:6.3f} {z}  {where}"
        )
    best = result.best
    if best is not None:
        said = f"Rw is {best.rw_kind}: sqrt(Σ(Gobs−Gcalc)²/ΣGobs²) over the fit range"
        if best.rw_weighted is not None and best.rw_kind == "unweighted":
            said += f"; the best's PDFgui Rw weighted by 1/dG² is {best.rw_weighted:.4f}"
        print(said)
        errors = ", ".join(f"{k} ± {v:.2g}" for k, v in best.errors.items())
        if errors:
            print(f"best candidate's standard errors: {errors}")
        if best.at_bound:
            print(
                f"best candidate at a bound (a limit, not an estimate): {', '.join(best.at_bound)}"
            )
    for warning in result.warnings:
        print(f"{warning.severity} [{warning.code}]: {warning.message}")
    if args.out:
        from deepstruc_gui.model.export import write_result

        try:
            written = write_result(args.out, result, data, top=args.top, element=element)
        except OSError as exc:
            raise UserError(f"{args.out}: cannot write ({exc.strerror or exc})") from exc
        print(f"wrote {len(written)} files ({len(top)} structures and fits) to {Path(args.out)}")
    if args.json:
        atomic_write_text(args.json, json.dumps(result.to_dict(top=args.top), indent=1))
        print(f"wrote {args.json}")
    return 0
