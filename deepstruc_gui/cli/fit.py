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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("structure", help="structure file (any format ase reads)")
    parser.add_argument("data", help="measured G(r) file (.gr, .dat, .csv …)")
    parser.add_argument("--rmin", type=number(0.0, 200.0), default=2.0, help="fit range start (Å)")
    parser.add_argument(
        "--rmax", type=number(0.0, 200.0, above=True), default=30.0, help="fit range end (Å)"
    )
    add_pdf_parameter_arguments(parser, SIMULATION_OPTIONS, from_header=True)
    parser.add_argument("--refine-qdamp", action="store_true", help="refine Qdamp too")
    parser.add_argument("--refine-delta2", action="store_true", help="refine delta2 too")
    parser.add_argument("-o", "--output", help="write r, Gobs, Gcalc, Gobs − Gcalc as CSV")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if present)")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from deepstruc_gui.model.pipeline import fit_config_for
    from deepstruc_gui.science.fitting import fit_candidates
    from deepstruc_gui.science.parameters import TRAINING_PARAMETERS
    from deepstruc_gui.util.atomic import atomic_write

    check_fit_range(args.rmin, args.rmax)
    atoms = read_structure_file(args.structure)
    data = read_data_file(args.data)
    # header values (Qmin, Qmax, Qdamp) first, then anything given on the command line
    overrides = {n: getattr(args, n) for n in SIMULATION_OPTIONS if getattr(args, n) is not None}
    try:
        config, _ = fit_config_for(
            data,
            TRAINING_PARAMETERS,
            args.rmin,
            args.rmax,
            overrides,
            refine_qdamp=args.refine_qdamp,
            refine_delta2=args.refine_delta2,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    params = config.params
    try:
        positions = atoms.get_positions()
        result = fit_candidates(
            [positions - positions.mean(0)], data.r, data.g, config, device=args.device
        )
    except ValueError as exc:
        raise UserError(f"{args.data}: {exc}") from exc
    print(f"structure   {args.structure} ({len(atoms)} atoms, {atoms.get_chemical_formula()})")
    print(
        f"data        {args.data} (fit {config.rmin:g}–{config.rmax:g} Å, "
        f"Qmin {params.qmin:g}, Qmax {params.qmax:g} Å⁻¹)"
    )
    print(f"Rw          {result.rw[0]:.4f}")
    print(f"scale       {result.scale[0]:.5g}")
    print(f"expansion   {result.expansion[0]:.5f}")
    print(f"Biso        {result.biso[0]:.4f} Å²")
    print(f"Qdamp       {result.qdamp[0]:.4f} Å⁻¹{'' if args.refine_qdamp else ' (fixed)'}")
    print(f"delta2      {result.delta2[0]:.4f} Å²{'' if args.refine_delta2 else ' (fixed)'}")
    if args.output:
        gcalc = result.gcalc[0]
        table = np.column_stack([result.r, result.gobs, gcalc, result.gobs - gcalc])
        with atomic_write(args.output) as handle:
            handle.write("r,Gobs,Gcalc,Gdiff\n")
            np.savetxt(handle, table, delimiter=",", fmt="%.6g")
        print(f"wrote {args.output}")
    return 0
