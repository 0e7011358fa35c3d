"""Evaluation against the paper's measures, on a library's test split.

For every test structure, from its PDF alone:
* decode the prior mean, fit scale/expansion/ADP against the true PDF, apply the
  refined expansion, and compare with the truth: xyz mean absolute error over atoms
  matched one-to-one by the Hungarian assignment (the per-coordinate MAE the paper
  reports), atom count within ±10 %, type of the nearest training structures;
* best of N: the N points the app searches within 3σ of the prior (training-map
  points inside the region, then uniform samples), fit all, keep the lowest Rw; the
  same three measures for it (its type: that of the map structure nearest to it,
  which is what the app's ranked table shows).
With the sequence search (stacking models), the final answer as ``predict`` gives it:
the best Rw of those N candidates and of the stackings the search builds from their
reading (:mod:`deepstruc_gui.model.sequence_search`), measured the same way.
The same on measured-like inputs (``measured_like``): the test structures' G(r)
simulated again under other experimental conditions, with correlated noise — how
the model fares on data it was not simulated for.
And for the map: k-NN type accuracy of the training structures (leave-one-out) and,
per type, how much of the size variation a linear function of z explains (R²).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from deepstruc_gui.model.bundle import LatentMap
from deepstruc_gui.model.inference import Predictor
from deepstruc_gui.model.library import Library, shape_label
from deepstruc_gui.model.measured_like import MeasuredLikePDFs
from deepstruc_gui.model.pipeline import fit_config_for
from deepstruc_gui.model.sequence_search import SequenceSearchSettings
from deepstruc_gui.model.solve import region_points
from deepstruc_gui.science.debye import PDFParameters
from deepstruc_gui.science.fitting import fit_candidates


def matched_mae(pred: np.ndarray, true: np.ndarray) -> float:
    """Per-coordinate MAE (Å) over atoms paired by the Hungarian assignment."""
    cost = cdist(pred, true)
    rows, cols = linear_sum_assignment(cost)
    return float(np.abs(pred[rows] - true[cols]).mean())


@dataclass
class StructureResult:
    """One evaluated test structure: true and predicted atom counts, the matched MAE (Å)
    and Rw of the prior-mean decode and of the best-Rw candidate, their types, and
    whether the training split holds this structure's shape."""

    index: int
    type: str
    n_true: int
    n_pred: int
    mae: float
    rw: float
    predicted_type: str
    best_rw: float
    best_mae: float
    #: type of the map structure nearest the best candidate: what the ranked table shows
    best_type: str
    n_best: int
    #: the training split holds this structure's shape (at another bond length)
    shape_in_training: bool = True
    #: with the sequence search: the final answer (best Rw of the N candidates and the
    #: built stackings), its MAE (Å), type, atoms and source
    final_rw: float | None = None
    final_mae: float | None = None
    final_type: str = ""
    n_final: int = 0
    final_source: str = ""
    #: the final answer carries ``not-unique`` (model/ambiguity.py): candidates as good
    #: within the data's noise disagree on type or atom count
    final_not_unique: bool | None = None


