"""``deepstruc-gui evaluate``: a model's accuracy on a library's test split."""

from __future__ import annotations

import argparse

from deepstruc_gui.cli.args import POSITIVE_INT, SEED, part

HELP = (
    "measure a model on the test split (MAE, type and size accuracy, Rw, map quality), "
    "or with --beyond on simulated particles of 250–2,000 atoms"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's positional arguments and options to ``parser``."""
    parser.add_argument("--model", default=None, help="shipped model name or bundle folder")
    parser.add_argument(
        "--library", default=None, help="the library the model was trained on (not with --beyond)"
    )
    parser.add_argument(
        "--beyond",
        action="store_true",
        help="solve simulated particles of 250–2,000 atoms of the seven types (larger than "
        "any training structure) as predict does, size extension included; report the "
        "type family and atom count right (--samples: latent points of the region search)",
    )
    parser.add_argument(
        "--per-type", type=POSITIVE_INT, default=7, help="with --beyond: particles per type"
    )
    parser.add_argument(
        "--no-fallback",
        action="store_true",
        help="with --beyond: no whole-map search when the region fits poorly (faster)",
    )
    parser.add_argument(
        "--samples", type=POSITIVE_INT, default=100, help="candidates per structure"
    )
    parser.add_argument(
        "--limit", type=POSITIVE_INT, default=None, help="evaluate only this many (default: all)"
    )
    parser.add_argument(
        "--sequence-search",
        action="store_true",
        help="stacking models: also run the sequence search on each test PDF, as predict "
        "does, and report the final answer (mae_final, type_accuracy_final, …)",
    )
    parser.add_argument("--json", default=None, help="write the metrics here")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if present)")
    parser.add_argument(
        "--measured-like",
        action="store_true",
        help="test on the test structures' G(r) simulated under other experimental "
        "conditions (Qmin, Qmax, Qdamp, ADP, delta2, noise, range) instead of the library's",
    )
    parser.add_argument("--seed", type=SEED, default=0, help="seed of sampling and conditions")
    parser.add_argument(
        "--store", action="store_true", help="also write the metrics into the bundle's model.json"
    )
    parser.add_argument(
        "--part",
        type=part,
        default=(1, 1),
        metavar="K/N",
        help="evaluate every N-th test input from the K-th, so N processes share one "
        "evaluation (each with --results; then --merge)",
    )
    parser.add_argument(
        "--results", default=None, help="write the per-structure results here (JSON, for --merge)"
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        default=None,
        metavar="FILE",
        help="join the --results files of one evaluation's parts and report them (with "
        "--json, --store) as one run; evaluates nothing",
    )


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the exit code (0 on success). Bad input raises
    :class:`UserError`, which :func:`main` prints as one line with exit code 2."""
    import json

    import numpy as np

    from deepstruc_gui.cli.common import progress_bar
    from deepstruc_gui.cli.main import UserError
    from deepstruc_gui.model.bundle import BundleError, ModelBundle, resolve_model
    from deepstruc_gui.model.evaluation import evaluate_structures
    from deepstruc_gui.model.inference import Predictor
    from deepstruc_gui.model.library import Library, LibraryError
    from deepstruc_gui.util.atomic import atomic_write_text

    if args.beyond:
        return run_beyond(args)
    if args.merge:
        return run_merge(args)
    if args.library is None:
        raise UserError("evaluate needs --library (or --beyond for the simulated large particles)")
    try:
        bundle = ModelBundle.load(resolve_model(args.model))
        library = Library.open(args.library)
    except (BundleError, LibraryError) as exc:
        raise UserError(str(exc)) from exc
    predictor = Predictor(bundle, args.device)
    sequence_search = None
    if args.sequence_search:
        from deepstruc_gui.model.sequence_search import SequenceSearchSettings, is_stacking_model

        if not is_stacking_model(bundle.metadata):
            raise UserError(f"--sequence-search needs a stacking model; {bundle.name} is not one")
        sequence_search = SequenceSearchSettings()
    test = library.indices("test")
    if args.limit:
        test = np.random.default_rng(0).permutation(test)[: args.limit]
    measured_like = None
    if args.measured_like:
        from deepstruc_gui.model.measured_like import measured_like_pdfs

        structures = [library.structure(int(i)) for i in test]
        measured_like = measured_like_pdfs(structures, 1, args.seed, base=library.parameters)
    bar = progress_bar("test structures", total=len(test), unit="structure")
    results = evaluate_structures(
        predictor,
        library,
        test,
        samples=args.samples,
        seed=args.seed,
        progress=lambda k, n: bar.update(1),
        measured_like=measured_like,
        sequence_search=sequence_search,
        part=args.part,
    )
    bar.close()
    settings = run_settings(args, bundle)
    if args.results:
        import dataclasses

        record = {
            "settings": settings,
            "part": list(args.part),
            "results": [dataclasses.asdict(r) for r in results],
        }
        atomic_write_text(args.results, json.dumps(record, default=float))
        print(f"wrote {len(results)} results to {args.results}")
    if args.part != (1, 1):
        if args.store:
            raise UserError("--store takes the whole evaluation: store with --merge")
        return 0
    return report(args, bundle, results, settings)


def run_settings(args: argparse.Namespace, bundle) -> dict:
    """What makes two parts one evaluation (``--merge`` checks it)."""
    return {
        "model": bundle.name,
        "weights_sha256": bundle.metadata.get("weights_sha256"),
        "library": str(args.library),
        "samples": args.samples,
        "seed": args.seed,
        "limit": args.limit,
        "inputs": "measured-like" if args.measured_like else "library",
        "sequence_search": bool(args.sequence_search),
    }


def report(args: argparse.Namespace, bundle, results, settings: dict) -> int:
    """Print the metrics of ``results``; with --json write them, with --store keep them
    in the bundle's model.json."""
    import json

    from deepstruc_gui.model.evaluation import map_quality, summarise
    from deepstruc_gui.util.atomic import atomic_write_text

    metrics = summarise(results)
    metrics["map"] = map_quality(bundle.latent_map)
    metrics["samples"] = settings["samples"]
    metrics["inputs"] = settings["inputs"]
    metrics["sequence_search"] = settings["sequence_search"]
    print(json.dumps(metrics, indent=1))
    if args.json:
        atomic_write_text(args.json, json.dumps(metrics, indent=1))
    if args.store:
        from deepstruc_gui.model.bundle import update_metrics

        key = "metrics_measured_like" if settings["inputs"] == "measured-like" else "metrics"
        update_metrics(bundle.path, metrics, key)
        print(f"stored the metrics in {bundle.path}")
    return 0


