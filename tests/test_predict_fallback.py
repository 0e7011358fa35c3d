"""``predict`` searches the whole map when the prior's region fits nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from deepstruc_gui.cli.main import main
from deepstruc_gui.model.bundle import ModelBundle
from deepstruc_gui.model.candidate import POOR_FIT_RW

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


def test_poor_region_falls_back_to_the_whole_map(random_bundle, tmp_path, capsys) -> None:
    args = ["predict", str(EXAMPLES / "JQ_S1.gr"), "--model", str(random_bundle)]
    args += ["--samples", "40", "--top", "3"]
    args.append("--no-size-extension")  # JQ_S1 is 3.4 nm: see test_size_extension
    n_map = len(np.unique(np.round(ModelBundle.load(random_bundle).latent_map.mu, 4), axis=0))

    plain = tmp_path / "region.json"
    assert main([*args, "--no-fallback", "--json", str(plain)]) == 0
    region = json.loads(plain.read_text())
    assert region["search"] == "region" and region["samples"] == 40
    poor = region["candidates"][0]["rw"] > POOR_FIT_RW
    assert ("searching the whole map" in capsys.readouterr().out) is False

    both = tmp_path / "both.json"
    assert main([*args, "--json", str(both)]) == 0
    result = json.loads(both.read_text())
    if poor:  # the random model fits the Pt data badly: the whole map is searched too
        assert result["search"] == "region, then whole map"
        assert result["samples"] == 40 + n_map
        assert result["candidates"][0]["rw"] <= region["candidates"][0]["rw"]
        assert "searching the whole map as well" in capsys.readouterr().out
    else:
        assert result["search"] == "region" and result["samples"] == 40