def evaluate_structures(
    predictor: Predictor,
    library: Library,
    indices: np.ndarray,
    samples: int = 100,
    sigma: float = 3.0,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    measured_like: MeasuredLikePDFs | None = None,
    sequence_search: SequenceSearchSettings | None = None,
    part: tuple[int, int] = (1, 1),
) -> list[StructureResult]:
    """One result per test input: the library's own PDFs of ``indices`` or, with
    ``measured_like``, those variants (``source`` indexes ``indices``), each fitted with
    the Qmin and Qmax it was simulated with, as a measured file's header gives them.

    ``sequence_search`` (stacking models): also run the sequence search
    (model/sequence_search.py) on the reading of the best N candidates, as ``predict``
    does, and record the final answer — the best Rw of both — in ``final_*``.

    ``part`` = (k, n): only every n-th input from the k-th (1-based), so n processes
    share one evaluation (:func:`merge_parts` joins them). Each input's random points
    come from its own seed (``seed``, its position), so a split gives the same results
    as one run."""
    base = PDFParameters.from_dict(predictor.bundle.metadata["pdf_parameters"])
    r = base.r_grid
    k_part, n_parts = part
    if not 1 <= k_part <= n_parts:
        raise ValueError(f"part {k_part}/{n_parts}: k must be within 1…n")
    if measured_like is None:
        inputs = [(int(i), library.pdfs[int(i)].astype(np.float64), base) for i in indices]
    else:
        inputs = [
            (
                int(indices[k]),
                g.astype(np.float64),
                dataclasses.replace(base, qmin=p.qmin, qmax=p.qmax),
            )
            for k, g, p in zip(
                measured_like.source, measured_like.pdf, measured_like.params, strict=True
            )
        ]
    trained_shapes = {shape_label(str(library.names[j])) for j in library.indices("train")}
    results = []
    mine = list(enumerate(inputs))[k_part - 1 :: n_parts]
    for k, (position, (i, g, params)) in enumerate(mine):
        rng = np.random.default_rng([seed, position])
        true = library.structure(i)
        true = true - true.mean(axis=0)
        mean, sig = predictor.prior(g)
        z = np.vstack(
            [mean[None], region_points(predictor.map_mu, mean, sigma * sig, samples, rng)]
        )
        clusters = predictor.decode(z, predictor.bond_length(g))
        config, _ = fit_config_for(None, params)  # the simulated Qmin/Qmax, fit 2–30 Å
        fit = fit_candidates(clusters, r, g, config, device=predictor.device)
        pred0 = clusters[0] * fit.expansion[0]
        best = int(np.argmin(fit.rw))
        pred_best = clusters[best] * fit.expansion[best]
        final = {}
        if sequence_search is not None:
            final = _final_answer(predictor, z, fit, clusters, g, r, config, sequence_search, true)
        results.append(
            StructureResult(
                index=i,
                type=str(library.types[i]),
                n_true=len(true),
                n_pred=len(pred0),
                mae=matched_mae(pred0, true),
                rw=float(fit.rw[0]),
                predicted_type=predictor.nearest_type(mean)[0],
                best_rw=float(fit.rw[best]),
                best_mae=matched_mae(pred_best, true),
                best_type=predictor.candidate_type(z[best])[0],
                n_best=len(pred_best),
                shape_in_training=shape_label(str(library.names[i])) in trained_shapes,
                **final,
            )
        )
        if progress:
            progress(k + 1, len(mine))
    return results


def merge_parts(parts: list[dict]) -> list[StructureResult]:
    """The results of one evaluation split over processes (``evaluate --part K/N
    --results FILE``; each ``{"settings": {...}, "part": [k, n], "results": [...]}``),
    in input order. Raises ``ValueError`` when the parts' settings differ or the parts
    are not 1…N exactly once."""
    if not parts:
        raise ValueError("no parts to merge")
    settings = parts[0]["settings"]
    n = int(parts[0]["part"][1])
    for part in parts:
        if part["settings"] != settings:
            raise ValueError(f"part {part['part']} was run with other settings: {part['settings']}")
    ks = sorted(int(p["part"][0]) for p in parts)
    if ks != list(range(1, n + 1)) or any(int(p["part"][1]) != n for p in parts):
        raise ValueError(f"parts {ks} of {n}: need each of 1…{n} once")
    by_k = {int(p["part"][0]): [StructureResult(**r) for r in p["results"]] for p in parts}
    merged = []
    for j in range(max(len(v) for v in by_k.values())):
        merged += [by_k[k][j] for k in range(1, n + 1) if j < len(by_k[k])]
    return merged


def _final_answer(predictor, z, fit, clusters, g, r, config, settings, true) -> dict:
    """The sequence search on the reading of the best-Rw points ``z`` and the final
    answer against ``true``: the ``final_*`` fields of :class:`StructureResult`."""
    from types import SimpleNamespace

    from deepstruc_gui.model.ambiguity import ambiguity_warning
    from deepstruc_gui.model.sequence_search import model_reading, search_stackings
    from deepstruc_gui.science.pdf_io import PDFData

    order = np.argsort(fit.rw)[: settings.readings]
    reading = model_reading(predictor, z[order], settings.readings)
    found = search_stackings(
        PDFData(None, r, g), config, reading, predictor.bond_length(g), settings, predictor.device
    ).candidates
    best = int(order[0])
    types = predictor.candidate_type(z)
    ranked = sorted(
        [
            SimpleNamespace(rw=float(fit.rw[i]), n_atoms=len(clusters[i]), nearest_type=types[i])
            for i in range(len(clusters))
        ]
        + list(found),
        key=lambda c: c.rw,
    )
    unsure = ambiguity_warning(
        PDFData(None, r, g), ranked, config.params.qmax, (config.rmin, config.rmax)
    )
    flag = {"final_not_unique": unsure is not None}
    if found and found[0].rw < fit.rw[best]:
        c = found[0]
        return {
            "final_rw": c.rw,
            "final_mae": matched_mae(c.positions, true),
            "final_type": c.nearest_type,
            "n_final": c.n_atoms,
            "final_source": c.source,
            **flag,
        }
    pred = clusters[best] * fit.expansion[best]
    return {
        "final_rw": float(fit.rw[best]),
        "final_mae": matched_mae(pred, true),
        "final_type": types[best],
        "n_final": len(pred),
        "final_source": "model",
        **flag,
    }


