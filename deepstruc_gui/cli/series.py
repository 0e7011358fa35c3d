"""``deepstruc-gui series``: solve every PDF of a folder, and each new one as it lands."""

from __future__ import annotations

import argparse

HELP = "solve every PDF in a folder in name order; with --watch, each new one as it lands"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    parser.add_argument("folder", help="folder the reduction program writes G(r) files into")
    parser.add_argument("--watch", action="store_true", help="keep solving new files until Ctrl+C")
    parser.add_argument("--pattern", default="*.gr", help="file names to take (shell pattern)")
    parser.add_argument("--model", default=None, help="shipped model name or bundle folder")
    parser.add_argument("--samples", type=int, default=1000, help="latent points of a full search")
    parser.add_argument(
        "--warm-samples",
        type=int,
        default=24,
        help="latent points around the previous frame's best (the warm start)",
    )
    parser.add_argument("--no-warm", action="store_true", help="run the full search on every frame")
    parser.add_argument("--csv", default=None, help="append one row per frame to this CSV")
    parser.add_argument("--jsonl", default=None, help="append one JSON line per frame here")
    parser.add_argument(
        "--out",
        default=None,
        help="folder for each frame's best structure (xyz) and fit (CSV), and for "
        "series.csv/series.jsonl unless --csv/--jsonl say otherwise",
    )
    parser.add_argument("--element", default=None, help="element of the written structures")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rmin", type=float, default=2.0, help="fit range start (Å)")
    parser.add_argument("--rmax", type=float, default=30.0, help="fit range end (Å)")
    parser.add_argument(
        "--settle",
        type=float,
        default=1.0,
        help="seconds a file's size and time must stay unchanged before it is read",
    )
    parser.add_argument(
        "--give-up",
        type=float,
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

    from deepstruc_gui.cli.main import UserError

    folder = Path(args.folder)
    if not folder.exists():
        raise UserError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder (give the folder the PDFs are written to)")
    if not args.pattern.strip() or "/" in args.pattern:
        raise UserError(f"--pattern {args.pattern!r}: give a file-name pattern such as '*.gr'")
    if args.samples < 1 or args.warm_samples < 1:
        raise UserError("--samples and --warm-samples must be at least 1")
    if args.warm_samples > args.samples:
        raise UserError(f"--warm-samples {args.warm_samples} is above --samples {args.samples}")
    if not 0 <= args.rmin < args.rmax:
        raise UserError(f"the fit range needs 0 ≤ --rmin < --rmax, not {args.rmin}, {args.rmax}")
    if not 0 <= args.settle <= args.give_up:
        raise UserError("need 0 ≤ --settle ≤ --give-up")
    if args.seed < 0:
        raise UserError("--seed must be ≥ 0")
    if args.element and args.element not in atomic_numbers:
        raise UserError(f"--element {args.element}: not a chemical element")
    out = Path(args.out) if args.out else None
    csv_path = Path(args.csv) if args.csv else (out / "series.csv" if out else None)
    jsonl_path = Path(args.jsonl) if args.jsonl else (out / "series.jsonl" if out else None)
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
    import signal
    import sys
    import threading

    from deepstruc_gui.cli.main import UserError
    from deepstruc_gui.model.bundle import BundleError, ModelBundle, resolve_model
    from deepstruc_gui.model.inference import Predictor
    from deepstruc_gui.model.series import SeriesSettings, SeriesSolver, SeriesWriter
    from deepstruc_gui.model.series_watch import iter_ready

    folder, out, csv_path, jsonl_path = _validate(args)
    try:
        predictor = Predictor(ModelBundle.load(resolve_model(args.model)), args.device)
        settings = SeriesSettings(
            samples=args.samples,
            warm_samples=args.warm_samples,
            warm=not args.no_warm,
            rmin=args.rmin,
            rmax=args.rmax,
            seed=args.seed,
        )
    except (BundleError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    solver = SeriesSolver(predictor, settings)
    stop = threading.Event()

    def request_stop(signum, _frame) -> None:
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
    try:
        with SeriesWriter(csv_path, jsonl_path) as writer:
            frames = iter_ready(
                folder, args.pattern, args.watch, stop, args.settle, args.give_up,
                polling=True if args.polling else None,
            )  # fmt: skip
            for ready in frames:
                record = solver.solve_frame(done + 1, ready.path, ready.data, ready.error or "")
                writer.write(record)
                if out is not None and record.ok:
                    _write_frame(out, ready, record, args.element)
                print(_line(record, ready.path.name), flush=True)
                done += 1
                errors += not record.ok
                if stop.is_set():
                    break
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise UserError(str(exc)) from exc
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    print(f"{done} frames ({errors} unreadable), {solver.full_searches} full searches", flush=True)
    return 0


def _write_frame(out, ready, record, element: str | None) -> None:
    """The frame's best structure (xyz, its metal or ``X`` when no header names one)
    and its fit (r, Gobs, Gcalc, diff) into ``out``."""
    import numpy as np
    from ase import Atoms

    from deepstruc_gui.util.atomic import atomic_write

    c = record.candidate
    symbol = element or ready.data.main_element or "X"
    stem = ready.path.stem
    atoms = Atoms(f"{symbol}{c.n_atoms}", positions=c.positions)
    atoms.info.update(rw=c.rw, type=c.nearest_type, source=str(ready.path))
    with atomic_write(out / f"{stem}_best.xyz") as fh:
        atoms.write(fh, format="extxyz")
    gobs = np.interp(c.r, ready.data.r, ready.data.g)
    with atomic_write(out / f"{stem}_fit.csv") as fh:
        fh.write("r,Gobs,Gcalc,diff\n")
        np.savetxt(fh, np.column_stack([c.r, gobs, c.gcalc, gobs - c.gcalc]), delimiter=",",
                   fmt="%.6g")  # fmt: skip
