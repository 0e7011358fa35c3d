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
