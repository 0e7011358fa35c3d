"""The network, training, bundles, inference and the headless predict/evaluate commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import ase.io
import numpy as np
import pytest
import torch

from deepstruc_gui.cli.main import main
from deepstruc_gui.model.bundle import BundleError, ModelBundle
from deepstruc_gui.model.dataset import build_graphs, canonical_order, decoder_target
from deepstruc_gui.model.fixtures import SMALL_ARCHITECTURE, train_tiny_bundle
from deepstruc_gui.model.inference import Predictor
from deepstruc_gui.model.library import Library, build_library
from deepstruc_gui.model.network import DeepStrucVAE, gaussian_kl
from deepstruc_gui.model.training import (
    TrainConfig,
    adopt_last_epoch,
    augment_pdf,
    export_bundle,
    refit_prior_on_posteriors,
    train,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny library, two epochs of a small network, exported as a bundle."""
    return train_tiny_bundle(tmp_path_factory.mktemp("train"), ["Pt"])


def test_canonical_order_and_targets() -> None:
    rng = np.random.default_rng(0)
    p = rng.normal(size=(30, 3))
    order = canonical_order(p)
    radii = np.round(np.linalg.norm(p[order], axis=1), 2)
    assert (np.diff(radii) >= 0).all()
    t = decoder_target(p, scale=2.0, max_atoms=40)
    assert t.shape == (40, 4) and t[:30, 3].all() and not t[30:, 3].any()
    assert np.allclose(np.abs(t[:30, :3]).max() * 2.0, np.abs(p - p.mean(0)).max(), atol=1e-5)


def test_stacked_targets_do_not_depend_on_float_noise() -> None:
    """Atoms on the −x axis (y = ±1e-9 after centring) keep their slot, and the block
    layout gives each layer its own 32 slots, bottom layer first."""
    from deepstruc_gui.model.dataset import LAYER_BLOCK, LAYER_BLOCK_SLOTS
    from deepstruc_gui.science.stacking import Patch, stacked_cluster

    p = stacked_cluster("ABCAB", Patch("circle", 2.2, "A"))
    on_axis = (np.abs(p[:, 1]) < 1e-6) & (p[:, 0] < 0)
    assert on_axis.any()
    noisy = p.copy()
    p[on_axis, 1], noisy[on_axis, 1] = 1e-9, -1e-9
    for slots in (200, LAYER_BLOCK_SLOTS):
        a = decoder_target(p, 1.0, slots, "layers")
        b = decoder_target(noisy, 1.0, slots, "layers")
        assert np.allclose(a, b, atol=1e-6)
    t = decoder_target(p, 1.0, LAYER_BLOCK_SLOTS, "layers")
    blocks = t[:, 3].reshape(-1, LAYER_BLOCK).sum(1)
    layers = np.unique(np.round(p[:, 2], 3), return_counts=True)[1]
    assert blocks[:5].tolist() == layers.tolist() and not blocks[5:].any()
    with pytest.raises(ValueError, match="does not fit"):
        decoder_target(stacked_cluster("ABCABCABC", 1.6), 1.0, LAYER_BLOCK_SLOTS, "layers")


def test_one_shape_in_two_metals_is_one_target(tmp_path) -> None:
    """Targets are in nearest-neighbour units: Pt and Au versions of a shape coincide."""
    path = build_library(
        "mmnp", tmp_path / "lib.h5", metals=["Pt", "Au"], max_atoms=20, progress=False
    )
    with Library.open(path) as lib:
        graphs = build_graphs(lib, lib.indices(), scale=5.0, max_atoms=20)
        by_name: dict[str, list] = {}
        for g in graphs:
            i = int(g.index)
            shape = str(lib.names[i]).rsplit("_", 2)[0]  # the name without metal, distance
            by_name.setdefault(shape, []).append(g)
        pairs = [gs for gs in by_name.values() if len(gs) == 2]
        assert pairs, "the two metals share shapes"
        for a, b in pairs:
            assert not torch.isclose(a.bond, b.bond).all()  # different metals …
            assert torch.allclose(a.target, b.target, atol=1e-5)  # … one target
        # … and, resampled on r/d, nearly one PDF: what the refitted prior reads
        net = DeepStrucVAE(SMALL_ARCHITECTURE)
        for a, b in pairs:
            ga = net.resample_by_bond(a.pdf, a.bond)
            gb = net.resample_by_bond(b.pdf, b.bond)
            raw = torch.nn.functional.cosine_similarity(a.pdf, b.pdf)
            assert torch.nn.functional.cosine_similarity(ga, gb) > 0.97 > raw