def run_merge(args: argparse.Namespace) -> int:
    """``evaluate --merge FILE…``: the parts of one evaluation, reported as one run."""
    import json
    from pathlib import Path

    from deepstruc_gui.cli.main import UserError
    from deepstruc_gui.model.bundle import BundleError, ModelBundle, resolve_model
    from deepstruc_gui.model.evaluation import merge_parts

    parts = []
    for path in args.merge:
        try:
            parts.append(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise UserError(f"{path}: not a results file of evaluate --results ({exc})") from exc
    try:
        results = merge_parts(parts)
        bundle = ModelBundle.load(resolve_model(args.model))
    except (ValueError, KeyError, TypeError, BundleError) as exc:
        raise UserError(f"--merge {' '.join(args.merge)}: {exc}") from exc
    settings = parts[0]["settings"]
    if settings["weights_sha256"] != bundle.metadata.get("weights_sha256"):
        raise UserError(
            f"--merge: the parts were evaluated with model {settings['model']} of other "
            f"weights than {bundle.path}"
        )
    return report(args, bundle, results, settings)


def run_beyond(args: argparse.Namespace) -> int:
    """``evaluate --beyond``: the size extension's table (model/beyond_evaluation.py)."""
    import json

    from deepstruc_gui.cli.common import progress_bar
    from deepstruc_gui.cli.main import UserError
    from deepstruc_gui.model.beyond_evaluation import (
        beyond_cases,
        evaluate_case,
        summarise_beyond,
    )
    from deepstruc_gui.model.bundle import BundleError
    from deepstruc_gui.model.pipeline import SolveSettings, load_predictor
    from deepstruc_gui.util.atomic import atomic_write_text

    try:
        predictor = load_predictor(args.model, args.device)
    except BundleError as exc:
        raise UserError(str(exc)) from exc
    cases = beyond_cases(args.per_type, args.seed)
    if args.limit:
        cases = cases[: args.limit]
    settings = SolveSettings(samples=args.samples, seed=args.seed, fallback=not args.no_fallback)
    rows = []
    print(
        f"{'type':<11} {'atoms':>5} | {'answer':<11} {'atoms':>5} {'Rw':>6} {'source':<14} | "
        f"{'model':<11} {'atoms':>5} {'Rw':>6} | ok  shape"
    )
    with progress_bar("particles", total=len(cases), unit="particle") as bar:
        for case in cases:
            row = evaluate_case(predictor, case, settings)
            rows.append(row)
            ok = ("T" if row.type_right else "-") + ("N" if row.atoms_right else "-")
            bar.write(
                f"{row.structure_type:<11} {row.n_atoms:>5} | {row.answer_type:<11} "
                f"{row.answer_atoms:>5} {row.answer_rw:6.3f} {row.answer_source:<14} | "
                f"{row.model_type:<11} {row.model_atoms:>5} {row.model_rw:6.3f} | {ok}  "
                f"{case.shape} → {row.answer_shape or 'decoded'}"
            )
            bar.update(1)
    metrics = summarise_beyond(rows)
    metrics["samples"] = args.samples
    metrics["seed"] = args.seed
    metrics["device"] = predictor.device_name
    print(json.dumps({k: v for k, v in metrics.items()}, indent=1))
    if args.json:
        metrics["rows"] = [r.to_dict() for r in rows]
        atomic_write_text(args.json, json.dumps(metrics, indent=1))
    return 0
