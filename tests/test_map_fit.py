"""A designed map for stacked clusters: cubic fraction × size (``refit-map``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepstruc_gui.cli.main import main
from deepstruc_gui.model.bundle import ModelBundle
from deepstruc_gui.model.evaluation import stacking_order
from deepstruc_gui.model.fixtures import train_tiny_bundle
from deepstruc_gui.model.library import Library
from deepstruc_gui.model.map_fit import MapFitConfig, designed_layout, designed_posteriors
from deepstruc_gui.science.stacking import fcc_fraction

#: sequences of five layers: hcp, fcc and faulted ones of equal cubic fraction
SEQUENCES = ["ABABA", "ABCAB", "ABACA", "ABCBA", "ABCAC", "ABACB", "ABABC"]


def _names(sequences, patches, metals):
    return [f"{s}_{p}_{m}_2.5" for s in sequences for p in patches for m in metals]


def test_layout_orders_cubic_fraction_along_x_and_size_along_y() -> None:
    names = _names(SEQUENCES, ["c1.6a", "c1.6b", "c2.2a"], ["Co", "Pt", "Au"])
    seq = [n.split("_")[0] for n in names]
    patch = [n.split("_")[1] for n in names]
    fraction = np.array([fcc_fraction(s) for s in seq])
    # equal atom counts for the a and b sites of one radius: cells of several shapes
    n_atoms = np.array([50 if p.startswith("c1.6") else 90 for p in patch])
    points, layout = designed_layout(names, fraction, n_atoms)
    # the same shape at every metal is one decoder target: one point
    shape = [n.rsplit("_", 2)[0] for n in names]
    for s in set(shape):
        rows = [k for k, t in enumerate(shape) if t == s]
        assert np.allclose(points[rows], points[rows[0]])
    # distinct shapes stay apart, also within a cell of equal fraction and size
    unique = {s: points[shape.index(s)] for s in set(shape)}
    pts = np.array(list(unique.values()))
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1) + np.eye(len(pts)) * 9
    assert d.min() >= 0.03 * 0.999 and layout["smallest_distance"] >= 0.0299
    # hcp left, fcc right, faulted between in the order of their fraction; size up
    order = stacking_order(points, fraction, names)
    assert order["faulted_between_fraction"] == 1.0
    assert order["spearman_fcc_fraction_vs_axis"] > 0.9
    assert points[n_atoms == 90, 1].min() > points[n_atoms == 50, 1].max()
    again, _ = designed_layout(names, fraction, n_atoms)
    assert np.array_equal(points, again)  # deterministic
    wide, _ = designed_layout(names, fraction, n_atoms, MapFitConfig(x_scale=6.0))
    assert np.ptp(wide[:, 0]) > 1.9 * np.ptp(points[:, 0])
    with pytest.raises(ValueError, match="fcc fraction"):
        designed_layout(["AB_c1.6a_Pt_2.5"], [np.nan], [10])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A two-metal stacking library of small clusters and a one-epoch model."""
    root = tmp_path_factory.mktemp("map")
    lib, _, bundle = train_tiny_bundle(root, ["Pt", "Au"], max_atoms=30, epochs=1, kind="stacking")
    return lib, bundle


def test_refit_map_then_decoder_and_prior_fit_to_the_designed_points(tiny, tmp_path) -> None:
    lib, bundle = tiny
    out = tmp_path / "designed"
    args = ["--library", str(lib), "--threads", "1"]
    assert main(["refit-map", "--model", str(bundle), *args, "-o", str(out)]) == 0
    new = ModelBundle.load(out)
    with Library.open(lib) as library:
        indices = np.concatenate([library.indices("train"), library.indices("val")])
        names = [str(library.names[i]) for i in indices]
        expected, _ = designed_layout(
            names, library.fcc_fraction[indices], library.n_atoms[indices]
        )
    m = new.latent_map
    assert m.names == names and np.allclose(m.mu, expected, atol=1e-5)
    assert np.allclose(m.sigma, 0.005)
    assert new.metadata["map_fit"]["stacking_order"]["faulted_between_fraction"] == 1.0
    # the figures of the old map's weights do not travel with the new map
    assert "metrics" not in new.metadata
    mean, log_sigma = designed_posteriors(new, names[:5])
    assert torch.allclose(mean, torch.as_tensor(m.mu[:5], dtype=torch.float32), atol=1e-5)
    assert torch.allclose(log_sigma.exp(), torch.full_like(log_sigma, 0.005))
    assert designed_posteriors(ModelBundle.load(bundle), names) is None
    with pytest.raises(ValueError, match=r"no point for X_c1\.6a_Pt_2\.5"):
        designed_posteriors(new, ["X_c1.6a_Pt_2.5"])

    # the decoder refit regresses from the designed points, the prior fits to them
    dec = tmp_path / "dec"
    refit = ["refit-decoder", "--model", str(out), *args, "-o", str(dec), "--steps", "30"]
    assert main(refit) == 0
    from deepstruc_gui.model.decoder_fit import _targets

    decoded = ModelBundle.load(dec)
    net = decoded.load_network()
    scale = float(decoded.metadata["coordinate_scale"])
    with Library.open(lib) as library:
        train = library.indices("train")
        t, _ = _targets(decoded, net, library, train, scale, net.arch.max_atoms)
    rows = [names.index(str(n)) for n in Library.open(lib).names[train]]
    assert np.allclose(t.mean.numpy(), m.mu[rows], atol=1e-5)
    assert np.allclose(decoded.latent_map.mu, m.mu)
    prior = tmp_path / "prior"
    refit = ["refit-prior", "--model", str(dec), *args, "-o", str(prior), "--steps", "20",
             "--variants", "1", "--measured-fraction", "0"]  # fmt: skip
    assert main(refit) == 0
    fitted = ModelBundle.load(prior)
    assert fitted.metadata["prior_fit"]["measured_fraction"] == 0.0
    assert "map_fit" in fitted.metadata and np.allclose(fitted.latent_map.mu, m.mu)


def test_a_library_without_stacking_is_a_clear_error(tmp_path, capsys) -> None:
    from deepstruc_gui.model.fixtures import make_random_bundle
    from deepstruc_gui.model.library import build_library

    lib = build_library("mmnp", tmp_path / "mmnp.h5", metals=["Pt"], max_atoms=12, progress=False)
    bundle = make_random_bundle(tmp_path)
    code = main(["refit-map", "--model", str(bundle), "--library", str(lib),
                 "-o", str(tmp_path / "x")])  # fmt: skip
    assert code == 2
    assert "needs stacked clusters" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
