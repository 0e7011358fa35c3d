"""Session files keep what the user chose: a non-default selection and query survive a
round trip, and a real version-1 file (written by the version-1 code, commit 231517e,
committed under tests/data/sessions) still opens with its selection."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.state.session import SESSION_VERSION, Query, Session

V1_FILE = Path(__file__).parent / "data" / "sessions" / "v1_jq_s1_selected_third.dsession.json"


def _candidates() -> list[Candidate]:
    rng = np.random.default_rng(0)
    r = np.linspace(2.5, 20, 80)
    return [
        Candidate(
            latent=np.array([0.1 * k, -0.2 * k]),
            positions=rng.normal(size=(n, 3)) * 3,
            n_atoms=n,
            rw=rw,
            scale=1.0 + k,
            expansion=1.0 + 0.01 * k,
            biso=0.3 + 0.1 * k,
            qdamp=0.04,
            delta2=2.0,
            nearest_type=t,
            r=r,
            gcalc=np.sin(r * (k + 1)),
        )
        for k, (n, rw, t) in enumerate(
            [(13, 0.2, "icosahedral"), (19, 0.3, "fcc"), (38, 0.4, "sc")]
        )
    ]


NON_DEFAULT = Query(
    center=(1.25, -0.5),
    sigma_multiple=None,
    free_radius=0.8,
    n_samples=123,
    rmin=2.5,
    rmax=20.0,
    refine_qdamp=True,
    refine_delta2=True,
)


def test_a_non_default_selection_and_query_survive_a_round_trip(tmp_path) -> None:
    assert all(getattr(NON_DEFAULT, f) != getattr(Query(), f) for f in Query.__dataclass_fields__)
    s = Session()
    s.set_prior(np.array([0.1, 0.2]), np.array([0.3, 0.4]))
    s.set_candidates(_candidates())
    s.select(2)
    s.update_query(**{f: getattr(NON_DEFAULT, f) for f in Query.__dataclass_fields__})
    s.element = "Au"
    s.model_name = "stacking"
    path = tmp_path / "s.dsession.json"
    s.save(path)

    restored = Session()
    selections: list[int | None] = []
    restored.selection_changed.connect(lambda: selections.append(restored.selected))
    restored.restore(Session.load_file(path))
    assert restored.selected == 2 and selections == [2]
    chosen = restored.selected_candidate
    assert chosen is not None and chosen.nearest_type == "sc" and chosen.n_atoms == 38
    np.testing.assert_allclose(chosen.positions, s.candidates[2].positions, atol=1e-5)
    assert restored.query == NON_DEFAULT
    assert restored.element == "Au" and restored.model_name == "stacking"
    np.testing.assert_allclose(restored.prior_sigma, [0.3, 0.4])
    # nothing to undo after opening a file
    assert not restored.can_undo


def test_no_selection_stays_no_selection(tmp_path) -> None:
    s = Session()
    s.set_candidates(_candidates())
    s.select(None)
    path = tmp_path / "none.json"
    s.save(path)
    restored = Session()
    restored.restore(Session.load_file(path))
    assert restored.selected is None and restored.selected_candidate is None


def test_a_real_version_1_file_still_opens_with_its_selection(tmp_path) -> None:
    payload = Session.load_file(V1_FILE)
    assert payload["version"] == 1 and isinstance(payload["data"]["g"], list)
    s = Session()
    s.restore(payload)
    assert s.model_name == "mmnp" and s.element == "Pt"
    assert s.data is not None and s.data.r.max() <= 8.0 and len(s.data.r) == len(s.data.g)
    np.testing.assert_allclose(s.prior_mean, [0.42, 1.07])
    assert s.query == Query(
        center=(1.3, -0.62), sigma_multiple=5.0, n_samples=200, rmin=2.5, rmax=8.0,
        refine_qdamp=True,
    )  # fmt: skip
    assert [c.nearest_type for c in s.candidates] == ["octahedral", "octahedral", "icosahedral"]
    assert [c.rw for c in s.candidates] == sorted(c.rw for c in s.candidates)
    # the user had selected the third row
    assert s.selected == 2
    chosen = s.selected_candidate
    assert chosen.n_atoms == 13 and chosen.positions.shape == (13, 3)
    # its fit curve lies on its fit grid inside the fit range
    assert chosen.gcalc.shape == chosen.r.shape and chosen.r.min() >= 2.5 - 1e-9
    # written again, it is a current-version file that opens the same
    path = tmp_path / "again.json"
    s.save(path)
    assert json.loads(path.read_text())["version"] == SESSION_VERSION
    again = Session()
    again.restore(Session.load_file(path))
    assert again.selected == 2 and again.query == s.query
    np.testing.assert_allclose(again.selected_candidate.positions, chosen.positions, atol=1e-5)
    np.testing.assert_allclose(again.data.g, s.data.g)


def test_an_unknown_version_is_refused_by_number() -> None:
    payload = Session.load_file(V1_FILE)
    payload["version"] = 99
    with pytest.raises(ValueError, match="session version 99 is not supported"):
        Session().restore(payload)