def test_augmented_pdfs_look_measured() -> None:
    r = torch.arange(2800) * 0.01 + 2.0
    pdf = torch.sin(3 * r)[None].repeat(64, 1) * torch.exp(-r / 10)
    pdf = pdf / pdf.abs().amax(1, keepdim=True)
    out = augment_pdf(pdf, torch.Generator().manual_seed(0), r)
    same = torch.isclose(out, pdf).all(dim=1)
    assert 10 < int(same.sum()) < 54  # about half are left as simulated
    assert torch.allclose(out.abs().amax(1), torch.ones(64))
    # the varied ones keep the oscillation (correlation with the original stays high)
    varied = out[~same]
    corr = (varied * pdf[~same]).sum(1) / (varied.norm(dim=1) * pdf[~same].norm(dim=1))
    assert (corr > 0.8).all()


def test_gaussian_kl_is_zero_for_equal_and_positive_otherwise() -> None:
    m, s = torch.zeros(3, 2), torch.zeros(3, 2)
    assert torch.allclose(gaussian_kl(m, s, m, s), torch.zeros(3))
    assert (gaussian_kl(m + 1, s, m, s) > 0).all()


def test_training_resumes_and_exports(trained, tmp_path) -> None:
    lib, run, bundle_dir = trained
    history = json.loads((run / "history.json").read_text())
    assert len(history) == 2 and all(np.isfinite(h["train_coord"]) for h in history)
    # resume: a third epoch continues from the checkpoint
    train(
        lib,
        run,
        TrainConfig(epochs=3, batch_size=16, threads=1),
        arch=SMALL_ARCHITECTURE,
        log=lambda *_: None,
    )
    assert len(json.loads((run / "history.json").read_text())) == 3
    bundle = ModelBundle.load(bundle_dir)
    assert len(bundle.latent_map) > 0 and bundle.metadata["library_kind"] == "mmnp"
    assert sum(f.stat().st_size for f in bundle_dir.iterdir()) < 20e6


def test_prior_refit_on_bond_scaled_input(trained, tmp_path) -> None:
    _, run, _ = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    epochs = len(json.loads((copy / "history.json").read_text()))
    assert adopt_last_epoch(copy) == epochs - 1
    ckpt = torch.load(copy / "checkpoint.pt", map_location="cpu", weights_only=False)["model"]
    best = torch.load(copy / "best.pt", map_location="cpu", weights_only=True)
    assert all(torch.equal(ckpt[k], best[k]) for k in ckpt)
    result = refit_prior_on_posteriors(copy, steps=500, log=lambda *_: None)
    assert set(result) == {"before", "after", "kept"}
    assert result["after"]["prior_coord"] > 0
    meta = json.loads((copy / "run.json").read_text())
    # the run keeps the refitted prior only if it decodes validation PDFs better
    assert meta["architecture"].get("prior_scaled_input", False) == result["kept"]
    bundle = export_bundle(copy, tmp_path / "bundle" / "scaled", "scaled")
    predictor = Predictor(ModelBundle.load(bundle), device="cpu")
    g = np.abs(np.sin(np.arange(2800) * 0.02))
    mean, sigma = predictor.prior(g / g.max())
    assert np.isfinite(mean).all() and (sigma > 0).all()
    assert len(predictor.decode(mean, predictor.bond_length(g))[0]) >= 2


