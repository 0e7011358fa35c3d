"""Write the accuracy tables of docs/MODEL.md and README.md from the shipped bundles.

The figures come from each bundle's stored ``metrics`` and ``metrics_measured_like``
(written by ``deepstruc-gui evaluate --store [--measured-like]``) and ``prior_fit``
(``refit-prior``), never typed by hand. Each table sits between marker comments
``<!-- metrics:NAME -->`` and ``<!-- /metrics:NAME -->``; everything outside them is
left alone. ``--check`` rewrites nothing and exits 1 when a document is stale
(tests/test_metrics_docs.py runs it on every test run).

    python scripts/write_metrics_docs.py            # rewrite the blocks
    python scripts/write_metrics_docs.py --check    # are the docs up to date?
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "resources" / "models"
DOCS = (ROOT / "docs" / "MODEL.md", ROOT / "README.md")
#: the shipped models in the order the tables list them
ORDER = ("mmnp", "stacking")
#: the paper's best-of-N test MAE (Kjær et al. 2023, Table 1), mean ± std, Å
PAPER_MAE = {"mmnp": "0.093 ± 0.058 Å", "stacking": "0.030 ± 0.019 Å"}

_BLOCK = re.compile(
    r"(<!-- metrics:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /metrics:(?P=name) -->)",
    re.DOTALL,
)


def load_metrics(models: Path = MODELS) -> dict[str, dict]:
    """model.json of every shipped bundle, by folder name (``ORDER`` first)."""
    found = {p.parent.name: json.loads(p.read_text()) for p in sorted(models.glob("*/model.json"))}
    return {k: found[k] for k in sorted(found, key=lambda k: (*ORDER, k).index(k))}


def _pct(x: float) -> str:
    """A stored share (4 decimals) as a percentage, rounded half up (0.9355 → 93.6 %,
    where binary floats would give 93.5)."""
    return f"{(Decimal(str(x)) * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)} %"


def _mae(pair: list[float]) -> str:
    # as stored (4 decimals): rounding again to 3 would round twice
    return f"{pair[0]:.4f} ± {pair[1]:.4f} Å"


def _worst(by_type: dict, key: str) -> str:
    """The lowest per-type share of ``key``, when a type falls below the overall one."""
    t = min(by_type, key=lambda t: by_type[t][key])
    return f" ({t} {_pct(by_type[t][key])})" if by_type[t][key] < 1 else ""


def model_table(meta: dict[str, dict]) -> str:
    """docs/MODEL.md: the test-split measures of every shipped model, side by side."""
    names = list(meta)
    m = {k: meta[k]["metrics"] for k in names}
    ml = {k: meta[k].get("metrics_measured_like") for k in names}
    n_best = {m[k]["samples"] for k in names}
    best = f"best of {n_best.pop()}" if len(n_best) == 1 else "best of N"

    def row(label: str, cell: Callable[[str], str], paper: str = "") -> str:
        return "| " + " | ".join([label, *(cell(k) for k in names), paper]) + " |"

    def shape(k: str, key: str) -> str:
        group = m[k]["by_shape"].get(key)
        if group is None:
            return "none"
        mae, median = _mae(group["mae_best_of_n"]), group["mae_best_of_n_median"]
        return f"{group['n']} of {m[k]['n_test']}: {mae} (median {median:.4f})"

    def measured(k: str, fmt: Callable[[dict], str]) -> str:
        return fmt(ml[k]) if ml[k] else "not measured"

    def final(x: dict | None) -> str:
        """The final answer (the model's candidates and the sequence search's), where
        ``evaluate --sequence-search`` measured it."""
        if not x or "mae_final" not in x:
            return "—"
        groups = {key: g for key, g in x.get("by_shape", {}).items() if "mae_final" in g}
        split = " / ".join(
            f"{label} {groups[key]['mae_final'][0]:.4f}"
            for key, label in (("in_training", "shapes in training"), ("not_in_training", "not"))
            if key in groups
        )
        return (
            f"**{_mae(x['mae_final'])}** (median {x['mae_final_median']:.4f}"
            + (f"; {split} Å" if split else "")
            + f"); type {_pct(x['type_accuracy_final'])}, "
            f"count ±10 % {_pct(x['atom_count_within_10pct_final'])}"
        )

    def order(k: str) -> str:
        s = m[k]["map"].get("stacking")
        if not s:
            return "—"
        return (
            f"ρ {s['spearman_fcc_fraction_vs_axis']:.3f}, "
            f"{_pct(s['faulted_between_fraction'])} between"
        )

    lines = [
        "| | " + " | ".join(f"{k} ({m[k]['n_test']} test)" for k in names) + " | paper |",
        "|---|" + "---|" * len(names) + "---|",
        row("MAE, prior mean", lambda k: _mae(m[k]["mae_prior_mean"])),
        row(
            f"MAE, {best} by Rw",
            lambda k: (
                f"**{_mae(m[k]['mae_best_of_n'])}** (median {m[k]['mae_best_of_n_median']:.4f})"
            ),
            ", ".join(f"{PAPER_MAE[k]} ({k})" for k in names if k in PAPER_MAE),
        ),
        row("— test shapes in training at another metal", lambda k: shape(k, "in_training")),
        row("— test shapes training never held", lambda k: shape(k, "not_in_training")),
        row(
            f"median Rw, prior mean / {best}",
            lambda k: f"{m[k]['rw_prior_mean_median']:.4f} / {m[k]['rw_best_of_n_median']:.4f}",
        ),
        row(
            "type right: prior mean (5 nearest on the map) / best candidate (nearest) (worst type)",
            lambda k: (
                f"{_pct(m[k]['type_accuracy'])} / **{_pct(m[k]['type_accuracy_best_of_n'])}**"
                + _worst(m[k]["by_type"], "type_accuracy_best_of_n")
            ),
        ),
        row(
            "atom count within ±10 %: prior mean / best candidate (worst type)",
            lambda k: (
                f"{_pct(m[k]['atom_count_within_10pct'])} / "
                f"{_pct(m[k]['atom_count_within_10pct_best_of_n'])}"
                + _worst(m[k]["by_type"], "atom_count_within_10pct_best_of_n")
            ),
        ),
        row(
            "map: leave-one-out 5-NN type accuracy",
            lambda k: _pct(m[k]["map"]["knn_type_accuracy"]),
        ),
        row(
            "map: cubic fraction along hcp→fcc (Spearman ρ) / faulted between fcc and hcp",
            order,
        ),
        row("final answer, model + sequence search (stacking models)", lambda k: final(m[k])),
        row(
            f"measured-like inputs: {best} MAE (median)",
            lambda k: measured(
                k, lambda x: f"{_mae(x['mae_best_of_n'])} ({x['mae_best_of_n_median']:.4f})"
            ),
        ),
        row(
            "measured-like inputs: type right, prior mean / best candidate",
            lambda k: measured(
                k,
                lambda x: f"{_pct(x['type_accuracy'])} / {_pct(x['type_accuracy_best_of_n'])}",
            ),
        ),
        row(
            "measured-like inputs: count within ±10 %, best candidate",
            lambda k: measured(k, lambda x: _pct(x["atom_count_within_10pct_best_of_n"])),
        ),
        row("measured-like inputs: final answer", lambda k: final(ml[k])),
    ]
    return "\n".join(lines) + "\n"


def by_type_table(meta: dict[str, dict]) -> str:
    """docs/MODEL.md: per structure type, the best candidate's MAE, type and count."""
    lines = [
        "| model | type | test | MAE best of N (median) | type right | count within ±10 % |",
        "|---|---|---|---|---|---|",
    ]
    for k, entry in meta.items():
        for t, x in entry["metrics"]["by_type"].items():
            lines.append(
                f"| {k} | {t} | {x['n']} | {_mae(x['mae_best_of_n'])} "
                f"({x['mae_best_of_n_median']:.4f}) | {_pct(x['type_accuracy_best_of_n'])} | "
                f"{_pct(x['atom_count_within_10pct_best_of_n'])} |"
            )
    return "\n".join(lines) + "\n"


