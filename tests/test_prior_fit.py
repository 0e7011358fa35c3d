"""Measured-like training inputs, the prior refit on them and the σ calibration."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from deepstruc_gui.cli.main import main
from deepstruc_gui.model.bundle import ModelBundle
from deepstruc_gui.model.fixtures import train_tiny_bundle
from deepstruc_gui.model.library import Library
from deepstruc_gui.model.measured_like import MeasurementRanges, measured_like_pdfs
from deepstruc_gui.model.prior_fit import (
    CHI2_2_MEDIAN,
    _split_inputs,
    mahalanobis_sq,
    prior_path,
    refit_measured_like,
)
from deepstruc_gui.science.debye import TRAINING_PARAMETERS


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A two-metal library of small clusters and a two-epoch model exported as a bundle."""
    lib, _, bundle = train_tiny_bundle(tmp_path_factory.mktemp("prior"), ["Pt", "Cu"])
    return lib, bundle


def test_measured_like_variants(tiny) -> None:
    lib_path, _ = tiny
    with Library.open(lib_path) as lib:
        idx = lib.indices("train")[:40]
        structures = [lib.structure(int(i)) for i in idx]
        nn = lib.nn_distance[idx]
    ranges = MeasurementRanges(truncated_fraction=0.5)
    a = measured_like_pdfs(structures, 2, seed=3, ranges=ranges, group=8)
    b = measured_like_pdfs(structures, 2, seed=3, ranges=ranges, group=8)
    assert a.pdf.shape == (80, 2800) and np.array_equal(a.pdf, b.pdf)  # seeded
    assert np.bincount(a.source, minlength=40).tolist() == [2] * 40  # every structure twice
    assert np.allclose(np.abs(a.pdf).max(axis=1), 1.0)  # max-normalised, as data are
    # the first peak still gives the bond length, which the r/d prior input relies on
    assert np.median(np.abs(a.bond / nn[a.source] - 1)) < 0.01
    qmax = {p.qmax for p in a.params}
    assert len(qmax) == 10 and all(ranges.qmax[0] <= q <= ranges.qmax[1] for q in qmax)
    r = TRAINING_PARAMETERS.r_grid
    truncated = (a.pdf[:, r > 29] == 0).all(axis=1) & (a.pdf[:, r < 14] != 0).any(axis=1)
    assert 0 < truncated.sum() < len(a.pdf)
    assert not np.array_equal(a.pdf, measured_like_pdfs(structures, 2, seed=4, group=8).pdf)


def test_refit_keeps_the_decoder_and_map_and_calibrates_sigma(tiny, tmp_path) -> None:
    lib_path, bundle_path = tiny
    out = tmp_path / "refitted"
    figures = refit_measured_like(
        bundle_path, lib_path, out, steps=300, n_variants=2, log=lambda *_: None
    )
    old, new = ModelBundle.load(bundle_path), ModelBundle.load(out)
    assert new.metadata["prior_fit"] == json.loads(json.dumps(figures))
    assert new.metadata["architecture"]["prior_scaled_input"]
    assert np.allclose(old.latent_map.mu, new.latent_map.mu)
    a, b = old.load_network(), new.load_network()
    for key, value in a.state_dict().items():
        if key.startswith(("decoder.", "graph_encoder.", "posterior.")):
            assert torch.equal(value, b.state_dict()[key]), key
    # σ means σ: on the validation inputs it was calibrated on, the squared distance of
    # the true posterior means from the prior has the median of a χ² with 2 d.o.f.
    with Library.open(lib_path) as lib:
        scale = float(new.metadata["coordinate_scale"])
        _, val_ml = _split_inputs(b, lib, lib.indices("val"), scale, 2, 1, MeasurementRanges())
    d2 = mahalanobis_sq(val_ml, prior_path(b, val_ml, scale))
    assert np.median(d2) == pytest.approx(CHI2_2_MEDIAN, rel=1e-3)
    assert figures["sigma_calibration_factor"] > 0
    cover = figures["coverage_measured_like"]
    assert 0 < cover["3sigma"] <= cover["5sigma"] <= cover["7sigma"] <= 1


def test_refit_prior_and_measured_like_evaluation_cli(tiny, tmp_path, capsys) -> None:
    lib_path, bundle_path = tiny
    out = tmp_path / "b"
    args = ["--library", str(lib_path), "--steps", "100", "--variants", "1", "--threads", "1"]
    assert main(["refit-prior", "--model", str(bundle_path), "-o", str(out), *args]) == 0
    metrics = tmp_path / "m.json"
    code = main(
        [
            "evaluate",
            "--model",
            str(out),
            "--library",
            str(lib_path),
            "--samples",
            "4",
            "--limit",
            "3",
            "--measured-like",
            "--json",
            str(metrics),
            "--store",
        ]
    )
    assert code == 0
    m = json.loads(metrics.read_text())
    assert m["inputs"] == "measured-like" and m["n_test"] == 3
    stored = ModelBundle.load(out).metadata
    # the refit dropped the library metrics of the weights before it
    assert stored["metrics_measured_like"] == m and "metrics" not in stored
    library_run = ["evaluate", "--model", str(out), "--library", str(lib_path)]
    assert main([*library_run, "--samples", "4", "--limit", "3", "--store"]) == 0
    stored = ModelBundle.load(out).metadata
    assert stored["metrics"]["inputs"] == "library"
    assert stored["metrics_measured_like"] == m  # storing one set keeps the other
    assert main(["refit-prior", "--model", str(tmp_path / "none"), *args]) == 2
    assert "no such model" in capsys.readouterr().err
