"""Generate a corpus of PDF-family files as different programs write them, and print
how ``read_pdf`` classifies each (the confusion table).

    PYTHONPATH=. python tests/make_quantity_corpus.py [OUT_DIR]

Quantities: G(r) (Å and nm), g(r), R(r), F(Q), S(Q), I(Q) and PDFgui fits. Layouts:
xPDFsuite/PDFgetX3 (INI header, ``outputtype``, ``#L``), GSAS-II (``#T``/``#L``),
GSAS-II's RMCProfile export (point count, file name), Mantid SaveRMCProfile
(``rmc F(Q) # title``), Mantid SavePDFGui (4 columns), a ``PDFType`` header, CSV with
a header row (``,`` and ``;`` + decimal comma), tab-separated spreadsheet exports
with decimal commas, bare two-column files (space, and decimal comma + space) and
PDFgui ``.fgr`` fits. Curves come from the shared JQ_S1 and Pt85 field files (G, g,
R, F); S = 1 + F/Q and I = 200·S·exp(−0.002Q²) + 50 are derived from F.

Nothing is written outside OUT_DIR; the tests call :func:`generate` on a temporary
folder (generated data are never committed).
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FIELD = Path(__file__).resolve().parents[2] / "shared" / "data" / "field-cases"
JQ_S1 = FIELD.parent / "experimental" / "JQ_S1.gr"

#: label text per quantity and unit: (x label, y label)
LABELS = {
    ("G", "Å"): ("r(Å)", "G(Å^-2)"),
    ("G", "nm"): ("r(nm)", "G(nm^-2)"),
    ("g", "Å"): ("r(Å)", "g(r)"),
    ("g", "nm"): ("r(nm)", "g(r)"),
    ("R", "Å"): ("r(Å)", "RDF(r)"),
    ("R", "nm"): ("r(nm)", "RDF(r)"),
    ("F", "Q"): ("Q(Å^-1)", "F(Q)"),
    ("S", "Q"): ("Q(Å^-1)", "S(Q)"),
    ("I", "Q"): ("Q(Å^-1)", "I(Q)"),
}
OUTPUT_TYPE = {"G": "gr", "F": "fq", "S": "sq", "I": "iq"}
RMC_TYPE = {"G": "G(r)", "g": "g(r)", "R": "RDF(r)", "F": "F(Q)", "S": "S(Q)"}
EXTENSION = {"G": ".gr", "g": ".dat", "R": ".dat", "F": ".fq", "S": ".sq", "I": ".iq"}


@dataclass(frozen=True)
class Case:
    """One generated file and what it holds; ``expected`` is what the reader should
    say: "G" (accepted) or the quantity it refuses."""

    path: Path
    quantity: str
    unit: str
    layout: str
    separator: str

    @property
    def expected(self) -> str:
        return "G" if self.quantity == "fit" else self.quantity


def _table(path: Path, skip_to: str | None = None) -> np.ndarray:
    lines = path.read_text(encoding="utf-8").splitlines()
    if skip_to is not None:
        lines = lines[next(i for i, t in enumerate(lines) if t.startswith(skip_to)) + 1 :]
    rows = [t.split() for t in lines if t.strip() and not t.lstrip().startswith(("#", "["))]
    rows = [r for r in rows if len(r) == 2 and _numeric(r)]
    return np.asarray(rows, dtype=float)


def _numeric(tokens: list[str]) -> bool:
    try:
        [float(t) for t in tokens]
    except ValueError:
        return False
    return True


def curves() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """x, y of every quantity (r in Å, Q in Å⁻¹), r space cut to 0–30 Å."""
    out = {}
    for key, path in (
        ("G", JQ_S1),
        ("g", FIELD / "JQ_S1_g_of_r.dat"),
        ("R", FIELD / "JQ_S1_RDF.dat"),
    ):
        t = _table(path, "#L" if key == "G" else None)
        keep = t[:, 0] <= 30.0
        out[key] = (t[keep, 0], t[keep, 1])
    t = _table(FIELD / "pt_oct5.fq", "#L")
    q, f = t[:, 0], t[:, 1]
    out["F"] = (q, f)
    out["S"] = (q, 1 + f / q)
    out["I"] = (q, 200 * (1 + f / q) * np.exp(-0.002 * q**2) + 50)
    return out


def _in_unit(quantity: str, unit: str, x: np.ndarray, y: np.ndarray):
    if unit != "nm":
        return x, y
    scale = {"G": 100.0, "g": 1.0, "R": 10.0}[quantity]  # G nm⁻², g none, R nm⁻¹
    return x / 10.0, y * scale


def _fmt(value: float, comma: bool) -> str:
    text = f"{value:.6g}"
    return text.replace(".", ",") if comma else text


def _rows(x, y, sep: str = " ", comma: bool = False, extra=None) -> str:
    lines = []
    for i, (a, b) in enumerate(zip(x, y, strict=True)):
        cells = [_fmt(a, comma), _fmt(b, comma)]
        if extra is not None:
            cells += [_fmt(v, comma) for v in extra(i)]
        lines.append(sep.join(cells))
    return "\n".join(lines) + "\n"


def _xpdfsuite(q: str, unit: str, x, y) -> str:
    xl, yl = LABELS[(q, unit)]
    head = (
        "# xPDFsuite Configuration #\n[PDF]\nwavelength = 0.1\ndataformat = Qnm\n"
        f"composition = Pt\noutputtype = {OUTPUT_TYPE[q]}\nqmin = 1.0\nqmax = 22.0\n\n"
        "#### start data\n#S 1\n"
        f"#L {xl}  {yl}\n"
    )
    return head + _rows(x, y)


def _gsas2(q: str, unit: str, x, y) -> str:
    name = {"G": "G(R)", "F": "F(Q)", "S": "S(Q)", "I": "I(Q)"}[q]
    xl = "R" if q == "G" else "Q"
    return f"#T {name} PDF sample01\n#L {xl}     {name}\n" + _rows(x, y, sep="  ")


def _gsas2_rmc(q: str, unit: str, x, y) -> str:
    return f"{len(x):20d}\nsample01{'.fq' if q == 'F' else '.gr'}\n" + _rows(x, y, sep="  ")


def _mantid_rmc(q: str, unit: str, x, y) -> str:
    return f"{len(x)}\nrmc {RMC_TYPE[q]} #  sample01 from Mantid\n" + _rows(x, y, sep="  ")


def _mantid_pdfgui(q: str, unit: str, x, y) -> str:
    head = "#Comment: neutron, Qmin: 0.5, Qmax: 31.4, Qdamp: 0.017\n#L r G(r) dr dG(r)\n"
    return head + _rows(x, y, extra=lambda i: (0.0, 0.01))


def _pdftype(q: str, unit: str, x, y) -> str:
    xl, yl = LABELS[(q, unit)]
    kind = {"G": "G(r)", "g": "g(r)", "R": "RDF(r)"}[q]
    return f"# PDFType = {kind}\n# {xl} {yl}\n" + _rows(x, y)


def _csv(q: str, unit: str, x, y) -> str:
    xl, yl = LABELS[(q, unit)]
    return f"{xl},{yl}\n" + _rows(x, y, sep=",")


def _csv_semicolon(q: str, unit: str, x, y) -> str:
    xl, yl = LABELS[(q, unit)]
    return f"{xl};{yl}\n" + _rows(x, y, sep=";", comma=True)


def _tab_comma(q: str, unit: str, x, y) -> str:
    xl, yl = LABELS[(q, unit)]
    return f"{xl}\t{yl}\n" + _rows(x, y, sep="\t", comma=True)


def _plain(q: str, unit: str, x, y) -> str:
    return _rows(x, y)


def _powder_xy(q: str, unit: str, x, y) -> str:
    """I(2θ) as a diffractometer writes it: 2θ in degrees for λ = 1.5406 Å."""
    two_theta = np.degrees(2 * np.arcsin(np.clip(x * 1.5406 / (4 * np.pi), 0, 1)))
    keep = two_theta < 150
    return _rows(two_theta[keep], y[keep])


def _plain_comma(q: str, unit: str, x, y) -> str:
    return _rows(x, y, sep="   ", comma=True)


def _pdfgui_fit(q: str, unit: str, x, y) -> str:
    rng = np.random.default_rng(0)
    gcalc = y + 0.05 * rng.standard_normal(y.size)
    head = (
        "History written: Sun Nov 29 12:00:00 2026\nproduced by user\n##### PDFgui fit\n"
        "stype=X  x-ray scattering\nqmax=22.00\nqdamp=0.04\nqbroad=0\ndscale=1\n"
        "fitrmin=1.5\nfitrmax=30\n##### start data\n#L r(A) G(r) d_r d_Gr Gdiff\n"
    )
    body = "".join(
        f"{a:g} {c:g} 0.0 {0.001:g} {b - c:g}\n" for a, b, c in zip(x, y, gcalc, strict=True)
    )
    return head + body


#: layout name → (writer, separator, quantities, units it is used with, extension or None)
LAYOUTS = {
    "xpdfsuite": (_xpdfsuite, "space", "GFSI", ("Å", "nm"), None),
    "gsas2": (_gsas2, "space", "GFSI", ("Å",), None),
    "gsas2-rmcprofile": (_gsas2_rmc, "space", "Fg", ("Å",), None),
    "mantid-rmcprofile": (_mantid_rmc, "space", "GgRFS", ("Å",), ".dat"),
    "mantid-pdfgui": (_mantid_pdfgui, "space", "G", ("Å",), ".gr"),
    "pdftype-header": (_pdftype, "space", "GgR", ("Å", "nm"), ".dat"),
    "csv": (_csv, "comma", "GgRFSI", ("Å", "nm"), ".csv"),
    "csv-semicolon": (_csv_semicolon, "semicolon+decimal comma", "GgRF", ("Å", "nm"), ".csv"),
    "spreadsheet-tab": (_tab_comma, "tab+decimal comma", "GgRF", ("Å", "nm"), ".txt"),
    "bare": (_plain, "space", "GgRFSI", ("Å", "nm"), ".dat"),
    "powder-xy": (_powder_xy, "space", "I", ("Q",), ".xy"),
    "bare-decimal-comma": (_plain_comma, "space+decimal comma", "GgR", ("Å", "nm"), ".txt"),
    "pdfgui-fit": (_pdfgui_fit, "space", "G", ("Å",), ".fgr"),
}


def generate(directory: str | Path) -> list[Case]:
    """Write every variant into ``directory``; return what each one holds."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data = curves()
    cases = []
    for layout, (writer, separator, quantities, units, extension) in LAYOUTS.items():
        for q in quantities:
            for unit in units if q in "GgR" else ("Q",):
                x, y = _in_unit(q, unit, *data[q])
                quantity = "fit" if layout == "pdfgui-fit" else q
                unit_tag = {"Å": "A", "nm": "nm", "Q": "Q"}[unit]
                ext = extension or EXTENSION[q]
                if layout == "gsas2-rmcprofile":
                    ext = ".fq" if q == "F" else ".gr"
                path = directory / f"{layout}_{quantity}_{unit_tag}{ext}"
                path.write_text(writer(q, unit, x, y), encoding="utf-8", newline="\n")
                cases.append(Case(path, quantity, unit, layout, separator))
    return cases


