"""``deepstruc-gui train``: train a model on a library and write a bundle.

Runs unchanged under torch's launcher for several processes or machines:
``torchrun --nproc_per_node N -m deepstruc_gui train --library LIB.h5 ...`` trains with
DistributedDataParallel (gloo on CPU, NCCL on GPUs; see model/distributed.py); rank 0
alone logs, checkpoints, refits the prior and writes the bundle.
"""

from __future__ import annotations

import argparse

from deepstruc_gui.cli.args import POSITIVE, POSITIVE_INT, SEED, THREADS, integer, number

HELP = "train the DeepStruc model on a library (resumable; writes a model bundle)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's positional arguments and options to ``parser``."""
    from deepstruc_gui.model.train_config import TrainConfig

    d = TrainConfig()
    parser.add_argument("--library", required=True, help="library .h5 from 'data build'")
    parser.add_argument("-o", "--output", default=None, help="run folder (default runs/<kind>)")
    parser.add_argument("--bundle", default=None, help="write the bundle here at the end")
    parser.add_argument("--name", default=None, help="bundle name (default: library kind)")
    parser.add_argument("--epochs", type=POSITIVE_INT, default=d.epochs, help="epochs")
    parser.add_argument("--batch-size", type=POSITIVE_INT, default=d.batch_size, help="batch size")
    parser.add_argument("--lr", type=POSITIVE, default=d.lr, help="learning rate")
    parser.add_argument("--beta-max", type=number(0.0), default=d.beta_max, help="KL weight")
    parser.add_argument(
        "--beta-warmup", type=integer(0), default=d.beta_warmup, help="epochs to reach it"
    )
    parser.add_argument("--max-minutes", type=POSITIVE, default=None, help="stop after this long")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if present)")
    parser.add_argument("--seed", type=SEED, default=d.seed, help="random seed")
    parser.add_argument("--threads", type=THREADS, default=None, help="CPU threads")
    parser.add_argument("--no-resume", action="store_true", help="start over")
    parser.add_argument(
        "--no-augment",
        action="store_true",
        help="train on the library's PDFs only (default: half get another Qdamp and noise)",
    )
    parser.add_argument(
        "--init-from", default=None, help="fine-tune from another run folder's best weights"
    )
    parser.add_argument(
        "--posterior-log-sigma-init",
        type=number(),
        default=None,
        help="start the posterior's log σ here (e.g. -4) so the sampled z is not mostly "
        "noise at first (default: the network's own initialisation, log σ ≈ 0)",
    )
    parser.add_argument(
        "--decoder-fourier",
        type=integer(0, 4096),
        default=0,
        help="random Fourier features of z the decoder reads (0: z itself); give the same "
        "decoder options again when resuming",
    )
    parser.add_argument(
        "--decoder-fourier-scale", type=POSITIVE, default=2.0, help="their frequency spread"
    )
    parser.add_argument("--decoder-hidden", default=None, help="decoder widths, e.g. 512,1024,1024")
    parser.add_argument(
        "--architecture",
        default=None,
        metavar="FILE.json",
        help="the whole network as JSON (the 'architecture' of a run.json); the decoder "
        "options above then change it",
    )
    parser.add_argument(
        "--prior-refit-steps",
        type=integer(0),
        default=6000,
        help="steps of each of the three prior refits after training (0: none)",
    )


def architecture(args: argparse.Namespace, kind: str):
    """The network ``--architecture`` gives (else the library kind's default) with the
    decoder the options ask for; None when they ask for nothing (then training picks
    the kind's default)."""
    import dataclasses

    from deepstruc_gui.cli.common import parse_widths
    from deepstruc_gui.cli.main import UserError
    from deepstruc_gui.model.network import Architecture
    from deepstruc_gui.model.training import default_architecture

    if args.architecture:
        import json
        from pathlib import Path

        try:
            base = Architecture.from_dict(json.loads(Path(args.architecture).read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise UserError(f"--architecture {args.architecture}: {exc}") from exc
    elif not args.decoder_fourier and not args.decoder_hidden:
        return None
    else:
        base = default_architecture(kind)
    if not args.decoder_fourier and not args.decoder_hidden:
        return base
    changes: dict = {
        "decoder_fourier": args.decoder_fourier,
        "decoder_fourier_scale": args.decoder_fourier_scale,
    }
    if args.decoder_hidden:
        changes["decoder_hidden"] = parse_widths(args.decoder_hidden, "--decoder-hidden")
    return dataclasses.replace(base, **changes)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the exit code (0 on success). Bad input raises
    :class:`UserError`, which :func:`main` prints as one line with exit code 2."""
    import os
    from pathlib import Path

    from deepstruc_gui.cli.main import UserError
    from deepstruc_gui.model.library import Library, LibraryError
    from deepstruc_gui.model.training import (
        TrainConfig,
        adopt_last_epoch,
        export_bundle,
        refit_prior_on_posteriors,
        train,
    )

    try:
        kind = Library.open(args.library).kind
    except LibraryError as exc:
        raise UserError(str(exc)) from exc
    arch = architecture(args, kind)
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        beta_max=args.beta_max,
        beta_warmup=args.beta_warmup,
        max_minutes=args.max_minutes,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        init_from=args.init_from,
        augment=not args.no_augment,
        posterior_log_sigma_init=args.posterior_log_sigma_init,
    )
    run_dir = Path(args.output or f"runs/{kind}")
    from deepstruc_gui.cli.common import progress_bar

    main_process = int(os.environ.get("RANK", "0")) == 0  # under torchrun: rank 0 speaks
    with progress_bar("training", total=config.epochs, unit="epoch") as bar:
        if not main_process:
            bar.disable = True
        try:
            train(
                args.library,
                run_dir,
                config,
                arch=arch,
                resume=not args.no_resume,
                log=bar.write,
                on_epoch=lambda done, total: bar.update(done - bar.n),
            )
        except ValueError as exc:
            raise UserError(str(exc)) from exc
    if not main_process:
        return 0  # rank 0 refits the prior and writes the bundle
    print(f"refitting the prior on the last epoch's weights (epoch {adopt_last_epoch(run_dir)})")
    # the prior on bond-scaled input: a fresh encoder at lr 1e-3, then finer rounds
    if args.prior_refit_steps:
        for lr in (1e-3, 5e-4, 2.5e-4):
            refit_prior_on_posteriors(run_dir, steps=args.prior_refit_steps, lr=lr)
    name = args.name or kind
    bundle = export_bundle(run_dir, Path(args.bundle or run_dir / "bundle" / name), name)
    print(f"wrote model bundle {bundle}")
    return 0