def test_predictor_prior_decode_and_determinism(trained) -> None:
    _, _, bundle_dir = trained
    predictor = Predictor(ModelBundle.load(bundle_dir), device="cpu")
    g = np.random.default_rng(0).random(2800).astype(np.float32)
    mean, sigma = predictor.prior(g)
    assert mean.shape == (2,) and (sigma > 0).all()
    assert np.allclose(predictor.prior(g)[0], mean)  # eval mode: deterministic
    clusters = predictor.decode(np.array([mean, mean + 0.1]))
    assert len(clusters) == 2 and all(c.shape[1] == 3 and len(c) >= 2 for c in clusters)
    # the decoder works in bond units: coordinates scale with the bond length given
    assert predictor.bond_length(g) > 0
    small, large = predictor.decode_raw(mean, bond=2.0)[0], predictor.decode_raw(mean, 3.0)[0]
    assert np.allclose(large, small * 1.5)
    assert predictor.nearest_type(mean)[0] in set(predictor.bundle.latent_map.types)
    # saved and reloaded weights give the same network output
    net = ModelBundle.load(bundle_dir).load_network()
    with torch.inference_mode():
        a = net.decoder(torch.tensor([[0.1, 0.2]]))
        b = predictor.network.decoder(torch.tensor([[0.1, 0.2]]))
    assert torch.allclose(a, b)
    # inference loads no graph encoder (torch_geometric is not imported for it); the
    # prior and the decoder are the full network's
    assert predictor.network.graph_encoder is None and net.graph_encoder is not None
    x = torch.as_tensor(g[None])
    with torch.inference_mode():
        assert torch.equal(net.prior_distribution(x)[0], predictor.network.prior_distribution(x)[0])


