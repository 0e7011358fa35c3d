"""The search history and the version-3 session file, without Qt."""

from __future__ import annotations

import numpy as np

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.state.history import SearchHistory, SearchRecord
from deepstruc_gui.state.session import SESSION_VERSION, Query, Session


def cand(rw: float, n: int = 13) -> Candidate:
    r = np.linspace(2, 30, 40)
    return Candidate(
        latent=np.array([rw, -rw]),
        positions=np.random.default_rng(n).normal(size=(n, 3)),
        n_atoms=n,
        rw=rw,
        scale=1.0,
        expansion=1.0,
        biso=0.4,
        qdamp=0.03,
        delta2=2.0,
        nearest_type="fcc",
        r=r,
        gcalc=np.sin(r),
        element="Pt",
    )


def record(label: str, *rws: float) -> SearchRecord:
    return SearchRecord(label, Query(), tuple(cand(rw) for rw in rws))


def test_push_says_when_a_better_search_was_replaced_and_undo_walks_back() -> None:
    h = SearchHistory(limit=3)
    changes = []
    h.changed.connect(lambda: changes.append(h.index))
    assert h.push(record("whole map", 0.357, 0.4)) is None
    replaced = h.push(record("region", 0.73))
    assert replaced is not None and replaced.label == "whole map"
    assert h.push(record("region", 0.2)) is None  # better: nothing to say
    assert h.back().best_rw == 0.73 and h.back().best_rw == 0.357 and h.back() is None
    assert h.forward().best_rw == 0.73
    h.push(record("drag", 0.5))  # after an undo, the steps ahead are forgotten
    assert not h.can_forward and [r.best_rw for r in h.records] == [0.357, 0.73, 0.5]
    h.push(record("drag", 0.6))
    assert len(h.records) == 3 and h.records[0].best_rw == 0.73  # the limit
    h.update_current(selected=0)
    assert h.current.selected == 0 and changes
    assert h.best().best_rw == 0.5
    assert "partial" in SearchRecord("region", Query(), (), None, True).describe()


def test_version_3_keeps_kept_structures_and_the_partial_flag(tmp_path) -> None:
    s = Session()
    s.set_prior(np.array([0.1, 0.2]), np.array([0.3, 0.4]))
    s.set_candidates([cand(0.2), cand(0.4, 19)])
    s.record_search("region", partial=True)
    s.set_preview(cand(0.3, 55))
    s.keep(s.preview)
    path = tmp_path / "s.dsession.json"
    s.save(path)
    payload = Session.load_file(path)
    assert payload["version"] == SESSION_VERSION == 3
    t = Session()
    t.restore(payload)
    assert [c.rw for c in t.candidates] == [0.2, 0.3, 0.4] and t.selected == 1
    assert getattr(t.candidates[1], "source", "model") == "kept"
    assert getattr(t.candidates[0], "source", "model") == "model"
    assert t.candidates[1].element == "Pt" and t.partial
    assert t.history.current.label == "region" and t.history.current.partial
    assert not t.history.can_back  # an opened session starts its own history