def classify(path: Path) -> tuple[str, str]:
    """("G", how) when read_pdf accepts the file, else (refused quantity, message)."""
    from deepstruc_gui.science.pdf_io import PDFReadError, read_pdf
    from deepstruc_gui.science.quantity import QUANTITY_NAMES

    try:
        data = read_pdf(path)
    except PDFReadError as exc:
        for key, name in QUANTITY_NAMES.items():
            if key != "G" and name in exc.problem:
                return key, exc.problem
        return "refused", exc.problem
    return "G", data.recognised_from


def confusion(cases: list[Case]) -> tuple[Counter, list[tuple[Case, str, str]]]:
    table: Counter = Counter()
    wrong = []
    for case in cases:
        got, why = classify(case.path)
        table[(case.expected, got)] += 1
        if got != case.expected:
            wrong.append((case, got, why))
    return table, wrong


def main() -> None:
    import tempfile

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    cases = generate(out)
    table, wrong = confusion(cases)
    classes = ["G", "g", "R", "F", "S", "I", "fit", "refused"]
    print(f"{len(cases)} files in {out}; rows: what the file holds, columns: what was read")
    print("held\\read " + " ".join(f"{c:>7s}" for c in classes))
    for held in ["G", "g", "R", "F", "S", "I"]:
        print(f"{held:9s} " + " ".join(f"{table[(held, c)]:7d}" for c in classes))
    for case, got, why in wrong:
        print(f"MISREAD {case.path.name}: {got} ({why[:120]})")


if __name__ == "__main__":
    main()
