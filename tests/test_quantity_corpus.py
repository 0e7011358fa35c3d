"""The generated corpus (tests/make_quantity_corpus.py): every quantity × writers'
layouts × units × separators is recognised for what it holds; G(r) files give the
same curve in Å whatever their layout; nothing is ever written to an input."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.science.pdf_io import read_pdf

_SPEC = importlib.util.spec_from_file_location(
    "make_quantity_corpus", Path(__file__).with_name("make_quantity_corpus.py")
)
corpus = importlib.util.module_from_spec(_SPEC)
sys.modules["make_quantity_corpus"] = corpus  # dataclasses look their module up
_SPEC.loader.exec_module(corpus)

pytestmark = pytest.mark.skipif(not corpus.FIELD.is_dir(), reason="shared field cases not present")


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> list:
    return corpus.generate(tmp_path_factory.mktemp("corpus"))


def test_corpus_covers_every_quantity_layout_unit_and_separator(cases) -> None:
    assert len(cases) >= 40
    assert {c.quantity for c in cases} == {"G", "g", "R", "F", "S", "I", "fit"}
    assert len({c.layout for c in cases}) >= 10
    assert {"Å", "nm", "Q"} <= {c.unit for c in cases}
    assert len({c.separator for c in cases}) >= 5


def test_every_file_is_recognised_for_what_it_holds(cases) -> None:
    table: Counter = Counter()
    wrong = []
    for case in cases:
        before = hashlib.sha256(case.path.read_bytes()).hexdigest()
        got, why = corpus.classify(case.path)
        assert hashlib.sha256(case.path.read_bytes()).hexdigest() == before, case.path.name
        table[(case.expected, got)] += 1
        if got != case.expected:
            wrong.append(f"{case.path.name}: read as {got} ({why[:100]})")
    assert not wrong, "\n".join(wrong)
    assert sum(table.values()) == len(cases)


def test_refusals_say_what_to_do(cases) -> None:
    for case in cases:
        if case.expected == "G":
            continue
        _, message = corpus.classify(case.path)
        assert "not G(r)" in message and "To use it" in message, case.path.name
        assert "recognised from" in message, case.path.name


def test_accepted_files_give_the_angstrom_curve(cases) -> None:
    r_ref, g_ref = corpus.curves()["G"]
    for case in cases:
        if case.expected != "G":
            continue
        data = read_pdf(case.path)
        assert data.r[-1] == pytest.approx(30.0, abs=0.02), case.path.name
        g = np.interp(r_ref, data.r, data.g)
        tolerance = 0.06 if case.quantity == "fit" else 1e-4  # the fit file has %g digits
        assert np.max(np.abs(g - g_ref)) <= tolerance * np.max(np.abs(g_ref)), case.path.name
        if case.unit == "nm":
            assert any("nm to Å" in c for c in data.conversions), case.path.name
        if case.quantity == "fit":
            assert any("Gcalc + Gdiff" in c for c in data.conversions)
