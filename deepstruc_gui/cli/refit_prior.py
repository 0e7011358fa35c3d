"""``deepstruc-gui refit-prior``: fit a bundle's prior to measured-like PDFs, calibrate σ."""

from __future__ import annotations

import argparse

from deepstruc_gui.cli.common import add_refit_arguments

HELP = (
    "refit a model's prior on measured-like variants of its training PDFs and calibrate "
    "its σ (decoder and map unchanged)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_refit_arguments(parser)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument(
        "--variants", type=int, default=8, help="measured-like variants per training structure"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)


def run(args: argparse.Namespace) -> int:
    import torch

    from deepstruc_gui.cli.main import UserError
    from deepstruc_gui.model.bundle import BundleError, resolve_model
    from deepstruc_gui.model.library import LibraryError
    from deepstruc_gui.model.prior_fit import refit_measured_like

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        source = resolve_model(args.model)
        refit_measured_like(
            source,
            args.library,
            args.output or source,
            steps=args.steps,
            lr=args.lr,
            n_variants=args.variants,
            seed=args.seed,
        )
    except (BundleError, LibraryError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    print(f"wrote model bundle {args.output or source}")
    return 0