def test_bundle_errors_are_clear(trained, tmp_path) -> None:
    _, _, bundle_dir = trained
    broken = tmp_path / "broken"
    shutil.copytree(bundle_dir, broken)
    with pytest.raises(BundleError, match=r"no model\.json"):
        ModelBundle.load(tmp_path / "nothing")
    (broken / "weights.pt").write_bytes(b"garbage")
    with pytest.raises(BundleError, match="checksum"):
        ModelBundle.load(broken)
    shutil.copy(bundle_dir / "weights.pt", broken / "weights.pt")
    meta = json.loads((broken / "model.json").read_text())
    meta["architecture"]["cond_dim"] = 99
    (broken / "model.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="do not match"):
        ModelBundle.load(broken).load_network()
    (broken / "model.json").write_text("{ nope")
    with pytest.raises(BundleError, match="unreadable"):
        ModelBundle.load(broken)


def test_untrained_network_shapes() -> None:
    net = DeepStrucVAE(SMALL_ARCHITECTURE)
    out = net.decoder(torch.zeros(5, 2))
    assert out.shape == (5, SMALL_ARCHITECTURE.max_atoms, 4)


def test_predict_cli_writes_structures_fits_and_summary(random_bundle, tmp_path, capsys) -> None:
    out, summary = tmp_path / "out", tmp_path / "summary.json"
    code = main(
        [
            "predict",
            str(EXAMPLES / "JQ_S1.gr"),
            "--model",
            str(random_bundle),
            "--no-size-extension",  # JQ_S1 is 3.4 nm: see test_size_extension
            "--samples",
            "60",
            "--top",
            "3",
            "--out",
            str(out),
            "--json",
            str(summary),
            "--seed",
            "1",
        ]
    )
    assert code == 0
    data = json.loads(summary.read_text())
    assert data["element"] == "Pt" and len(data["candidates"]) == 3
    assert data["bond_length"] == pytest.approx(2.777, abs=0.003)  # Pt, from the first peak
    rws = [c["rw"] for c in data["candidates"]]
    assert rws == sorted(rws)
    xyz = sorted(out.glob("rank01_*.xyz"))[0]
    atoms = ase.io.read(xyz)
    assert set(atoms.get_chemical_symbols()) == {"Pt"}
    assert len(atoms) == data["candidates"][0]["n_atoms"]
    rows = [x for x in (out / "rank01_fit.csv").read_text().splitlines() if x[:1] != "#"]
    assert rows[0] == "r,Gobs,Gcalc,Gdiff"
    fit = np.loadtxt(rows[1:], delimiter=",")
    assert fit.shape[1] == 4
    # seedable: the same seed gives the same ranking
    main(
        [
            "predict",
            str(EXAMPLES / "JQ_S1.gr"),
            "--model",
            str(random_bundle),
            "--no-size-extension",  # JQ_S1 is 3.4 nm: see test_size_extension
            "--samples",
            "60",
            "--top",
            "3",
            "--json",
            str(tmp_path / "again.json"),
            "--seed",
            "1",
        ]
    )
    again = json.loads((tmp_path / "again.json").read_text())
    assert [c["rw"] for c in again["candidates"]] == pytest.approx(rws)
    assert main(["predict", str(EXAMPLES / "JQ_S1.gr"), "--model", "no-such-model"]) == 2
    assert "no such model" in capsys.readouterr().err


def test_evaluate_cli(trained, tmp_path, capsys) -> None:
    lib, _, bundle_dir = trained
    metrics = tmp_path / "m.json"
    code = main(
        [
            "evaluate",
            "--model",
            str(bundle_dir),
            "--library",
            str(lib),
            "--samples",
            "5",
            "--limit",
            "3",
            "--json",
            str(metrics),
        ]
    )
    assert code == 0
    m = json.loads(metrics.read_text())
    assert m["n_test"] == 3 and m["mae_prior_mean"][0] >= 0
    assert 0 <= m["type_accuracy"] <= 1 and "knn_type_accuracy" in m["map"]
    # the test structures split by whether training holds their shape at another metal
    from deepstruc_gui.model.library import Library, shape_label

    with Library.open(lib) as library:
        trained = {shape_label(str(library.names[i])) for i in library.indices("train")}
        tested = [shape_label(str(library.names[i])) for i in library.indices("test")[:3]]
    seen = sum(s in trained for s in tested)
    assert {k: g["n"] for k, g in m["by_shape"].items()} == {
        k: n for k, n in (("in_training", seen), ("not_in_training", 3 - seen)) if n
    }
    # the figures are those of the evaluation itself on the same 3 structures, seed and
    # sample count: the command passes its arguments through and adds the map's measures
    from deepstruc_gui.model.evaluation import evaluate_structures, map_quality, summarise

    bundle = ModelBundle.load(bundle_dir)
    with Library.open(lib) as library:
        test = np.random.default_rng(0).permutation(library.indices("test"))[:3]
        direct = summarise(evaluate_structures(Predictor(bundle), library, test, samples=5))
    direct["map"] = json.loads(json.dumps(map_quality(bundle.latent_map)))
    assert {k: m[k] for k in direct} == direct
    assert m["samples"] == 5 and m["inputs"] == "library"


def test_evaluate_in_parts_gives_the_single_run(trained, tmp_path, capsys) -> None:
    """Two processes share an evaluation (--part K/N --results), --merge reports and
    stores it as the one run would; mismatched or missing parts are refused."""
    lib, _, bundle_dir = trained
    base = ["evaluate", "--model", str(bundle_dir), "--library", str(lib), "--samples", "5"]
    base += ["--limit", "5"]
    whole = tmp_path / "whole.json"
    assert main([*base, "--json", str(whole)]) == 0
    parts = [tmp_path / f"part{k}.json" for k in (1, 2)]
    for k, path in enumerate(parts, 1):
        assert main([*base, "--part", f"{k}/2", "--results", str(path)]) == 0
    assert len(json.loads(parts[0].read_text())["results"]) == 3  # inputs 1, 3, 5
    merged = tmp_path / "merged.json"
    model = ["evaluate", "--model", str(bundle_dir)]
    assert main([*model, "--merge", *map(str, parts), "--json", str(merged), "--store"]) == 0
    assert json.loads(merged.read_text()) == json.loads(whole.read_text())
    assert ModelBundle.load(bundle_dir).metadata["metrics"] == json.loads(whole.read_text())
    capsys.readouterr()
    # a part alone is not the evaluation; a part of another run is not its part
    assert main([*model, "--merge", str(parts[0])]) == 2
    assert "need each of 1…2 once" in capsys.readouterr().err
    other = tmp_path / "other.json"
    assert main([*base, "--seed", "3", "--part", "2/2", "--results", str(other)]) == 0
    assert main([*model, "--merge", str(parts[0]), str(other)]) == 2
    assert "other settings" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_code:  # argparse: a usage error
        main([*base, "--part", "3/2"])
    assert exit_code.value.code == 2
    assert main([*base, "--part", "1/2", "--store"]) == 2


def test_search_points_start_with_the_map_inside_the_region() -> None:
    from deepstruc_gui.model.solve import region_points

    rng = np.random.default_rng(0)
    map_mu = np.array([[0.1, 0.0], [0.0, 0.5], [3.0, 3.0], [0.1, 0.0], [-0.9, 0.0]])
    z = region_points(map_mu, np.zeros(2), np.array([1.0, 0.6]), 10, rng)
    assert z.shape == (10, 2)
    assert ((z[:, 0] / 1.0) ** 2 + (z[:, 1] / 0.6) ** 2 <= 1 + 1e-9).all()
    # the three distinct map points inside, nearest first; the far one is left out
    assert np.allclose(z[:3], [[0.1, 0.0], [0.0, 0.5], [-0.9, 0.0]])
    assert not np.isclose(z, [3.0, 3.0]).all(axis=1).any()
    # never more than half from the map
    many = np.random.default_rng(1).uniform(-0.3, 0.3, (50, 2))
    assert len(region_points(many, np.zeros(2), 1.0, 10, rng)) == 10


def test_predict_whole_map_fits_every_map_point(random_bundle, tmp_path) -> None:
    summary = tmp_path / "map.json"
    args = ["predict", str(EXAMPLES / "JQ_S1.gr"), "--model", str(random_bundle)]
    args.append("--no-size-extension")  # JQ_S1 is 3.4 nm: see test_size_extension
    assert main([*args, "--whole-map", "--top", "2", "--json", str(summary)]) == 0
    data = json.loads(summary.read_text())
    n_map = len(np.unique(np.round(ModelBundle.load(random_bundle).latent_map.mu, 4), axis=0))
    assert data["whole_map"] and data["samples"] == n_map


def test_a_candidate_takes_the_type_of_the_map_structure_it_sits_on(random_bundle) -> None:
    predictor = Predictor(ModelBundle.load(random_bundle))
    # an fcc point amid faulted ones, as on the stacking map
    predictor._map_mu = np.array([[0.0, 0.0], [0.01, 0], [-0.01, 0], [0, 0.01], [0, -0.01]])
    predictor._map_types = np.array(["fcc", "faulted", "faulted", "faulted", "faulted"])
    assert predictor.nearest_type(np.zeros(2)) == ["faulted"]  # the majority of five
    assert predictor.candidate_type(np.array([[0.0, 0.0], [0.011, 0]])) == ["fcc", "faulted"]


def test_a_region_far_wider_than_the_map_is_sampled_where_the_map_is() -> None:
    from deepstruc_gui.model.solve import map_box, region_points, sample_region

    map_mu = np.random.default_rng(2).uniform(0, 1, (40, 2))
    lo, hi = map_box(map_mu)
    assert np.allclose(lo, map_mu.min(0) - 0.25 * np.ptp(map_mu, axis=0))
    # a prior σ at its clamps (20, 0.001): 3σ spans 120 units along z1
    z = region_points(
        map_mu, np.array([0.5, 0.5]), np.array([60.0, 0.003]), 200, np.random.default_rng(0)
    )
    assert len(z) == 200 and (z >= lo).all() and (z <= hi).all()
    # a region inside the map is sampled exactly as before
    inside = region_points(
        np.array([[5.0, 5.0], [-5, -5]]), np.zeros(2), 0.5, 20, np.random.default_rng(3)
    )
    assert np.allclose(inside, sample_region(np.zeros(2), 0.5, 20, np.random.default_rng(3)))
    # a region that misses the map entirely still gets its points
    far = region_points(map_mu, np.array([50.0, 50.0]), 1.0, 10, np.random.default_rng(4))
    assert len(far) == 10 and (np.hypot(*(far - 50).T) <= 1 + 1e-9).all()
