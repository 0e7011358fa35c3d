"""Training structures rebuilt from their names (the side-by-side view's truth): the
shipped maps' names give the atom counts the maps hold, and the library's builders'
exact positions; a name that says nothing buildable is refused."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.model.bundle import ModelBundle
from deepstruc_gui.model.library import mmnp_entries
from deepstruc_gui.model.reconstruction import NotRebuildable, training_structure

MODELS = Path(__file__).resolve().parents[1] / "resources" / "models"


@pytest.mark.parametrize("model", ["mmnp", "stacking"])
def test_every_type_of_the_shipped_maps_rebuilds_with_the_maps_atom_count(model) -> None:
    m = ModelBundle.load(MODELS / model).latent_map
    rng = np.random.default_rng(0)
    checked = 0
    for kind in sorted(set(m.types)):
        rows = np.flatnonzero(np.asarray(m.types) == kind)
        for i in rng.choice(rows, size=min(4, len(rows)), replace=False):
            positions = training_structure(m.names[i])
            assert positions.shape == (int(m.n_atoms[i]), 3), m.names[i]
            assert np.allclose(positions.mean(axis=0), 0, atol=1e-9)
            checked += 1
    assert checked >= 3 * 4


def test_the_rebuilt_structure_is_the_librarys() -> None:
    entries = [e for e in mmnp_entries(["Pt"], max_atoms=40) if e.type in ("hcp", "decahedral")]
    assert entries
    for e in entries[:6]:
        np.testing.assert_allclose(training_structure(e.name), e.positions, atol=1e-9)


@pytest.mark.parametrize("name", ["fcc_12", "fcc_h3_Pt", "bct_h1_k1_l1_Pt_2.77", "ABX_c2a_Pt_2.6"])
def test_names_that_say_nothing_buildable_are_refused(name) -> None:
    with pytest.raises(NotRebuildable, match=re.escape(name)):
        training_structure(name)
