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
