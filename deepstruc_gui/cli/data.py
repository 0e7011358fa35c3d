"""``deepstruc-gui data build|info``: the training libraries."""

from __future__ import annotations

import argparse

HELP = "build a training library (mmnp: seven types; stacking: fcc/hcp/faulted) or describe one"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = sub.add_parser("build", help="build a library file")
    build.add_argument("--library", choices=["mmnp", "stacking"], required=True)
    build.add_argument("-o", "--output", default="data", help="folder or .h5 file (default data/)")
    build.add_argument("--metals", nargs="+", default=None, help="subset of metals, e.g. Pt Au")
    build.add_argument("--max-atoms", type=int, default=200)
    build.add_argument("--seed", type=int, default=0, help="seed of the train/val/test split")
    info = sub.add_parser("info", help="counts by type and size, parameters, split sizes")
    info.add_argument("file")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from deepstruc_gui.cli.main import UserError
    from deepstruc_gui.model.library import Library, LibraryError, build_library

    if args.action == "build":
        out = Path(args.output)
        if out.suffix != ".h5":
            out = out / f"{args.library}.h5"
        try:
            path = build_library(
                args.library, out, metals=args.metals, max_atoms=args.max_atoms, seed=args.seed
            )
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
        return 0
    try:
        lib = Library.open(args.file)
    except LibraryError as exc:
        raise UserError(str(exc)) from exc
    import numpy as np

    print(f"{args.file}: {lib.kind} library, {len(lib)} clusters")
    print(f"{'type':<12} {'count':>6} {'atoms':>10}")
    for t in sorted(set(lib.types.tolist())):
        n = lib.n_atoms[lib.types == t]
        print(f"{t:<12} {len(n):>6} {n.min():>4}–{n.max():<5}")
    splits = np.bincount(lib.split, minlength=3)
    print(f"split: train {splits[0]}, val {splits[1]}, test {splits[2]}")
    print(f"metals: {', '.join(sorted(set(lib.metals.tolist())))}")
    print(f"PDF parameters: {lib.parameters.to_dict()}")
    lib.close()
    return 0
