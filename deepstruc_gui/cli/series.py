"""``deepstruc-gui series``: solve every PDF of a folder, and each new one as it lands."""

from __future__ import annotations

import argparse

from deepstruc_gui.cli.args import SEED, integer, number

#: the pipeline's limit (not imported: --help stays fast)
MAX_SAMPLES = 100_000

HELP = "solve every PDF in a folder in name order; with --watch, each new one as it lands"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's positional arguments and options to ``parser``."""
    parser.add_argument("folder", help="folder the reduction program writes G(r) files into")
    parser.add_argument("--watch", action="store_true", help="keep solving new files until Ctrl+C")
    parser.add_argument("--pattern", default="*.gr", help="file names to take (shell pattern)")
    parser.add_argument("--model", default=None, help="shipped model name or bundle folder")
    parser.add_argument(
        "--samples",
        type=integer(1, MAX_SAMPLES),
        default=1000,
        help="latent points of a full search",
    )
    parser.add_argument(
        "--warm-samples",
        type=integer(1, MAX_SAMPLES),
        default=24,
        help="latent points around the previous frame's best (the warm start)",
    )
    parser.add_argument("--no-warm", action="store_true", help="run the full search on every frame")
    parser.add_argument(
        "--region-only",
        action="store_true",
        help="full searches are the paper's region search (with its whole-map fallback), "
        "without the Rw landscape of predict's default search",
    )
    parser.add_argument(
        "--no-size-extension",
        action="store_true",
        help="never build clusters larger than the training sizes (predict's option)",
    )
    parser.add_argument(
        "--csv",
        default=None,
        help="write one row per frame here as each finishes (replaces the file)",
    )
    parser.add_argument(
        "--jsonl",
        default=None,
        help="write one JSON line per frame here as each finishes (replaces the file)",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="folder for each frame's best structure (xyz) and fit (CSV), and for "
        "series.csv/series.jsonl unless --csv/--jsonl say otherwise",
    )
    parser.add_argument("--element", default=None, help="element of the written structures")
    parser.add_argument("--seed", type=SEED, default=0, help="seed of every search")
    parser.add_argument("--rmin", type=number(0.0, 200.0), default=2.0, help="fit range start (Å)")
    parser.add_argument(
        "--rmax", type=number(0.0, 200.0, above=True), default=30.0, help="fit range end (Å)"
    )
    parser.add_argument(
        "--settle",
        type=number(0.0, 3600.0),
        default=1.0,
        help="seconds a file's size and time must stay unchanged before it is read",
    )
    parser.add_argument(
        "--give-up",
        type=number(0.0, 86400.0),
        default=10.0,
        help="seconds after its last change an unreadable file is reported as an error",
    )
    parser.add_argument(
        "--polling",
        action="store_true",
        help="poll the folder instead of file-system events (chosen by itself on NFS/SMB)",
    )
    parser.add_argument("--device", default=None)


def _validate(args: argparse.Namespace):
    from pathlib import Path

    from ase.data import atomic_numbers

    from deepstruc_gui.cli.args import check_fit_range
    from deepstruc_gui.cli.main import UserError

    folder = Path(args.folder)
    if not folder.exists():
        raise UserError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder (give the folder the PDFs are written to)")
    if not args.pattern.strip() or "/" in args.pattern:
        raise UserError(f"--pattern {args.pattern!r}: give a file-name pattern such as '*.gr'")
    if args.warm_samples > args.samples:
        raise UserError(f"--warm-samples {args.warm_samples} is above --samples {args.samples}")
    check_fit_range(args.rmin, args.rmax)
    if args.settle > args.give_up:
        raise UserError(f"--settle {args.settle:g} must not be above --give-up {args.give_up:g}")
    if args.element and args.element not in atomic_numbers:
        raise UserError(f"--element {args.element}: not a chemical element")
    out = Path(args.out) if args.out else None
    csv_path = Path(args.csv) if args.csv else (out / "series.csv" if out else None)
    jsonl_path = Path(args.jsonl) if args.jsonl else (out / "series.jsonl" if out else None)
    if (
        csv_path is not None
        and jsonl_path is not None
        and csv_path.resolve() == jsonl_path.resolve()
    ):
        raise UserError(f"--csv and --jsonl name the same file {csv_path}")
    here = folder.resolve()
    if out is not None and out.resolve() == here:
        raise UserError("--out must not be the watched folder: its files are never written")
    for option, path in (("--csv", csv_path), ("--jsonl", jsonl_path)):
        if path is not None and path.resolve().parent == here:
            raise UserError(f"{option} {path}: write outside the watched folder")
        if path is not None and path.is_dir():
            raise UserError(f"{option} {path}: is a folder")
    return folder, out, csv_path, jsonl_path


