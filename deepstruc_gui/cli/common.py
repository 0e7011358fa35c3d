"""Argument helpers shared by the headless subcommands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from deepstruc_gui.cli.args import SEED as SEED_TYPE
from deepstruc_gui.cli.args import THREADS, number
from deepstruc_gui.cli.main import UserError
from deepstruc_gui.science.parameters import TRAINING_PARAMETERS, PDFParameters

PARAMETER_HELP = {
    "qmin": "smallest Q of the transform (Å⁻¹)",
    "qmax": "largest Q of the transform (Å⁻¹)",
    "qdamp": "Q-resolution damping (Å⁻¹)",
    "delta2": "correlated-motion sharpening (Å²)",
    "biso": "isotropic displacement parameter B (Å²)",
    "rmin": "first r of the output grid (Å)",
    "rmax": "end of the output grid (Å, exclusive)",
    "rstep": "r step (Å)",
}


def add_pdf_parameter_arguments(
    parser: argparse.ArgumentParser, names: list[str], from_header: bool = False
) -> None:
    """--qmin, --qmax … with the training defaults shown in --help (``from_header``:
    a measured file's header comes first)."""
    for name in names:
        default = getattr(TRAINING_PARAMETERS, name)
        said = f"the data header's, else {default:g}" if from_header else f"{default:g}"
        parser.add_argument(
            f"--{name}",
            type=number(0.0, 1000.0),
            default=None,
            help=f"{PARAMETER_HELP[name]} (default: {said})",
        )


def pdf_parameters(
    args: argparse.Namespace, base: PDFParameters, names: list[str] | None = None
) -> PDFParameters:
    """``base`` with the parameters ``names`` (default: all) given on the command line."""
    changes = {
        name: getattr(args, name)
        for name in (names or list(PARAMETER_HELP))
        if getattr(args, name, None) is not None
    }
    try:
        return base.replace(**changes)
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def read_structure_file(path: str):
    """An ``ase.Atoms`` from any format ase reads, or a clear error naming the file."""
    from deepstruc_gui.science.structures import StructureReadError, read_structure

    try:
        return read_structure(path)
    except StructureReadError as exc:
        raise UserError(str(exc)) from exc


def read_data_file(path: str):
    """A :class:`PDFData`, or a clear error naming the file and line."""
    from deepstruc_gui.science.pdf_io import PDFReadError, read_pdf

    try:
        return read_pdf(path)
    except PDFReadError as exc:
        raise UserError(str(exc)) from exc


def add_refit_arguments(parser: argparse.ArgumentParser) -> None:
    """--model, --library, -o, --seed and --threads of the commands that refit part of
    a bundle (see :func:`run_refit`)."""
    parser.add_argument("--model", default=None, help="shipped model name or bundle folder")
    parser.add_argument("--library", required=True, help="the library the model was trained on")
    parser.add_argument(
        "-o", "--output", default=None, help="bundle folder to write (default: in place)"
    )
    parser.add_argument("--seed", type=SEED_TYPE, default=0, help="random seed")
    parser.add_argument(
        "--threads", type=THREADS, default=None, help="CPU threads (default: torch's choice)"
    )


def run_refit(args: argparse.Namespace, refit: Callable[[Path, str, Path], object]) -> int:
    """Resolve the bundle, run ``refit(source, library, output)`` on ``--threads``
    threads, and turn a bad bundle, library or setting into one clear error."""
    import torch

    from deepstruc_gui.model.bundle import BundleError, resolve_model
    from deepstruc_gui.model.library import LibraryError

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        source = resolve_model(args.model)
        output = Path(args.output) if args.output else source
        refit(source, args.library, output)
    except (BundleError, LibraryError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    print(f"wrote model bundle {output}")
    return 0


def parse_widths(text: str, option: str) -> tuple[int, ...]:
    """Layer widths given as ``512,1024,1024``; a clear error naming ``option`` else."""
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise UserError(
            f"{option}: give widths as positive integers separated by commas, not {text!r}"
        )
    return widths


def progress_bar(desc: str, total: int | None = None, unit: str = "it"):
    """A tqdm progress bar on stderr when it is a terminal; silent otherwise (pipes,
    logs, tests). Use as a context manager; ``bar.write`` prints without breaking it."""
    import sys

    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=None, file=sys.stderr, leave=False)
