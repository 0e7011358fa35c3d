"""The accuracy tables in docs/MODEL.md and README.md are the shipped bundles' stored
metrics, written by scripts/write_metrics_docs.py — never typed by hand."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def writer():
    spec = importlib.util.spec_from_file_location(
        "write_metrics_docs", ROOT / "scripts" / "write_metrics_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("doc", ["docs/MODEL.md", "README.md"])
def test_the_docs_match_the_stored_metrics(writer, doc) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    assert "<!-- metrics:" in text, f"{doc} has no generated metrics table"
    fresh = writer.rewrite(text, writer.load_metrics(), doc)
    assert fresh == text, f"{doc} is stale: run python scripts/write_metrics_docs.py"


def test_a_changed_metric_changes_the_table(writer) -> None:
    meta = writer.load_metrics()
    assert list(meta)[:2] == ["mmnp", "stacking"]
    text = (ROOT / "docs" / "MODEL.md").read_text(encoding="utf-8")
    changed = copy.deepcopy(meta)
    changed["mmnp"]["metrics"]["mae_best_of_n"] = [0.5123, 0.0456]
    changed["stacking"]["metrics"]["map"]["knn_type_accuracy"] = 0.12345
    new = writer.rewrite(text, changed, "MODEL.md")
    assert "**0.5123 ± 0.0456 Å**" in new and "| 12.3 % |" in new
    # only the marked blocks change
    outside = [part.split("<!-- /metrics:")[-1] for part in text.split("<!-- metrics:")]
    assert outside == [part.split("<!-- /metrics:")[-1] for part in new.split("<!-- metrics:")]


def test_every_table_cell_comes_from_the_bundle(writer) -> None:
    meta = writer.load_metrics()
    m = meta["stacking"]["metrics"]
    table = writer.model_table(meta)
    assert f"{m['by_shape']['not_in_training']['n']} of {m['n_test']}" in table
    assert writer._pct(m["type_accuracy_best_of_n"]) in table
    readme = writer.readme_table(meta)
    cover = meta["mmnp"]["prior_fit"]["coverage_measured_like"]
    assert f"{writer._pct(cover['3sigma'])} / {writer._pct(cover['7sigma'])}" in readme
    assert writer._pct(0.9355) == "93.6 %" and writer._pct(1.0) == "100.0 %"


def test_an_unknown_block_is_named(writer) -> None:
    with pytest.raises(ValueError, match=r"X\.md: unknown metrics block 'nope'"):
        writer.rewrite("<!-- metrics:nope -->\n<!-- /metrics:nope -->", {}, "X.md")


def test_check_mode_reports_a_stale_document_and_writes_nothing(writer, tmp_path, capsys) -> None:
    doc = tmp_path / "doc.md"
    stale = "intro\n<!-- metrics:readme-table -->\nold\n<!-- /metrics:readme-table -->\nend\n"
    doc.write_text(stale, encoding="utf-8")
    assert writer.main(["--check", str(doc)]) == 1
    assert doc.read_text(encoding="utf-8") == stale and "stale" in capsys.readouterr().out
    assert writer.main([str(doc)]) == 0
    assert writer.main(["--check", str(doc)]) == 0
    assert doc.read_text(encoding="utf-8").startswith(
        "intro\n<!-- metrics:readme-table -->\n| model"
    )