def readme_table(meta: dict[str, dict]) -> str:
    """README.md: the few figures a user decides on, per shipped model."""
    lines = [
        "| model | test MAE, best of N (median) | type right | count within ±10 % "
        "| measured-like MAE (median) | true structure inside 3σ / 7σ (measured-like) "
        "| final answer with the sequence search: test MAE (type right) |",
        "|---|---|---|---|---|---|---|",
    ]
    for k, entry in meta.items():
        m, ml = entry["metrics"], entry.get("metrics_measured_like")
        cover = entry.get("prior_fit", {}).get("coverage_measured_like")
        lines.append(
            f"| {k} | {_mae(m['mae_best_of_n'])} ({m['mae_best_of_n_median']:.4f}) | "
            f"{_pct(m['type_accuracy_best_of_n'])} | "
            f"{_pct(m['atom_count_within_10pct_best_of_n'])} | "
            + (f"{_mae(ml['mae_best_of_n'])} ({ml['mae_best_of_n_median']:.4f})" if ml else "—")
            + " | "
            + (f"{_pct(cover['3sigma'])} / {_pct(cover['7sigma'])}" if cover else "—")
            + " | "
            + (
                f"{_mae(m['mae_final'])} ({_pct(m['type_accuracy_final'])})"
                if "mae_final" in m
                else "—"
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


BLOCKS: dict[str, Callable[[dict[str, dict]], str]] = {
    "model-table": model_table,
    "by-type": by_type_table,
    "readme-table": readme_table,
}


def rewrite(text: str, meta: dict[str, dict], where: str = "<text>") -> str:
    """``text`` with every marked block replaced by its table. An unknown block name
    raises ValueError naming ``where``."""

    def block(match: re.Match) -> str:
        name = match["name"]
        if name not in BLOCKS:
            raise ValueError(f"{where}: unknown metrics block {name!r} (known: {sorted(BLOCKS)})")
        return match.group(1) + BLOCKS[name](meta) + match.group(4)

    return _BLOCK.sub(block, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale documents")
    parser.add_argument("--models", default=str(MODELS), help="folder of model bundles")
    parser.add_argument("docs", nargs="*", default=[str(p) for p in DOCS])
    args = parser.parse_args(argv)
    meta = load_metrics(Path(args.models))
    stale = []
    for path in map(Path, args.docs):
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, meta, str(path))
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for path in stale:
        print(f"{path}: {'stale' if args.check else 'rewritten'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
