"""``deepstruc-gui --self-test`` on a model bundle: success, a clear failure, and a
failure when the pipeline's answer for the bundled example (fcc Pt) is nonsense."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deepstruc_gui.cli import selftest
from deepstruc_gui.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[1] / "resources" / "examples" / "JQ_S1.gr"


def test_self_test_reports_ranked_candidates(random_bundle, capsys) -> None:
    args = ["--self-test", "--model", str(random_bundle), "--samples", "40"]
    assert main([*args, "--data", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "candidates 40" in out and "self-test passed" in out
    assert "answer     not checked" in out


@pytest.mark.parametrize("right", [True, False])
def test_self_test_judges_the_answer_on_the_known_example(
    random_bundle, capsys, monkeypatch, right
) -> None:
    """Both ways, forced: the random model's best candidate counts as the right family
    when every type does, and as nonsense when none does."""
    from deepstruc_gui.model import candidate

    if right:
        types = ("fcc", "bcc", "sc", "hcp", "octahedral", "decahedral", "icosahedral")
        monkeypatch.setattr(selftest, "FCC_FAMILY", types)
        monkeypatch.setattr(candidate, "POOR_FIT_RW", 10.0)
    else:
        monkeypatch.setattr(selftest, "FCC_FAMILY", ())
    code = main(["--self-test", "--model", str(random_bundle), "--samples", "40"])
    out, err = capsys.readouterr()
    if right:
        assert code == 0 and "as expected" in out and "self-test passed" in out
    else:
        assert code == 1 and "self-test passed" not in out
        assert "self-test FAILED: the answer for JQ_S1.gr is wrong: best candidate" in err


def test_the_random_model_fails_the_known_answer(random_bundle, capsys) -> None:
    """An untrained model on the Pt example: whatever it finds fits badly."""
    assert main(["--self-test", "--model", str(random_bundle), "--samples", "40"]) == 1
    assert "expected an fcc-family structure" in capsys.readouterr().err


@pytest.mark.slow
def test_the_shipped_model_finds_fcc_for_the_pt_example(capsys) -> None:
    """The real check the installer runs: the default model on JQ_S1 (region, then the
    whole map: ~20 s of CPU)."""
    assert main(["--self-test"]) == 0
    out = capsys.readouterr().out
    assert "as expected" in out and "region, then whole map" in out


def test_self_test_fails_clearly_on_a_broken_bundle(random_bundle, tmp_path, capsys) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(random_bundle, broken)
    meta = json.loads((broken / "model.json").read_text())
    meta["weights_sha256"] = "0" * 64
    (broken / "model.json").write_text(json.dumps(meta))
    assert main(["--self-test", "--model", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "self-test FAILED" in err and "checksum" in err
