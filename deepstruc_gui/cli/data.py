"""``deepstruc-gui data build|info``: the training libraries."""

from __future__ import annotations

import argparse

from deepstruc_gui.cli.args import SEED, integer

HELP = "build a training library (mmnp: seven types; stacking: fcc/hcp/faulted) or describe one"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``build`` and ``info`` actions and their options to ``parser``."""
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = sub.add_parser(
        "build",
        help="build a library file (resumes an interrupted build of the same library)",
        description="Build a library: clusters, their G(r) and graphs, a 60/20/20 split.",
    )
    build.add_argument("--library", choices=["mmnp", "stacking"], required=True)
    build.add_argument(
        "-o", "--output", default="data", help="folder (file LIBRARY.h5 in it) or .h5 file"
    )
    build.add_argument(
        "--metals",
        nargs="+",
        default=None,
        metavar="METAL",
        help="subset of metals, e.g. Pt Au (default: all 28 for mmnp; Co Pt Au for stacking)",
    )
    build.add_argument("--max-atoms", type=integer(2, 10_000), default=200, help="largest cluster")
    build.add_argument("--seed", type=SEED, default=0, help="seed of the train/val/test split")
    build.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    info = sub.add_parser("info", help="counts by type and size, parameters, split sizes")
    info.add_argument("file")


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the exit code (0 on success). Bad input raises
    :class:`UserError`, which :func:`main` prints as one line with exit code 2."""
    from pathlib import Path

    from deepstruc_gui.cli.main import UserError
    from deepstruc_gui.model.library import Library, LibraryError, build_library

    if args.action == "build":
        out = Path(args.output)
        if out.suffix != ".h5":
            out = out / f"{args.library}.h5"
        try:
            path = build_library(
                args.library,
                out,
                metals=args.metals,
                max_atoms=args.max_atoms,
                seed=args.seed,
                progress=not args.quiet,
            )
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        except OSError as exc:
            raise UserError(f"{out}: cannot write ({exc.strerror or exc})") from exc
        with Library.open(path) as lib:
            print(f"wrote {path}: {len(lib)} clusters, {path.stat().st_size / 1e6:.1f} MB")
        return 0
    try:
        lib = Library.open(args.file)
    except LibraryError as exc:
        raise UserError(str(exc)) from exc
    with lib:
        print(describe(lib))
    return 0


def describe(lib) -> str:
    """The ``data info`` report: counts by type with atom-count ranges and splits."""
    import numpy as np

    lines = [f"{lib.path}: {lib.kind} library, {len(lib)} clusters"]
    lines.append(f"{'type':<12} {'count':>6} {'atoms':>9} {'train':>6} {'val':>5} {'test':>5}")
    for t in sorted(set(lib.types.tolist())):
        sel = lib.types == t
        n = lib.n_atoms[sel]
        s = np.bincount(lib.split[sel], minlength=3)
        atoms = f"{n.min()}–{n.max()}"
        lines.append(f"{t:<12} {sel.sum():>6} {atoms:>9} {s[0]:>6} {s[1]:>5} {s[2]:>5}")
    splits = np.bincount(lib.split, minlength=3)
    lines.append(f"split: train {splits[0]}, val {splits[1]}, test {splits[2]}")
    distances = sorted(
        {(round(float(d), 2), m) for d, m in zip(lib.nn_distance, lib.metals, strict=True)}
    )
    lines.append(
        f"bond lengths: {len(distances)} ({', '.join(f'{m} {d:.2f}' for d, m in distances)} Å)"
    )
    if lib.kind == "stacking":
        sequences = sorted(set(lib.sequences.tolist()))
        lengths = sorted({len(s) for s in sequences})
        lines.append(f"sequences: {len(sequences)} of {lengths[0]}–{lengths[-1]} layers")
    params = ", ".join(f"{k}={v}" for k, v in lib.parameters.to_dict().items() if v is not None)
    lines.append(f"PDF parameters: {params}")
    return "\n".join(lines)
