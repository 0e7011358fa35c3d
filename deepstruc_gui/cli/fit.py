"""``deepstruc-gui fit``: refine one structure against a measured PDF."""

from __future__ import annotations

import argparse

from deepstruc_gui.cli.args import check_fit_range, number
from deepstruc_gui.cli.common import (
    add_pdf_parameter_arguments,
    read_data_file,
    read_structure_file,
)
from deepstruc_gui.cli.main import UserError

SIMULATION_OPTIONS = ["qmin", "qmax", "qdamp", "delta2", "biso"]
HELP = "refine scale, expansion and ADP of a structure against a measured G(r); print Rw"
_UNITS = {"biso": "Å²", "delta2": "Å²", "qdamp": "Å⁻¹", "spdiameter": "Å", "expansion": ""}
#: printed names, as the field writes them
_LABELS = {"biso": "Biso", "qdamp": "Qdamp"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's positional arguments and options to ``parser``.
    Fit range in Å, Biso in Å², Qdamp in Å⁻¹, delta2 in Å² (diffpy/PDFgui conventions)."""
    from deepstruc_gui.science.parameters import FIT_PARAMETERS, SCATTERING_TABLES, FitConfig

    defaults = FitConfig()
    parser.add_argument("structure", help="structure file (any ase format; keeps its elements)")
    parser.add_argument("data", help="measured G(r) file (.gr, .dat, .csv …)")
    parser.add_argument("--rmin", type=number(0.0, 200.0), default=2.0, help="fit range start (Å)")
    parser.add_argument(
        "--rmax", type=number(0.0, 200.0, above=True), default=30.0, help="fit range end (Å)"
    )
    add_pdf_parameter_arguments(parser, SIMULATION_OPTIONS, from_header=True)
    parser.add_argument(
        "--spdiameter", type=number(0.0, 1000.0), default=None,
        help="diameter of diffpy's spherical-shape envelope (Å; default off)",
    )  # fmt: skip
    parser.add_argument(
        "--scattering", choices=SCATTERING_TABLES, default="xray",
        help="scattering-factor table, as diffpy's (default xray; cancels for one element)",
    )  # fmt: skip
    parser.add_argument("--refine-qdamp", action="store_true", help="refine Qdamp too")
    parser.add_argument("--refine-delta2", action="store_true", help="refine delta2 too")
    parser.add_argument(
        "--refine-spdiameter", action="store_true",
        help="refine a spherical-shape envelope diameter (data that die out faster than the model)",
    )  # fmt: skip
    parser.add_argument(
        "--fix", action="append", default=[], choices=["scale", "expansion", "biso"],
        help="keep this parameter at its start value (repeatable)",
    )  # fmt: skip
    for name in FIT_PARAMETERS:
        lo, hi = defaults.bounds(name)
        parser.add_argument(
            f"--{name}-bounds", type=number(), nargs=2, metavar=("LOW", "HIGH"), default=None,
            help=f"bounds of {name} (default {lo:g} {hi:g})",
        )  # fmt: skip
    parser.add_argument(
        "--weighting",
        choices=["unweighted", "dG"],
        default="unweighted",
        help="minimise the unweighted Rw (default) or PDFgui's Rw with weights 1/dG² "
        "(needs a dG column); with dG both are printed",
    )
    parser.add_argument("-o", "--output", help="write r, Gobs, Gcalc, Gdiff as CSV")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if present)")


def fit_config_from_args(args: argparse.Namespace, params):
    """The :class:`FitConfig` the command line asks for (``UserError`` when invalid)."""
    from deepstruc_gui.science.parameters import FIT_PARAMETERS, FitConfig

    bounds = {
        f"{n}_bounds": tuple(getattr(args, f"{n}_bounds"))
        for n in FIT_PARAMETERS
        if getattr(args, f"{n}_bounds", None) is not None
    }
    try:
        return FitConfig(
            rmin=args.rmin,
            rmax=args.rmax,
            params=params,
            refine_scale="scale" not in args.fix,
            refine_expansion="expansion" not in args.fix,
            refine_biso="biso" not in args.fix,
            refine_qdamp=args.refine_qdamp,
            refine_delta2=args.refine_delta2,
            refine_spdiameter=args.refine_spdiameter,
            weighting=args.weighting,
            **bounds,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the exit code (0 on success). Bad input raises
    :class:`UserError`, which :func:`main` prints as one line with exit code 2."""
    import numpy as np

    from deepstruc_gui.science.fitting import fit_candidates
    from deepstruc_gui.science.parameters import parameters_with_sources
    from deepstruc_gui.util.atomic import atomic_write

    check_fit_range(args.rmin, args.rmax)
    atoms = read_structure_file(args.structure)
    data = read_data_file(args.data)
    # header values (Qmin, Qmax, Qdamp) first, then anything given on the command line
    user = {name: getattr(args, name) for name in SIMULATION_OPTIONS}
    user["spdiameter"] = args.spdiameter
    try:
        params, sources = parameters_with_sources(data.metadata, user=user)
        params = params.replace(scattering=args.scattering)
    except ValueError as exc:
        raise UserError(f"{args.data}: {exc}") from exc
    config = fit_config_from_args(args, params)
    centred = atoms.copy()
    centred.positions -= centred.positions.mean(0)
    try:
        result = fit_candidates([centred], data.r, data.g, config, device=args.device, dg=data.dg)
    except ValueError as exc:
        raise UserError(f"{args.data}: {exc}") from exc
    for line in report_lines(args, atoms, data, config, sources, result):
        print(line)
    from deepstruc_gui.model.diagnostics import diagnose_structure

    for warning in diagnose_structure(centred.positions, str(args.structure)):
        print(f"{warning.severity} [{warning.code}]: {warning.message}")
    if args.output:
        gcalc = result.gcalc[0]
        table = np.column_stack([result.r, result.gobs, gcalc, result.gobs - gcalc])
        with atomic_write(args.output) as handle:
            handle.write("r,Gobs,Gcalc,Gdiff\n")
            np.savetxt(handle, table, delimiter=",", fmt="%.6g")
        print(f"wrote {args.output}")
    return 0


def report_lines(args, atoms, data, config, sources, result) -> list[str]:
    """What `fit` prints: inputs and where each value came from, Rw (which one),
    every parameter with its standard error and bound flags."""
    p = result.params
    lines = [
        f"structure   {args.structure} ({len(atoms)} atoms, {atoms.get_chemical_formula()})",
        f"data        {args.data} (fit {config.rmin:g}–{config.rmax:g} Å, "
        f"{len(result.r)} points{', with dG' if data.dg is not None else ''})",
        f"scattering  {p.scattering} table (diffpy.srreal's)",
        "simulation  "
        + ", ".join(f"{name} {getattr(p, name):g} ({sources[name]})" for name in ("qmin", "qmax")),
    ]
    rw_line = f"Rw          {result.rw[0]:.5f} ({result.rw_kind}"
    if result.rw_weighted is not None and result.rw_kind == "unweighted":
        rw_line += f"; PDFgui's weighted 1/dG²: {result.rw_weighted[0]:.5f}"
    elif result.rw_weighted is not None:
        rw_line += f"; unweighted: {result.rw_unweighted[0]:.5f}"
    lines.append(rw_line + ")")
    for name in ("scale", "expansion", "biso", "qdamp", "delta2", "spdiameter"):
        value = float(getattr(result, name)[0])
        unit = _UNITS.get(name, "")
        if name == "spdiameter" and name not in result.refined and value <= 0:
            lines.append(f"{_LABELS.get(name, name):<11} off")
            continue
        if name in result.refined:
            err = float(result.errors[name][0])
            text = f"{value:.5g} ± {err:.2g} {unit}".rstrip()
            if bool(result.at_bound[name][0]):
                lo, hi = config.bounds(name)
                side = "lower" if abs(value - lo) <= abs(value - hi) else "upper"
                text += f"  AT {side.upper()} BOUND ({lo:g}, {hi:g}): a limit, not an estimate"
        else:
            source = sources.get(name, "user" if name == "spdiameter" else "default")
            text = f"{value:.5g} {unit}".rstrip() + f" (fixed, {source})"
        lines.append(f"{_LABELS.get(name, name):<11} {text}")
    if result.errors:
        lines.append(f"errors      1σ {result.errors_kind}")
    return lines
