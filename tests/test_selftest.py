"""``deepstruc-gui --self-test`` on a model bundle: success and a clear failure."""

from __future__ import annotations

import json
import shutil

from deepstruc_gui.cli.main import main


def test_self_test_reports_ranked_candidates(random_bundle, capsys) -> None:
    assert main(["--self-test", "--model", str(random_bundle), "--samples", "40"]) == 0
    out = capsys.readouterr().out
    assert "candidates 40" in out and "self-test passed" in out


def test_self_test_fails_clearly_on_a_broken_bundle(random_bundle, tmp_path, capsys) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(random_bundle, broken)
    meta = json.loads((broken / "model.json").read_text())
    meta["weights_sha256"] = "0" * 64
    (broken / "model.json").write_text(json.dumps(meta))
    assert main(["--self-test", "--model", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "self-test FAILED" in err and "checksum" in err
