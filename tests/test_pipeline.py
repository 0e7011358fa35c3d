"""The one pipeline: fit configuration and its sources, settings checks, the search with
its whole-map fallback taken both ways, and the result's summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.model import pipeline
from deepstruc_gui.model.pipeline import (
    PARAMETER_NAMES,
    SolveSettings,
    fit_config_for,
    load_predictor,
    run_solve,
)
from deepstruc_gui.science.parameters import TRAINING_PARAMETERS
from deepstruc_gui.science.pdf_io import PDFData, read_pdf
from deepstruc_gui.util.cancel import Cancelled, CancelToken

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


def NO_EXT(**kwargs) -> SolveSettings:
    """The paper's region search without the size extension: JQ_S1 is a 3.4 nm particle,
    and these tests are about the region and its fallback (the default search is tested
    in test_search, the extension in test_size_extension)."""
    kwargs.setdefault("search", "region")
    return SolveSettings(size_extension=False, **kwargs)


def data_with(metadata: dict) -> PDFData:
    r = np.arange(1.0, 30.0, 0.01)
    return PDFData(path=None, r=r, g=np.sin(r) * np.exp(-r / 10), metadata=metadata)


def test_fit_config_takes_header_then_user_and_says_where_each_came_from() -> None:
    base = TRAINING_PARAMETERS.replace(qmax=22.0, delta2=1.5)
    data = data_with({"qmin": 0.9, "qmax": 27.5, "qdamp": 0.5, "composition": "Pt"})
    config, sources = fit_config_for(data, base, 2.5, 20.0, {"biso": 0.6})
    p = config.params
    assert (config.rmin, config.rmax) == (2.5, 20.0)
    assert (p.qmin, p.qmax, p.qdamp, p.delta2, p.biso) == (0.9, 27.5, base.qdamp, 1.5, 0.6)
    assert sources == {
        "qmin": "header",
        "qmax": "header",
        "qdamp": "model default",  # 0.5 Å⁻¹ is outside the sane range: not taken
        "delta2": "model default",
        "biso": "user",
    }
    assert set(sources) == set(PARAMETER_NAMES)
    # the user wins over the header
    config, sources = fit_config_for(data, base, overrides={"qmax": 30.0}, refine_qdamp=True)
    assert config.params.qmax == 30.0 and sources["qmax"] == "user" and config.refine_qdamp
    # no data: everything from the model
    config, sources = fit_config_for(None, base)
    assert config.params == base and set(sources.values()) == {"model default"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"overrides": {"qmax": 5.0, "qmin": 6.0}}, "qmin"),
        ({"overrides": {"qfoo": 1.0}}, "unknown parameter"),
        ({"rmin": 10.0, "rmax": 5.0}, "fit range"),
    ],
)
def test_fit_config_refuses_impossible_settings(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        fit_config_for(data_with({}), TRAINING_PARAMETERS, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"samples": 0}, "samples"),
        ({"samples": -5}, "samples"),
        ({"samples": 2.5}, "samples"),
        ({"samples": 10**7}, "samples"),
        ({"sigma": 0.0}, "sigma"),
        ({"sigma": float("nan")}, "sigma"),
        ({"radius": -1.0}, "radius"),
        ({"radius": (1.0, 0.0)}, "radius"),
        ({"center": (1.0,)}, "center"),
        ({"rmin": 5.0, "rmax": 3.0}, "rmin"),
        ({"rmin": -1.0}, "rmin"),
        ({"rmax": 1e6}, "rmax"),
        ({"seed": -1}, "seed"),
        ({"element": "Xx"}, "element"),
        ({"overrides": {"qfoo": 1.0}}, "qfoo"),
    ],
)
def test_solve_settings_name_the_bad_setting(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        SolveSettings(**kwargs)


def test_solve_settings_region() -> None:
    s = SolveSettings(sigma=5.0)
    np.testing.assert_allclose(s.region_radius(np.array([0.1, 0.2])), [0.5, 1.0])
    assert list(SolveSettings(radius=0.3).region_radius(np.array([9.0, 9.0]))) == [0.3, 0.3]


@pytest.fixture(scope="module")
def predictor(random_bundle):
    return load_predictor(str(random_bundle), "cpu")


def test_run_solve_reads_the_data_once_and_reports_what_it_rests_on(predictor) -> None:
    data = read_pdf(EXAMPLES / "JQ_S1.gr")
    calls = {"model_input": 0}
    original = data.model_input

    def counted():
        calls["model_input"] += 1
        return original()

    data.model_input = counted
    batches, steps = [], []
    # JQ_S1 is a 3.4 nm particle: the size extension would add built clusters (tested
    # in test_size_extension.py); this test is about the model's region search
    settings = SolveSettings(
        samples=250, seed=3, fallback=False, batch_size=100, search="region",
        size_extension=False,
    )  # fmt: skip
    result = run_solve(
        data, predictor, settings, on_batch=batches.append, progress=lambda d, t: steps.append(d)
    )
    assert calls["model_input"] == 1  # not once per batch (3 batches)
    assert len(batches) == 3 and steps[-1] == 250 and steps == sorted(steps)
    assert len(result.candidates) == 250 and result.search == "region"
    rws = [c.rw for c in result.candidates]
    assert rws == sorted(rws) and result.best is result.candidates[0]
    assert result.element == "Pt" and all(c.element == "Pt" for c in result.candidates)
    assert result.bond_length == pytest.approx(2.777, abs=0.003)
    np.testing.assert_allclose(result.radius, 3 * result.prior_sigma)
    summary = json.loads(json.dumps(result.to_dict(top=5)))
    assert summary["samples"] == 250 and len(summary["candidates"]) == 5
    assert summary["parameter_sources"]["qmax"] == "header"  # JQ_S1.gr gives Qmax
    assert summary["parameters"]["qmax"] == data.metadata["qmax"]
    assert summary["fit_range"] == [2.0, 30.0]
    # JQ_S1 is a ~3.4 nm particle: the model's 200-atom clusters cannot be all of it
    codes = [w["code"] for w in summary["warnings"]]
    assert "beyond-training-size" in codes
    assert all(w["message"] and w["severity"] in ("info", "warning") for w in summary["warnings"])
    assert summary["candidates"][0]["rw"] == rws[0]
    # the same seed, the same answer, whatever ran before in this process
    again = run_solve(data, predictor, settings)
    assert [c.rw for c in again.candidates] == rws


def test_warnings_are_serialised_by_code_and_message(predictor) -> None:
    class Warning_:
        code, message = "qmax_missing", "no Qmax in the header"

    data = read_pdf(EXAMPLES / "JQ_S1.gr")
    result = run_solve(data, predictor, NO_EXT(samples=20, fallback=False))
    result.warnings = [Warning_()]
    assert result.to_dict()["warnings"] == [
        {"code": "qmax_missing", "message": "no Qmax in the header", "severity": "warning"}
    ]


@pytest.mark.parametrize("poor", [True, False])
def test_whole_map_fallback_taken_exactly_when_the_region_fits_poorly(
    predictor, monkeypatch, poor
) -> None:
    data = read_pdf(EXAMPLES / "JQ_S1.gr")
    # force the branch: every Rw is "poor" above −1, none is above 10
    monkeypatch.setattr(pipeline, "POOR_FIT_RW", -1.0 if poor else 10.0)
    said: list[str] = []
    n_map = len(np.unique(np.round(predictor.map_mu, 4), axis=0))
    result = run_solve(data, predictor, NO_EXT(samples=30, seed=0), log=said.append)
    if poor:
        assert result.search == "region, then whole map"
        assert len(result.candidates) == 30 + n_map
        assert said and "searching the whole map as well" in said[0]
        assert result.notes == said
    else:
        assert result.search == "region" and len(result.candidates) == 30 and said == []
    off = run_solve(data, predictor, NO_EXT(samples=30, seed=0, fallback=False))
    assert off.search == "region" and len(off.candidates) == 30


def test_whole_map_search_and_cancel(predictor) -> None:
    data = read_pdf(EXAMPLES / "JQ_S1.gr")
    n_map = len(np.unique(np.round(predictor.map_mu, 4), axis=0))
    result = run_solve(data, predictor, NO_EXT(whole_map=True))
    assert result.search == "whole map" and len(result.candidates) == n_map
    token = CancelToken()
    seen: list[int] = []

    def cancel_after_first(ranked) -> None:
        seen.append(len(ranked))
        token.cancel()

    with pytest.raises(Cancelled):
        run_solve(data, predictor, NO_EXT(samples=300, batch_size=100), token, cancel_after_first)
    assert seen == [100]  # no batch after the cancel
