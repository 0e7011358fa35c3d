"""``deepstruc-gui refit-decoder``: refit a bundle's decoder on its fixed latent map."""

from __future__ import annotations

import argparse

from deepstruc_gui.cli.args import POSITIVE, POSITIVE_INT, integer, number
from deepstruc_gui.cli.common import add_refit_arguments, parse_widths, run_refit

HELP = (
    "refit a model's decoder alone on the posterior means of its training structures "
    "(encoder, prior and map unchanged); optionally with another decoder shape"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the shared refit options, then the decoder-fit settings, to ``parser``."""
    add_refit_arguments(parser)
    parser.add_argument("--steps", type=POSITIVE_INT, default=8000, help="optimiser steps")
    parser.add_argument("--lr", type=POSITIVE, default=1e-3, help="peak learning rate")
    parser.add_argument("--batch-size", type=POSITIVE_INT, default=128, help="batch size")
    parser.add_argument(
        "--latent-noise",
        type=number(0.0),
        default=0.0,
        help="extra noise on the latent points (map units), so a shape owns its neighbourhood",
    )
    parser.add_argument(
        "--keep",
        choices=("validation", "last"),
        default="validation",
        help="keep the state with the lowest validation error, or the last one",
    )
    parser.add_argument(
        "--fourier",
        type=integer(0, 4096),
        default=None,
        help="number of random Fourier features of z the new decoder reads (0: z itself)",
    )
    parser.add_argument(
        "--fourier-scale", type=POSITIVE, default=None, help="their frequency spread per unit"
    )
    parser.add_argument(
        "--hidden", default=None, help="widths of the new decoder's layers, e.g. 512,1024,1024"
    )
    parser.add_argument(
        "--slots",
        type=integer(2, 10_000),
        default=None,
        help="decoder slots (256: a block per layer)",
    )


def decoder_changes(args: argparse.Namespace) -> dict:
    """The architecture fields the options change (none: fine-tune the decoder)."""
    changes: dict = {}
    if args.fourier is not None:
        changes["decoder_fourier"] = args.fourier
    if args.fourier_scale is not None:
        changes["decoder_fourier_scale"] = args.fourier_scale
    if args.hidden:
        changes["decoder_hidden"] = parse_widths(args.hidden, "--hidden")
    if args.slots is not None:
        changes["max_atoms"] = args.slots
    return changes


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the exit code (0 on success). Bad input raises
    :class:`UserError`, which :func:`main` prints as one line with exit code 2."""
    from deepstruc_gui.model.decoder_fit import DecoderFitConfig, refit_decoder

    config = DecoderFitConfig(
        steps=args.steps,
        lr=args.lr,
        batch_size=args.batch_size,
        latent_noise=args.latent_noise,
        decoder=decoder_changes(args),
        keep=args.keep,
        seed=args.seed,
    )
    from deepstruc_gui.cli.common import progress_bar

    with progress_bar("decoder refit", total=args.steps, unit="step") as bar:
        return run_refit(
            args,
            lambda source, library, output: refit_decoder(
                source,
                library,
                output,
                config,
                log=bar.write,
                on_step=lambda done, total: bar.update(done - bar.n),
            ),
        )
