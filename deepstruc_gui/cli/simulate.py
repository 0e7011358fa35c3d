"""``deepstruc-gui simulate``: the PDF of a structure file, as diffpy would compute it."""

from __future__ import annotations

import argparse
import sys

from deepstruc_gui.cli.common import (
    PARAMETER_HELP,
    add_pdf_parameter_arguments,
    pdf_parameters,
    read_structure_file,
)

HELP = "compute G(r) of a structure (xyz, cif, … any format ase reads) with the Debye engine"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's positional arguments and options to ``parser``.
    PDF parameters as in diffpy.srreal (Å, Å⁻¹, Å²)."""
    parser.add_argument("structure", help="structure file")
    add_pdf_parameter_arguments(parser, list(PARAMETER_HELP))
    parser.add_argument(
        "--spdiameter", type=float, default=None,
        help="diameter of diffpy's spherical-shape envelope (Å; default off)",
    )  # fmt: skip
    parser.add_argument(
        "--scattering", choices=["xray", "electronnumber", "neutron"], default="xray",
        help="scattering-factor table for structures of several elements, as diffpy's "
        "(default xray: Q-dependent form factors)",
    )  # fmt: skip
    parser.add_argument("-o", "--output", help="write a two-column .gr file (default: stdout)")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if present)")


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the exit code (0 on success). Bad input raises
    :class:`UserError`, which :func:`main` prints as one line with exit code 2."""
    from deepstruc_gui import __version__
    from deepstruc_gui.cli.main import UserError
    from deepstruc_gui.science.debye import TRAINING_PARAMETERS, simulate_pdf
    from deepstruc_gui.science.pdf_io import write_pdf

    params = pdf_parameters(args, TRAINING_PARAMETERS)
    try:
        params = params.replace(scattering=args.scattering)
        if args.spdiameter is not None:
            params = params.replace(spdiameter=args.spdiameter)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    atoms = read_structure_file(args.structure)
    try:
        r, g = simulate_pdf(atoms, params, device=args.device)  # the file's elements
    except ValueError as exc:
        raise UserError(f"{args.structure}: {exc}") from exc
    header = {
        "source": f"deepstruc-gui {__version__} simulate (Debye, diffpy conventions)",
        "structure": args.structure,
        "composition": atoms.get_chemical_formula(),
        "atoms": len(atoms),
        **{k: v for k, v in params.to_dict().items() if v is not None},
    }
    if args.output:
        write_pdf(args.output, r, g, header)
        print(f"wrote {args.output} ({r.size} points, {r[0]:.2f}–{r[-1]:.2f} Å)")
    else:
        for key, value in header.items():
            sys.stdout.write(f"# {key} = {value}\n")
        for ri, gi in zip(r, g, strict=True):
            sys.stdout.write(f"{ri:.4f} {gi:.8g}\n")
    return 0