def map_quality(latent_map: LatentMap, k: int = 5) -> dict:
    """Leave-one-out k-NN type accuracy and per-type size R² on the map."""
    mu = np.asarray(latent_map.mu)
    types = np.asarray(latent_map.types)
    d = cdist(mu, mu)
    np.fill_diagonal(d, np.inf)
    nn = np.argsort(d, axis=1)[:, :k]
    votes = []
    for row in nn:
        values, counts = np.unique(types[row], return_counts=True)
        votes.append(values[np.argmax(counts)])
    accuracy = float(np.mean(np.asarray(votes) == types))
    size_r2 = {}
    for t in sorted(set(types.tolist())):
        sel = types == t
        if sel.sum() < 5:
            continue
        x = np.column_stack([mu[sel], np.ones(sel.sum())])
        y = np.asarray(latent_map.n_atoms)[sel].astype(float)
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        resid = y - x @ coef
        size_r2[t] = float(1 - resid.var() / y.var()) if y.var() > 0 else 1.0
    out = {"knn_type_accuracy": accuracy, "size_r2_by_type": size_r2}
    fraction = np.asarray(latent_map.fcc_fraction, dtype=float)
    if fraction.size == len(types) and np.isfinite(fraction).any():
        out["stacking"] = stacking_order(mu, fraction, latent_map.names)
    return out


def stacking_order(
    mu: np.ndarray, fcc_fraction: np.ndarray, names: list[str] | None = None
) -> dict:
    """Do faulted structures lie between fcc and hcp? Project points on the line from
    the hcp centroid (0) to the fcc centroid (1): over the whole map, and within groups
    of clusters of the same layer count, patch and metal (names ``SEQ_PATCH_METAL_d``).

    Size orders most of the map (atom count explains ~80 % of the position within each
    type), so one axis across all sizes says little about stacking; among clusters that
    differ only in their stacking it is the paper's question.
    """
    from collections import defaultdict

    from scipy.stats import spearmanr

    ok = np.isfinite(fcc_fraction)
    mu, f = np.asarray(mu)[ok], np.asarray(fcc_fraction)[ok]

    def axis_position(sel: np.ndarray) -> np.ndarray:
        """Position of every map point along the hcp→fcc axis of ``sel`` (0 at the mean
        of hcp points, 1 at the mean of fcc points), (n,)."""
        fcc, hcp = mu[sel & (f == 1)].mean(axis=0), mu[sel & (f == 0)].mean(axis=0)
        axis = fcc - hcp
        return (mu - hcp) @ axis / max(float(axis @ axis), 1e-12)

    t = axis_position(np.ones(len(f), dtype=bool))
    faulted = (f > 0) & (f < 1)
    out = {
        "spearman_fcc_fraction_vs_axis": round(float(spearmanr(f, t).statistic), 4),
        "faulted_between_fraction": round(float(np.mean((t[faulted] > 0) & (t[faulted] < 1))), 4),
    }
    if names is None:
        return out
    groups: dict[tuple, list[int]] = defaultdict(list)
    for k, name in enumerate(np.asarray(names)[ok]):
        seq, patch, metal = str(name).split("_")[:3]
        groups[(len(seq), patch, metal)].append(k)
    between, rhos = [], []
    for members in groups.values():
        sel = np.zeros(len(f), dtype=bool)
        sel[members] = True
        if not ((f[sel] == 1).any() and (f[sel] == 0).any()):
            continue
        tg = axis_position(sel)
        inner = sel & faulted
        between += list((tg[inner] > 0) & (tg[inner] < 1))
        if inner.sum() >= 3:
            rhos.append(spearmanr(f[sel], tg[sel]).statistic)
    if between:
        out["within_groups_faulted_between_fraction"] = round(float(np.mean(between)), 4)
        out["within_groups_median_spearman"] = round(float(np.nanmedian(rhos)), 4)
        out["within_groups"] = len(rhos)
    return out


