"""``deepstruc-gui``: the window with no arguments, headless work with a subcommand.

Each subcommand lives in its own module under ``deepstruc_gui.cli`` exposing
``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``. Modules are
imported only when listed here, and heavy libraries only inside ``run``.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
from pathlib import Path

from deepstruc_gui import __version__

# subcommand name -> module; the order is the order of ``--help``.
SUBCOMMANDS: dict[str, str] = {
    "simulate": "deepstruc_gui.cli.simulate",
    "fit": "deepstruc_gui.cli.fit",
    "data": "deepstruc_gui.cli.data",
    "train": "deepstruc_gui.cli.train",
    "refit-decoder": "deepstruc_gui.cli.refit_decoder",
    "refit-prior": "deepstruc_gui.cli.refit_prior",
    "refit-map": "deepstruc_gui.cli.refit_map",
    "predict": "deepstruc_gui.cli.predict",
    "series": "deepstruc_gui.cli.series",
    "evaluate": "deepstruc_gui.cli.evaluate",
    "self-test": "deepstruc_gui.cli.selftest",
}


class UserError(Exception):
    """A problem with the user's input: printed as one clear line, exit code 2."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, unless it is None or False (nothing to show) or
    the help text already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per entry of ``SUBCOMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="deepstruc-gui",
        description="Solve nanoparticle structures from PDF data with DeepStruc. "
        "Without a subcommand the window opens (optionally on FILE).",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(
            name, help=module.HELP, description=module.HELP, formatter_class=HelpFormatter
        )
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: open the window (optionally on a file) or run a subcommand.

    Returns the exit code: 0 on success, 1 when the window is unavailable or the
    self-test fails, 2 for bad input (unknown word, no display, :class:`UserError`),
    130 when interrupted."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0] not in SUBCOMMANDS and not argv[0].startswith("-")):
        if argv and not Path(argv[0]).exists():
            return _unknown_word(argv[0])
        if not has_display():
            print(
                "deepstruc-gui: no display, so the window cannot open; headless work goes "
                f"through a subcommand ({', '.join(SUBCOMMANDS)}); see deepstruc-gui --help",
                file=sys.stderr,
            )
            return 2
        return _open_window(argv)
    if argv[0] == "--self-test":  # the installer's spelling of the subcommand
        argv = ["self-test", *argv[1:]]
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except UserError as exc:
        print(f"deepstruc-gui {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def has_display() -> bool:
    """Whether a window can open: always on Windows and macOS; elsewhere an X11 or
    Wayland display, or a Qt platform chosen explicitly (``QT_QPA_PLATFORM``, e.g.
    ``offscreen`` in tests)."""
    if sys.platform in ("win32", "darwin"):
        return True
    return any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def _unknown_word(word: str) -> int:
    close = difflib.get_close_matches(word, SUBCOMMANDS, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    print(
        f"deepstruc-gui: error: '{word}' is neither a command nor an existing file; "
        f"{hint}commands: {', '.join(SUBCOMMANDS)} (see deepstruc-gui --help)",
        file=sys.stderr,
    )
    return 2


def _open_window(argv: list[str]) -> int:
    try:
        app_module = importlib.import_module("deepstruc_gui.gui.app")
    except ImportError as exc:  # the window is optional for headless installs
        print(f"deepstruc-gui: the window is not available ({exc}); see --help", file=sys.stderr)
        return 1
    return int(app_module.run(argv) or 0)
