"""``predict`` searches the whole map when the prior's region fits nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.cli.main import main
from deepstruc_gui.model.bundle import ModelBundle
from deepstruc_gui.model.candidate import POOR_FIT_RW

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


@pytest.mark.parametrize("poor", [True, False])
def test_poor_region_falls_back_to_the_whole_map(
    random_bundle, tmp_path, capsys, monkeypatch, poor
) -> None:
    """Both branches, forced: every Rw counts as poor above −1, none above 10."""
    from deepstruc_gui.model import pipeline

    monkeypatch.setattr(pipeline, "POOR_FIT_RW", -1.0 if poor else 10.0)
    args = ["predict", str(EXAMPLES / "JQ_S1.gr"), "--model", str(random_bundle)]
    args += ["--samples", "40", "--top", "3", "--region-only"]
    args.append("--no-size-extension")  # JQ_S1 is 3.4 nm: see test_size_extension
    n_map = len(np.unique(np.round(ModelBundle.load(random_bundle).latent_map.mu, 4), axis=0))

    plain = tmp_path / "region.json"
    assert main([*args, "--no-fallback", "--json", str(plain)]) == 0
    region = json.loads(plain.read_text())
    assert region["search"] == "region" and region["samples"] == 40
    said = "".join(capsys.readouterr())
    assert "searching the whole map" not in said
    assert ("the prior may have misplaced these data" in said) is poor

    both = tmp_path / "both.json"
    assert main([*args, "--json", str(both)]) == 0
    result = json.loads(both.read_text())
    said = "".join(capsys.readouterr())
    if poor:
        assert result["search"] == "region, then whole map"
        assert result["samples"] == 40 + n_map
        assert result["candidates"][0]["rw"] <= region["candidates"][0]["rw"]
        assert "searching the whole map as well" in said
    else:
        assert result["search"] == "region" and result["samples"] == 40
        assert result["candidates"] == region["candidates"]
        assert "searching the whole map" not in said


def test_the_shipped_threshold_is_the_documented_one() -> None:
    # README: "when the best Rw there is above 0.5"
    assert POOR_FIT_RW == 0.5
