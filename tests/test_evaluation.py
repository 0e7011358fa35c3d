"""Map measures: the stacking order within groups of clusters that differ only in stacking."""

from __future__ import annotations

import numpy as np

from deepstruc_gui.model.evaluation import stacking_order


def test_faulted_between_fcc_and_hcp_within_each_size_group() -> None:
    # two sizes far apart on the map (size dominates), stacking ordered along x in each
    names, mu, f = [], [], []
    for layers, y in (("ABCAB", 0.0), ("ABCABCA", 10.0)):
        for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
            names.append(f"{layers}_c2.2a_Pt_2.60")  # grouped by layer count, patch, metal
            mu.append([fraction * 2.0 + (y / 10) * 30.0, y])
            f.append(fraction)
    out = stacking_order(np.array(mu), np.array(f), names)
    assert out["within_groups"] == 2
    assert out["within_groups_faulted_between_fraction"] == 1.0
    assert out["within_groups_median_spearman"] == 1.0
    # over the whole map the size offset hides it
    assert out["faulted_between_fraction"] < 1.0
    assert "within_groups" not in stacking_order(np.array(mu), np.array(f))


def test_summary_scores_the_prior_mean_and_the_best_candidate_apart() -> None:
    from deepstruc_gui.model.evaluation import StructureResult, summarise

    def result(t, n_true, n_pred, n_best, predicted, best_type, mae, best_mae, seen=True):
        return StructureResult(
            index=0, type=t, n_true=n_true, n_pred=n_pred, mae=mae, rw=0.5,
            predicted_type=predicted, best_rw=0.1, best_mae=best_mae,
            best_type=best_type, n_best=n_best, shape_in_training=seen,
        )  # fmt: skip

    results = [
        # the prior mean is the wrong type and size, the search finds the right ones
        result("hcp", 100, 50, 105, "fcc", "hcp", 0.6, 0.02),
        # a shape training never held: the one the search gets wrong
        result("hcp", 100, 100, 120, "hcp", "hcp", 0.1, 0.40, seen=False),
        result("fcc", 40, 40, 40, "fcc", "faulted", 0.05, 0.03),
    ]
    m = summarise(results)
    assert m["type_accuracy"] == round(2 / 3, 4)
    assert m["type_accuracy_best_of_n"] == round(2 / 3, 4)
    assert m["atom_count_within_10pct"] == round(2 / 3, 4)
    assert m["atom_count_within_10pct_best_of_n"] == round(2 / 3, 4)
    assert m["by_type"]["hcp"]["type_accuracy"] == 0.5
    assert m["by_type"]["hcp"]["type_accuracy_best_of_n"] == 1.0
    assert m["by_type"]["hcp"]["atom_count_within_10pct_best_of_n"] == 0.5
    assert m["by_type"]["fcc"]["type_accuracy_best_of_n"] == 0.0
    assert m["mae_best_of_n"][0] == round((0.02 + 0.40 + 0.03) / 3, 4)
    assert m["mae_best_of_n_median"] == 0.03
    assert m["by_type"]["hcp"]["mae_best_of_n"] == [0.21, 0.19]
    assert m["by_shape"]["in_training"]["n"] == 2
    assert m["by_shape"]["in_training"]["mae_best_of_n"][0] == 0.025
    assert m["by_shape"]["not_in_training"]["mae_best_of_n"] == [0.4, 0.0]
    assert m["by_shape"]["not_in_training"]["atom_count_within_10pct_best_of_n"] == 0.0
    # a test split whose shapes are all in training has no second group
    assert "not_in_training" not in summarise(results[::2])["by_shape"]


def test_an_entry_name_gives_back_its_shape() -> None:
    from deepstruc_gui.model.library import entry_name, shape_label

    assert shape_label(entry_name("sc_h1_k2_l3", "Ni", 2.3)) == "sc_h1_k2_l3"
    assert shape_label(entry_name("ABCA_c1.6a", "Pt", 2.8)) == "ABCA_c1.6a"
    assert entry_name("ABCA_c1.6a", "Pt", 2.8) == "ABCA_c1.6a_Pt_2.80"


def test_stacking_order_accumulates_over_groups_and_skips_groups_without_both_ends() -> None:
    # group A (5 layers): hcp at x=10, fcc at x=12; faulted at t = 0.25, 1.5, 0.75
    # group B (7 layers): hcp x=0, fcc x=4, one faulted between
    # group C (9 layers): no hcp end: skipped
    rows = [
        ("ABCAB", 0.0, 10.0, 5.0), ("ABCAB", 1.0, 12.0, 5.0), ("ABCAB", 0.25, 10.5, 5.0),
        ("ABCAB", 0.5, 13.0, 5.0), ("ABCAB", 0.75, 11.5, 5.0),
        ("ABCABCA", 0.0, 0.0, 50.0), ("ABCABCA", 1.0, 4.0, 50.0), ("ABCABCA", 0.5, 2.0, 50.0),
        ("ABCABCABC", 1.0, 0.0, 90.0), ("ABCABCABC", 0.5, 1.0, 90.0),
    ]  # fmt: skip
    names = [f"{seq}_c1.6a_Pt_2.77" for seq, *_ in rows]
    f = np.array([r[1] for r in rows])
    mu = np.array([[r[2], r[3]] for r in rows])
    out = stacking_order(mu, f, names)
    # between: A 2 of 3, B 1 of 1 → 3 of 4 over both groups
    assert out["within_groups_faulted_between_fraction"] == 0.75
    # only A has three faulted clusters for a rank correlation: ranks give 0.7
    assert out["within_groups"] == 1 and out["within_groups_median_spearman"] == 0.7
    # NaN fractions (not a stacking library) are left out
    f_nan = np.append(f, np.nan)
    mu_nan = np.vstack([mu, [[100.0, 100.0]]])
    assert stacking_order(mu_nan, f_nan, [*names, "x_y_z_1"]) == out


def test_measures_have_the_published_keys_rounded_to_four_decimals() -> None:
    from deepstruc_gui.model.evaluation import StructureResult, summarise

    def result(mae, best_mae, rw, best_rw, n_pred, n_best):
        return StructureResult(
            index=0, type="fcc", n_true=100, n_pred=n_pred, mae=mae, rw=rw,
            predicted_type="fcc", best_rw=best_rw, best_mae=best_mae, best_type="fcc",
            n_best=n_best,
        )  # fmt: skip

    # counts exactly 10 % off are within ±10 %; 11 % are not
    results = [
        result(0.123456, 0.011111, 0.512345, 0.0512345, 110, 90),
        result(0.234567, 0.022222, 0.712345, 0.0712345, 111, 89),
    ]
    m = summarise(results)
    assert m == {
        "n_test": 2,
        "mae_prior_mean": [0.179, 0.0556],
        "mae_best_of_n": [0.0167, 0.0056],
        "mae_best_of_n_median": 0.0167,
        "type_accuracy": 1.0,
        "type_accuracy_best_of_n": 1.0,
        "atom_count_within_10pct": 0.5,
        "atom_count_within_10pct_best_of_n": 0.5,
        "rw_prior_mean_median": 0.6123,
        "rw_best_of_n_median": 0.0612,
        "by_type": {"fcc": {"n": 2, **{k: v for k, v in m.items() if k not in (
            "n_test", "by_type", "by_shape")}}},
        "by_shape": {"in_training": {"n": 2, **{k: v for k, v in m.items() if k not in (
            "n_test", "by_type", "by_shape")}}},
    }  # fmt: skip
