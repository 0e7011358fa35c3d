"""``deepstruc-gui refit-prior``: fit a bundle's prior to measured-like PDFs, calibrate σ."""

from __future__ import annotations

import argparse

from deepstruc_gui.cli.args import POSITIVE, POSITIVE_INT, number
from deepstruc_gui.cli.common import add_refit_arguments, run_refit

HELP = (
    "refit a model's prior on measured-like variants of its training PDFs and calibrate "
    "its σ (decoder and map unchanged)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the shared refit options, then the prior-fit settings, to ``parser``."""
    add_refit_arguments(parser)
    parser.add_argument("--steps", type=POSITIVE_INT, default=6000, help="optimiser steps")
    parser.add_argument("--lr", type=POSITIVE, default=5e-4, help="learning rate")
    parser.add_argument(
        "--variants",
        type=POSITIVE_INT,
        default=8,
        help="measured-like variants per training structure",
    )
    parser.add_argument(
        "--measured-fraction",
        type=number(0.0, 1.0),
        default=0.67,
        help="share of each batch that is measured-like (0: clean training PDFs only)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the exit code (0 on success). Bad input raises
    :class:`UserError`, which :func:`main` prints as one line with exit code 2."""
    from deepstruc_gui.cli.common import progress_bar
    from deepstruc_gui.model.prior_fit import refit_measured_like

    with progress_bar("prior refit", total=args.steps, unit="step") as bar:
        return run_refit(
            args,
            lambda source, library, output: refit_measured_like(
                source,
                library,
                output,
                steps=args.steps,
                lr=args.lr,
                n_variants=args.variants,
                measured_fraction=args.measured_fraction,
                seed=args.seed,
                log=bar.write,
                on_step=lambda done, total: bar.update(done - bar.n),
            ),
        )