LINE = (
    "{frame:>5} {name:<28} {rw:>7} {type:<12} {atoms:>5} {scale:>8} {expansion:>7} "
    "{biso:>6} {z1:>7} {z2:>7} {search:<8} {seconds:>6}  {notes}"
)


def _line(record, name: str) -> str:
    if not record.ok:
        return f"{record.frame:>5} {name:<28} error: {record.error}"
    return LINE.format(
        frame=record.frame,
        name=name[:28],
        rw=f"{record.rw:.4f}",
        type=record.type[:12],
        atoms=record.n_atoms,
        scale=f"{record.scale:.4g}",
        expansion=f"{record.expansion:.4f}",
        biso=f"{record.biso:.3f}",
        z1=f"{record.z1:.3f}",
        z2=f"{record.z2:.3f}",
        search=record.search.split(",")[0][:8],
        seconds=f"{record.seconds:.2f}",
        notes="; ".join(w["code"] for w in record.warnings),
    )


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the exit code (0 on success). Bad input raises
    :class:`UserError`, which :func:`main` prints as one line with exit code 2."""
    import signal
    import sys
    import threading

    from deepstruc_gui.cli.main import UserError
    from deepstruc_gui.model.bundle import BundleError
    from deepstruc_gui.model.pipeline import SolveSettings, load_predictor
    from deepstruc_gui.model.series import SeriesSettings, SeriesSolver, SeriesWriter
    from deepstruc_gui.model.series_watch import iter_ready

    folder, out, csv_path, jsonl_path = _validate(args)
    try:
        settings = SeriesSettings(
            search=SolveSettings(
                rmin=args.rmin,
                rmax=args.rmax,
                samples=args.samples,
                seed=args.seed,
                element=args.element,
                search="region" if args.region_only else "default",
                size_extension=not args.no_size_extension,
            ),
            warm_samples=args.warm_samples,
            warm=not args.no_warm,
        )
        predictor = load_predictor(args.model, args.device)
    except (BundleError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    solver = SeriesSolver(predictor, settings)
    stop = threading.Event()

    def request_stop(signum, _frame) -> None:
        """Signal handler: the first Ctrl+C stops after the current frame, a second raises
        ``KeyboardInterrupt`` at once (finished frames are already written)."""
        if stop.is_set():  # a second Ctrl+C: stop now (finished frames are written)
            raise KeyboardInterrupt
        stop.set()
        print("stopping after this frame (Ctrl+C again to stop at once)", file=sys.stderr)

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    mode = "watching" if args.watch else "solving"
    print(
        f"{mode} {folder} ({args.pattern}) with model {predictor.bundle.name} "
        f"on {predictor.device_name}",
        flush=True,
    )
    print(LINE.format(frame="frame", name="file", rw="Rw", type="type", atoms="atoms",
                      scale="scale", expansion="expand", biso="Biso", z1="z1", z2="z2",
                      search="search", seconds="s", notes="warnings"), flush=True)  # fmt: skip
    done = errors = 0
    told = False
    try:
        with SeriesWriter(csv_path, jsonl_path) as writer:
            frames = iter_ready(
                folder, args.pattern, args.watch, stop, args.settle, args.give_up,
                polling=True if args.polling else None,
            )  # fmt: skip
            try:
                for ready in frames:
                    record = solver.solve_frame(done + 1, ready.path, ready.data, ready.error or "")
                    writer.write(record)
                    wrote = (
                        _write_frame(out, ready, record, args.element)
                        if (out is not None and record.ok)
                        else True
                    )
                    if not wrote and not told:
                        told = True
                        print(f"{ready.path.name}: no composition in the header; give "
                              "--element SYMBOL to write structures", file=sys.stderr)  # fmt: skip
                    print(_line(record, ready.path.name), flush=True)
                    done += 1
                    errors += not record.ok
                    if stop.is_set():
                        break
            finally:
                frames.close()  # stops the watcher at once, also on a second Ctrl+C
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise UserError(str(exc)) from exc
    except OSError as exc:  # an output that cannot be written
        raise UserError(
            f"cannot write {exc.filename or 'an output'}: {exc.strerror or exc}"
        ) from exc
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    print(f"{done} frames ({errors} unreadable), {solver.full_searches} full searches", flush=True)
    return 0


def _write_frame(out, ready, record, element: str | None) -> bool:
    """The frame's best structure (``STEM_best.xyz``, extended XYZ with Rw, parameters
    and provenance) and its fit (``STEM_fit.csv``) into ``out``; False when no element
    is known for the structure (the fit is written all the same)."""
    from deepstruc_gui.model.export import result_provenance, write_fit_csv, write_structure

    result, stem = record.result, ready.path.stem
    info = result_provenance(result, ready.data)
    write_fit_csv(out / f"{stem}_fit.csv", record.candidate, ready.data, info)
    symbol = element or result.element
    if not symbol:
        return False
    write_structure(out / f"{stem}_best.xyz", record.candidate, symbol, info)
    return True