#: a final answer is "right" when its MAE is below this (Å) and its count within 10 %
RIGHT_MAE = 0.1


def final_right(r: StructureResult) -> bool:
    """The final answer is the structure: MAE < :data:`RIGHT_MAE` and atoms ±10 %."""
    return (
        r.final_mae is not None
        and r.final_mae < RIGHT_MAE
        and abs(r.n_final - r.n_true) <= 0.1 * r.n_true
    )


def _measures(results: list[StructureResult]) -> dict:
    """The paper's measures over ``results``: MAE mean and spread, type and atom count
    right, Rw — for the prior mean and for the best of N."""
    mae = np.array([r.mae for r in results])
    best_mae = np.array([r.best_mae for r in results])

    def share(flags) -> float:
        """Mean of the flags, rounded to 4 decimals."""
        return round(float(np.mean(flags)), 4)

    def count_ok(n: int, n_true: int) -> bool:
        """True when an atom count is within 10 % of the true one."""
        return abs(n - n_true) <= 0.1 * n_true

    out = {
        "n": len(results),
        "mae_prior_mean": [round(float(mae.mean()), 4), round(float(mae.std()), 4)],
        "mae_best_of_n": [round(float(best_mae.mean()), 4), round(float(best_mae.std()), 4)],
        "mae_best_of_n_median": round(float(np.median(best_mae)), 4),
        "type_accuracy": share([r.predicted_type == r.type for r in results]),
        "type_accuracy_best_of_n": share([r.best_type == r.type for r in results]),
        "atom_count_within_10pct": share([count_ok(r.n_pred, r.n_true) for r in results]),
        "atom_count_within_10pct_best_of_n": share([count_ok(r.n_best, r.n_true) for r in results]),
        "rw_prior_mean_median": round(float(np.median([r.rw for r in results])), 4),
        "rw_best_of_n_median": round(float(np.median([r.best_rw for r in results])), 4),
    }
    if results and all(r.final_mae is not None for r in results):
        final = np.array([r.final_mae for r in results])
        out |= {
            "mae_final": [round(float(final.mean()), 4), round(float(final.std()), 4)],
            "mae_final_median": round(float(np.median(final)), 4),
            "type_accuracy_final": share([r.final_type == r.type for r in results]),
            "atom_count_within_10pct_final": share(
                [count_ok(r.n_final, r.n_true) for r in results]
            ),
            "rw_final_median": round(float(np.median([r.final_rw for r in results])), 4),
            "final_from_sequence_search": share(
                [r.final_source == "sequence-search" for r in results]
            ),
        }
        flagged = [r for r in results if r.final_not_unique is not None]
        if flagged:
            wrong = [r for r in flagged if not final_right(r)]
            right = [r for r in flagged if final_right(r)]
            out |= {
                # not-unique: how often, on wrong final answers (wanted) and on right
                # ones (a false alarm: the data did decide)
                "not_unique_final": share([r.final_not_unique for r in flagged]),
                "final_wrong": len(wrong),
                "not_unique_when_wrong": share([r.final_not_unique for r in wrong])
                if wrong
                else None,
                "not_unique_when_right": share([r.final_not_unique for r in right])
                if right
                else None,
            }
    return out


def summarise(results: list[StructureResult]) -> dict:
    """Measures over all results, per structure type, and apart for structures whose
    shape the training split holds (at another bond length) and those whose shape it
    does not — the first is recognition and decoding precision, the second
    generalisation to a shape the model never saw."""
    overall = _measures(results)
    out = {"n_test": overall.pop("n"), **overall}
    out["by_type"] = {
        t: _measures([r for r in results if r.type == t]) for t in sorted({r.type for r in results})
    }
    out["by_shape"] = {
        key: _measures(group)
        for key, seen in (("in_training", True), ("not_in_training", False))
        if (group := [r for r in results if r.shape_in_training == seen])
    }
    return out
