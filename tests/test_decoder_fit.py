"""Refitting a bundle's decoder alone on its fixed map (``refit-decoder``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepstruc_gui.cli.main import main
from deepstruc_gui.model.bundle import ModelBundle
from deepstruc_gui.model.decoder_fit import DecoderFitConfig, refit_decoder
from deepstruc_gui.model.fixtures import train_tiny_bundle
from deepstruc_gui.model.inference import Predictor


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A two-metal library of small clusters and a two-epoch model exported as a bundle."""
    lib, _, bundle = train_tiny_bundle(tmp_path_factory.mktemp("decoder"), ["Pt", "Cu"])
    return lib, bundle


def _encoder_state(net) -> dict:
    return {k: v for k, v in net.state_dict().items() if not k.startswith("decoder.")}


def test_fine_tuning_lowers_the_posterior_decode_error_and_keeps_the_rest(tiny, tmp_path):
    lib, bundle = tiny
    figures = refit_decoder(
        bundle, lib, tmp_path / "ft", DecoderFitConfig(steps=400, lr=1e-3), log=lambda *_: None
    )
    assert figures["fine_tuned"]
    before = figures["validation_posterior_decode_before"]["coord"]
    after = figures["validation_posterior_decode_after"]["coord"]
    # a two-epoch decoder is far from converged: 400 steps on fixed latents must help
    assert after < 0.9 * before
    train = figures["train_posterior_decode_before"]["coord"]
    assert figures["train_posterior_decode_after"]["coord"] < 0.9 * train
    old, new = ModelBundle.load(bundle), ModelBundle.load(tmp_path / "ft")
    assert new.metadata["decoder_fit"]["validation_posterior_decode_after"]["coord"] == after
    # figures measured on the old decoder do not travel with the new one
    assert "metrics" in old.metadata and "metrics" not in new.metadata
    assert np.allclose(old.latent_map.mu, new.latent_map.mu, atol=1e-5)
    a, b = _encoder_state(old.load_network()), _encoder_state(new.load_network())
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_keep_last_stores_the_state_at_the_end_of_the_schedule(tiny, tmp_path) -> None:
    lib, bundle = tiny
    lines: list[str] = []
    config = DecoderFitConfig(steps=40, lr=1e-3, keep="last")
    figures = refit_decoder(bundle, lib, tmp_path / "last", config, log=lines.append)
    assert figures["kept"] == "last"
    # the last logged step is the one kept, whatever the validation figure did before
    last = next(line for line in reversed(lines) if line.startswith("step 40:"))
    assert last.endswith("*")
    kept = figures["validation_posterior_decode_after"]["coord"]
    assert f"validation {kept:.4f}" in last
    with pytest.raises(ValueError, match="keep"):
        refit_decoder(bundle, lib, tmp_path / "bad", DecoderFitConfig(keep="best"))
    assert not (tmp_path / "bad").exists()


def test_a_fourier_decoder_of_another_shape_loads_and_decodes(tiny, tmp_path) -> None:
    lib, bundle = tiny
    out = tmp_path / "fourier"
    code = main(
        [
            "refit-decoder",
            "--model", str(bundle), "--library", str(lib), "-o", str(out),
            "--steps", "60", "--fourier", "16", "--fourier-scale", "1.5",
            "--hidden", "64,128", "--latent-noise", "0.01",
        ]
    )  # fmt: skip
    assert code == 0
    new = ModelBundle.load(out)
    arch = new.metadata["architecture"]
    assert arch["decoder_fourier"] == 16 and arch["decoder_hidden"] == [64, 128]
    assert not new.metadata["decoder_fit"]["fine_tuned"]
    # the frequencies travel with the weights: loading gives the very same decoder
    net = new.load_network()
    assert net.decoder.features.frequencies.shape == (2, 16)
    clusters = Predictor(new).decode(np.array([[0.0, 0.0], [0.5, -0.5]]), bond=2.77)
    assert len(clusters) == 2 and all(c.shape[1] == 3 and len(c) >= 2 for c in clusters)


def test_bad_widths_are_a_clear_error(tiny, tmp_path, capsys) -> None:
    lib, bundle = tiny
    args = ["refit-decoder", "--model", str(bundle), "--library", str(lib), "--hidden", "64,x"]
    assert main([*args, "-o", str(tmp_path / "x")]) == 2
    assert "--hidden" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    # too few slots would cut atoms off the largest clusters without a word
    args = ["refit-decoder", "--model", str(bundle), "--library", str(lib), "--slots", "10"]
    assert main([*args, "-o", str(tmp_path / "y")]) == 2
    assert "cannot hold the library's largest cluster" in capsys.readouterr().err
    assert not (tmp_path / "y").exists()


def test_train_options_build_a_fourier_decoder_in_layer_blocks_for_stacking() -> None:
    import argparse

    from deepstruc_gui.cli import train as train_cli
    from deepstruc_gui.model.dataset import LAYER_BLOCK_SLOTS

    parser = argparse.ArgumentParser()
    train_cli.add_arguments(parser)
    base = ["--library", "x.h5"]
    assert train_cli.architecture(parser.parse_args(base), "stacking") is None
    args = parser.parse_args(
        [*base, "--decoder-fourier", "64", "--decoder-fourier-scale", "4",
         "--decoder-hidden", "512,1024"]
    )  # fmt: skip
    arch = train_cli.architecture(args, "stacking")
    assert arch.max_atoms == LAYER_BLOCK_SLOTS and arch.decoder_fourier == 64
    assert arch.decoder_fourier_scale == 4 and arch.decoder_hidden == (512, 1024)
    assert train_cli.architecture(args, "mmnp").max_atoms == 200
