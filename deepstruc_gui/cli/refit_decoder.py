"""``deepstruc-gui refit-decoder``: refit a bundle's decoder on its fixed latent map."""

from __future__ import annotations

import argparse

from deepstruc_gui.cli.common import add_refit_arguments, parse_widths

HELP = (
    "refit a model's decoder alone on the posterior means of its training structures "
    "(encoder, prior and map unchanged); optionally with another decoder shape"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_refit_arguments(parser)
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--latent-noise",
        type=float,
        default=0.0,
        help="extra noise on the latent points (map units), so a shape owns its neighbourhood",
    )
    parser.add_argument(
        "--fourier",
        type=int,
        default=None,
        help="number of random Fourier features of z the new decoder reads (0: z itself)",
    )
    parser.add_argument(
        "--fourier-scale", type=float, default=None, help="their frequency spread per unit"
    )
    parser.add_argument(
        "--hidden", default=None, help="widths of the new decoder's layers, e.g. 512,1024,1024"
    )
    parser.add_argument(
        "--slots", type=int, default=None, help="decoder slots (256: a block per layer)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)


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
    import torch

    from deepstruc_gui.cli.main import UserError
    from deepstruc_gui.model.bundle import BundleError, resolve_model
    from deepstruc_gui.model.decoder_fit import DecoderFitConfig, refit_decoder
    from deepstruc_gui.model.library import LibraryError

    if args.threads:
        torch.set_num_threads(args.threads)
    changes = decoder_changes(args)
    config = DecoderFitConfig(
        steps=args.steps,
        lr=args.lr,
        batch_size=args.batch_size,
        latent_noise=args.latent_noise,
        decoder=changes,
        seed=args.seed,
    )
    try:
        source = resolve_model(args.model)
        refit_decoder(source, args.library, args.output or source, config)
    except (BundleError, LibraryError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    print(f"wrote model bundle {args.output or source}")
    return 0
