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


def test_matched_and_aligned_mae_of_a_rod_one_layer_too_long() -> None:
    from deepstruc_gui.model.evaluation import aligned_mae, matched_mae

    def rod(layers: int) -> np.ndarray:
        """Two atoms per layer, ABAB-stacked along z, centred on its own centroid."""
        p = np.array(
            [[x + 1.25 * (k % 2), 0.7 * (k % 2), 2.05 * k] for k in range(layers) for x in (0, 2.5)]
        )
        return p - p.mean(axis=0)

    true, longer = rod(8), rod(9)
    assert len(longer) > len(true)
    shuffled = true[np.random.default_rng(1).permutation(len(true))]
    # order does not matter; the right structure scores 0 both ways
    assert matched_mae(shuffled, true) < 1e-9 and aligned_mae(shuffled, true) < 1e-9
    # one extra layer moves the centroid: in the centroid frame every atom is off,
    # after a translation the shared atoms coincide
    assert matched_mae(longer, true) > 0.3
    assert aligned_mae(longer, true) < 1e-6
