"""``deepstruc-gui refit-map``: give a stacking model a designed map (cubic fraction × size)."""

from __future__ import annotations

import argparse

from deepstruc_gui.cli.args import POSITIVE
from deepstruc_gui.cli.common import add_refit_arguments, run_refit

HELP = (
    "give a stacking model a designed map: x from the cubic (fcc) fraction of each "
    "structure's stacking, y from its size; refit the decoder and the prior after it"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the shared refit options, then the layout settings, to ``parser``."""
    add_refit_arguments(parser)
    parser.add_argument(
        "--x-scale", type=POSITIVE, default=3.0, help="map units from hcp (0) to fcc (1)"
    )
    parser.add_argument(
        "--y-scale", type=POSITIVE, default=1.0, help="map units per standard deviation of ln N"
    )
    parser.add_argument(
        "--spread",
        type=POSITIVE,
        default=0.025,
        help="spacing of shapes of equal fcc fraction and atom count (map units)",
    )
    parser.add_argument(
        "--min-distance",
        type=POSITIVE,
        default=0.03,
        help="smallest distance kept between distinct shapes (map units)",
    )
    parser.add_argument(
        "--sigma", type=POSITIVE, default=0.005, help="posterior σ of every map point"
    )


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the exit code (0 on success). Bad input raises
    :class:`UserError`, which :func:`main` prints as one line with exit code 2."""
    from deepstruc_gui.model.map_fit import MapFitConfig, refit_map

    config = MapFitConfig(
        x_scale=args.x_scale,
        y_scale=args.y_scale,
        spread=args.spread,
        min_distance=args.min_distance,
        sigma=args.sigma,
    )
    return run_refit(
        args, lambda source, library, output: refit_map(source, library, output, config)
    )
