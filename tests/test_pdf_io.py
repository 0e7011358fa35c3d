"""Reading G(r) files the way users get them from beamlines, and writing them back."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.science import pdf_io
from deepstruc_gui.science.grid import MODEL_R
from deepstruc_gui.science.pdf_io import PDFData, PDFReadError, read_pdf, write_pdf

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"
JQ_S1 = EXAMPLES / "JQ_S1.gr"
AU144 = EXAMPLES / "Au144PET_100K-00000.gr"
SAMPLES = Path(__file__).resolve().parent / "data" / "pdf_files"


def write_text(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def rows(r: np.ndarray, g: np.ndarray, sep: str = " ") -> str:
    return "".join(f"{a:.4f}{sep}{b:.6f}\n" for a, b in zip(r, g, strict=True))


def gauss_file(path: Path, r: np.ndarray, centre: float = 2.8, header: str = "") -> Path:
    g = np.exp(-(((r - centre) / 0.1) ** 2))
    return write_text(path, header + rows(r, g))


def read_error(path: Path) -> PDFReadError:
    with pytest.raises(PDFReadError) as info:
        read_pdf(path)
    return info.value


def assert_error(path: Path, line: int | None, *words: str) -> PDFReadError:
    err = read_error(path)
    prefix = f"{path}:{line}: " if line is not None else f"{path}: "
    message = str(err)
    assert message.startswith(prefix), message
    assert err.line == line
    assert err.path == str(path)
    for word in words:
        assert word in err.problem, message
    return err


# ---------------------------------------------------------------- the real examples


def test_jq_s1_xpdfsuite_file() -> None:
    data = read_pdf(JQ_S1)
    assert data.path == JQ_S1
    assert len(data.r) == len(data.g) == 5001
    assert data.r[0] == 0.0
    assert data.r[-1] == 50.0
    assert np.allclose(np.diff(data.r), 0.01)
    assert data.dg is None
    md = data.metadata
    assert md["composition"] == "Pt"
    assert md["qmax"] == pytest.approx(22.0, abs=0.01)
    assert md["qmin"] == 1.0
    assert md["qmaxinst"] == 22.0
    assert md["wavelength"] == 0.1
    assert md["rstep"] == 0.01
    assert md["mode"] == "xray"
    assert md["dataformat"] == "Qnm"
    assert md["inputfile"] == "JQ_S1.chi"
    assert data.main_element == "Pt"
    assert data.name == "JQ_S1.gr"

    x = data.model_input()
    assert x.shape == (2800,)
    assert x.dtype == np.float32
    assert x.max() == 1.0
    # the file is on the 0.01 Å grid: the model input is exactly its 2.00–29.99 Å slice
    window = data.g[200:3000]
    assert np.allclose(x, window / window.max(), atol=1e-6)


def test_au144_pdfgetxgui_file() -> None:
    data = read_pdf(AU144)
    assert len(data.r) == 3001
    assert (data.r[0], data.r[-1]) == (0.0, 30.0)
    assert data.metadata["qmax"] == 26.0
    assert data.metadata["qmin"] == 0.8
    assert data.metadata["wavelength"] == 0.18597
    assert data.metadata["composition"] == "Au144 S60 C180"
    assert data.main_element == "Au"
    x = data.model_input()
    assert x.shape == (2800,)
    assert x.max() == 1.0
    assert x[-1] != 0.0  # data run to 30 Å: nothing zeroed at the top


@pytest.mark.parametrize("path", [JQ_S1, AU144], ids=lambda p: p.name)
def test_reading_never_writes_to_the_file(path: Path) -> None:
    before_bytes, before_mtime = path.read_bytes(), path.stat().st_mtime_ns
    read_pdf(path).model_input()
    assert path.stat().st_mtime_ns == before_mtime
    assert path.read_bytes() == before_bytes


# ---------------------------------------------------------------- other layouts

SAMPLE_R = np.round(np.arange(21) * 0.2 + 1.0, 2)


@pytest.mark.parametrize(
    ("name", "metadata", "has_dg"),
    [
        (
            "pdfgetx3.gr",
            {"composition": "Pt", "qmax": 24.5, "qmin": 0.5, "version": "2.0.0"},
            False,
        ),
        ("latin1_header.gr", {"composition": "Au55 S24", "qmax": 23.5}, False),
        ("no_header.dat", {}, False),
        ("comments.txt", {"qmax": 25.0, "composition": "Pd"}, False),
        ("comma.csv", {}, False),
        ("semicolon_decimal_comma.csv", {}, False),
        ("four_columns.gr", {}, True),
        ("three_columns.gr", {}, True),
    ],
)
def test_sample_layouts_give_the_same_curve(name: str, metadata: dict, has_dg: bool) -> None:
    reference = read_pdf(SAMPLES / "no_header.dat")
    data = read_pdf(SAMPLES / name)
    np.testing.assert_array_equal(data.r, SAMPLE_R)
    np.testing.assert_array_equal(data.g, reference.g)
    assert (data.dg is not None) == has_dg
    for key, value in metadata.items():
        assert data.metadata[key] == value
    if not metadata:
        assert data.metadata == {}
    x = data.model_input()
    assert x.max() == 1.0
    assert np.all(x[MODEL_R > 5.0] == 0.0)  # the files end at 5 Å


def test_pdfgetx3_metadata_types() -> None:
    md = read_pdf(SAMPLES / "pdfgetx3.gr").metadata
    assert isinstance(md["qmaxinst"], float) and md["qmaxinst"] == 25.0
    assert md["twothetazero"] == 0.0
    assert md["plotargs"] == ""
    assert md["dataformat"] == "QA"


def test_latin1_header_is_read_as_latin1() -> None:
    data = read_pdf(SAMPLES / "latin1_header.gr")
    assert data.metadata["operator"] == "Jørgen Åsberg"
    assert data.main_element == "Au"


def test_dg_column_is_kept() -> None:
    four = read_pdf(SAMPLES / "four_columns.gr")
    three = read_pdf(SAMPLES / "three_columns.gr")
    expected = 0.01 + 0.001 * np.arange(21)
    np.testing.assert_allclose(four.dg, expected)
    np.testing.assert_allclose(three.dg, expected)


def test_third_column_named_dr_is_not_dg(tmp_path: Path) -> None:
    path = write_text(tmp_path / "r_g_dr.csv", "r,G,dr\n2.0,1.0,0.01\n2.1,0.5,0.01\n")
    assert read_pdf(path).dg is None


def test_more_than_four_columns_uses_the_first_two(tmp_path: Path) -> None:
    path = write_text(tmp_path / "wide.dat", "2.0 1.0 0.9 0.1 7 8\n2.1 0.5 0.4 0.1 7 8\n")
    data = read_pdf(path)
    np.testing.assert_array_equal(data.g, [1.0, 0.5])
    assert data.dg is None


def test_any_start_and_step(tmp_path: Path) -> None:
    r = 1.234 + 0.0137 * np.arange(900)
    data = read_pdf(gauss_file(tmp_path / "odd.gr", r, centre=6.0))
    assert len(data.r) == 900
    assert data.r[0] == 1.234
    assert MODEL_R[np.argmax(data.model_input())] == pytest.approx(6.0, abs=0.011)


def test_file_ending_at_20_gives_zeros_above_20(tmp_path: Path) -> None:
    r = np.round(np.arange(0, 2001) * 0.01, 2)  # 0 … 20 Å
    g = np.exp(-(((r - 3.0) / 0.1) ** 2)) + 0.05
    x = read_pdf(write_text(tmp_path / "short.gr", rows(r, g))).model_input()
    assert np.all(x[MODEL_R > 20.0] == 0.0)
    assert x[MODEL_R == 20.0][0] == pytest.approx(0.05 / 1.05, rel=1e-5)  # last point kept
    assert x.max() == 1.0


def test_file_starting_above_2_gives_zeros_below_its_start(tmp_path: Path) -> None:
    r = 5.0 + 0.05 * np.arange(300)
    x = read_pdf(gauss_file(tmp_path / "late.gr", r, centre=7.0)).model_input()
    assert np.all(x[MODEL_R < 5.0] == 0.0)
    assert np.any(x[MODEL_R >= 5.0] != 0.0)


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_windows_and_old_mac_line_endings(tmp_path: Path, newline: str) -> None:
    text = "# qmax = 25\n2.0 1.0\n2.1 0.5\n2.2 oops\n".replace("\n", newline)
    path = write_text(tmp_path / "lines.gr", text)
    assert_error(path, 4, "'oops'")  # line numbers still count physical lines
    path = write_text(tmp_path / "ok.gr", text.replace("oops", "0.2"))
    data = read_pdf(path)
    assert len(data.r) == 3
    assert data.metadata["qmax"] == 25.0


def test_utf8_bom_and_utf16(tmp_path: Path) -> None:
    text = "# composition = Ni\n#L r(Å) G\n2.0 1.0\n2.1 0.5\n"
    bom = tmp_path / "bom.gr"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes(text.encode("utf-16"))
    for path in (bom, utf16):
        data = read_pdf(path)
        np.testing.assert_array_equal(data.g, [1.0, 0.5])
        assert data.metadata["composition"] == "Ni"


def test_header_row_and_comments_in_plain_files(tmp_path: Path) -> None:
    text = "sample Pt-NP run 3\nr G\n\n2.0 1.0   # first point\n# a comment between rows\n2.1 0.5\n"
    data = read_pdf(write_text(tmp_path / "plain.txt", text))
    np.testing.assert_array_equal(data.r, [2.0, 2.1])


@pytest.mark.parametrize(
    ("composition", "element"),
    [
        ("Pt", "Pt"),
        ("Au144 S60 C180", "Au"),
        ("Au144(SC2H4Ph)60", "Au"),
        ("PtNi3", "Pt"),
        ("Pd0.5Ag0.5", "Ag"),
        ("pt", "Pt"),
        ("no idea", None),
    ],
)
def test_main_element(composition: str, element: str | None) -> None:
    data = PDFData(None, [2.0, 3.0], [1.0, 0.0], metadata={"composition": composition})
    assert data.main_element == element


def test_main_element_absent() -> None:
    assert PDFData(None, [2.0, 3.0], [1.0, 0.0]).main_element is None
    assert read_pdf(SAMPLES / "no_header.dat").main_element is None


# ---------------------------------------------------------------- bad input


def test_missing_file(tmp_path: Path) -> None:
    assert_error(tmp_path / "nope.gr", None, "not found")


def test_directory(tmp_path: Path) -> None:
    assert_error(tmp_path, None, "directory")


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.gr"
    empty.write_bytes(b"")
    assert_error(empty, None, "empty")
    blank = write_text(tmp_path / "blank.gr", "\n  \n\t\n")
    assert_error(blank, None, "empty")


def test_no_numeric_data(tmp_path: Path) -> None:
    path = write_text(tmp_path / "header_only.gr", "[PDF]\nqmax = 25\n#### start data\n#S 1\n")
    assert_error(path, None, "no numeric data")
    path = write_text(tmp_path / "words.txt", "this is a note\nnot a table\n")
    assert_error(path, None, "no numeric data")


def test_one_column(tmp_path: Path) -> None:
    path = write_text(tmp_path / "one.gr", "# header\n\n1.0\n2.0\n3.0\n")
    assert_error(path, 3, "one column")


def test_one_row(tmp_path: Path) -> None:
    path = write_text(tmp_path / "one_row.gr", "# header\n2.5 1.0\n")
    assert_error(path, 2, "one data row")


def test_non_numeric_token_in_pdfgetx3_data_block(tmp_path: Path) -> None:
    text = (SAMPLES / "pdfgetx3.gr").read_text(encoding="utf-8")
    lines = text.splitlines()
    start = lines.index("#### start data")
    bad = start + 3 + 5  # 6th data row (0-based index)
    lines[bad] = "2.00 0.0x5"
    path = write_text(tmp_path / "typo.gr", "\n".join(lines) + "\n")
    assert_error(path, bad + 1, "column 2", "'0.0x5'")


def test_names_row_after_start_data_is_an_error(tmp_path: Path) -> None:
    path = write_text(tmp_path / "names.gr", "#### start data\n#S 1\nr G\n2.0 1.0\n2.1 0.5\n")
    assert_error(path, 3, "column 1", "'r'")


def test_non_numeric_token_in_plain_and_csv_files(tmp_path: Path) -> None:
    path = write_text(tmp_path / "plain.dat", "2.0 1.0\n2.1 0.5\n2.2 -\n")
    assert_error(path, 3, "column 2")
    path = write_text(tmp_path / "table.csv", "r,G\n2.0,1.0\n2.1,n/a\n")
    assert_error(path, 3, "'n/a'")


def test_changing_column_count(tmp_path: Path) -> None:
    path = write_text(tmp_path / "ragged.gr", "2.0 1.0\n2.1 0.5\n2.2 0.4 0.1\n")
    assert_error(path, 3, "3 columns", "line 1")


@pytest.mark.parametrize("token", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_nan_and_inf(tmp_path: Path, token: str) -> None:
    path = write_text(tmp_path / "nan.gr", f"# x\n2.0 1.0\n2.1 {token}\n2.2 0.3\n")
    assert_error(path, 3, "non-finite", "column 2")


def test_r_not_increasing(tmp_path: Path) -> None:
    path = write_text(tmp_path / "down.gr", "# x\n2.0 1.0\n2.2 0.5\n2.1 0.4\n2.3 0.1\n")
    assert_error(path, 4, "not increasing", "line 3")


def test_descending_file(tmp_path: Path) -> None:
    path = write_text(tmp_path / "reversed.gr", "3.0 1.0\n2.9 0.5\n2.8 0.4\n")
    assert_error(path, 2, "not increasing")


def test_duplicate_r(tmp_path: Path) -> None:
    path = write_text(tmp_path / "dup.csv", "r;G\n2,0;1,0\n2,1;0,5\n2,1;0,6\n2,2;0,1\n")
    assert_error(path, 4, "duplicate r = 2.1", "line 3")


@pytest.mark.parametrize(("start", "stop"), [(0.0, 1.9), (30.5, 50.0)])
def test_no_overlap_with_model_range(tmp_path: Path, start: float, stop: float) -> None:
    r = np.linspace(start, stop, 50)
    path = gauss_file(tmp_path / "elsewhere.gr", r, centre=(start + stop) / 2)
    assert_error(path, None, "does not overlap", "2–30 Å")


def test_binary_files(tmp_path: Path) -> None:
    png = tmp_path / "plot.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    assert_error(png, None, "binary")
    gz = tmp_path / "data.gr.gz"
    gz.write_bytes(b"\x1f\x8b\x08\x00" + b"abc" * 20)
    assert_error(gz, None, "gzip")
    xlsx = tmp_path / "data.xlsx"
    xlsx.write_bytes(b"PK\x03\x04" + b"xl/workbook.xml" * 10)
    assert_error(xlsx, None, "CSV")
    high = tmp_path / "garbage.gr"
    high.write_bytes(bytes(range(128, 256)) * 10 + b"\n2.0 1.0\n")
    assert_error(high, None, "not a text file")
    control = tmp_path / "control.gr"
    control.write_bytes(bytes(range(1, 9)) * 10 + b"\n2.0 1.0\n2.1 0.5\n")
    assert_error(control, None, "binary")


def test_non_utf8_bytes_in_a_data_line(tmp_path: Path) -> None:
    path = tmp_path / "garbled.gr"
    path.write_bytes(b"# r(\xc5) G\n2.0 1.0\n2.1 0.5\xff\xfe\n2.2 0.1\n")
    assert_error(path, 3, "not UTF-8")


def test_file_over_the_size_limit_is_refused_unread(tmp_path: Path, monkeypatch) -> None:
    huge = tmp_path / "huge.gr"
    with open(huge, "wb") as handle:  # sparse: no disk space, no time
        handle.truncate(pdf_io.MAX_FILE_BYTES + 1)

    def no_open(*args, **kwargs):
        raise AssertionError("the oversized file must not be opened")

    monkeypatch.setattr(pdf_io, "open", no_open, raising=False)
    assert_error(huge, None, "too large", "64 MB")


def test_reading_is_bounded_even_when_the_size_lies(tmp_path: Path, monkeypatch) -> None:
    path = gauss_file(tmp_path / "grows.gr", np.linspace(2, 10, 400))
    real_stat, real_open = os.stat, open
    requested: list[int] = []

    def small_stat(p, *args, **kwargs):
        result = real_stat(p, *args, **kwargs)
        if Path(p) == path:  # pretend a pipe-like size that changes under us
            return os.stat_result((result.st_mode, *result[1:6], 10, *result[7:]))
        return result

    class Recorder:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def read(self, size=-1):
            requested.append(size)
            return self.handle.read(size)

    monkeypatch.setattr(pdf_io, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(pdf_io.os, "stat", small_stat)
    monkeypatch.setattr(pdf_io, "open", lambda *a, **k: Recorder(real_open(*a, **k)), raising=False)
    assert_error(path, None, "too large")
    assert requested == [1001]


def test_errors_are_value_errors_and_survive_pickling(tmp_path: Path) -> None:
    err = read_error(tmp_path / "missing.gr")
    assert isinstance(err, ValueError)
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == str(err)
    assert (copy.path, copy.line, copy.problem) == (err.path, err.line, err.problem)


def test_all_negative_g_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = write_text(tmp_path / "negative.gr", "2.0 -1.0\n3.0 -0.5\n")
    with pytest.raises(PDFReadError, match=r"negative\.gr: .*no positive peak"):
        read_pdf(path)


def test_model_input_error_names_the_file() -> None:
    data = PDFData(Path("outside.gr"), np.array([31.0, 32.0]), np.array([1.0, 0.5]))
    with pytest.raises(PDFReadError, match=r"outside\.gr: .*overlap"):
        data.model_input()


# ---------------------------------------------------------------- writing


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    r = np.round(np.arange(150, 3001) * 0.01, 2)
    g = np.sin(r) * np.exp(-r / 10) + 1e-9 / 3
    header = {"composition": "Au144 S60 C180", "qmax": 26, "qdamp": 0.0312, "mode": "xray"}
    path = tmp_path / "out" / "simulated.gr"
    write_pdf(path, r, g, header)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# composition = Au144 S60 C180\n# qmax = 26.0\n")
    data = read_pdf(path)
    np.testing.assert_array_equal(data.r, r)
    np.testing.assert_array_equal(data.g, g)  # shortest round-trip repr: bit-exact
    assert data.metadata == {
        "composition": "Au144 S60 C180",
        "qmax": 26.0,
        "qdamp": 0.0312,
        "mode": "xray",
    }
    assert isinstance(data.metadata["qmax"], float)
    assert data.main_element == "Au"
    assert [p.name for p in path.parent.iterdir()] == ["simulated.gr"]  # no temp files left


def test_write_replaces_an_existing_file(tmp_path: Path) -> None:
    path = write_text(tmp_path / "old.gr", "junk\n")
    write_pdf(path, [2.0, 2.5], [1.0, 0.25], {})
    np.testing.assert_array_equal(read_pdf(path).g, [1.0, 0.25])


def test_write_rejects_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "bad.gr"
    with pytest.raises(ValueError, match="key"):
        write_pdf(path, [2.0, 2.5], [1.0, 0.5], {"q max": 25})
    with pytest.raises(ValueError, match="several lines"):
        write_pdf(path, [2.0, 2.5], [1.0, 0.5], {"note": "a\nb"})
    with pytest.raises(ValueError, match="finite"):
        write_pdf(path, [2.0, 2.5], [1.0, np.nan], {})
    with pytest.raises(ValueError, match="equal length"):
        write_pdf(path, [2.0, 2.5], [1.0], {})
    assert not path.exists()


def test_ini_header_without_start_marker(tmp_path: Path) -> None:
    text = "[DEFAULT]\nqmax = 25\ncomposition = Ni\ninputdir = /data/run#3\n\n2.0 1.0\n2.1 0.5\n"
    data = read_pdf(write_text(tmp_path / "ini.gr", text))
    assert data.metadata == {"qmax": 25.0, "composition": "Ni", "inputdir": "/data/run#3"}
    np.testing.assert_array_equal(data.r, [2.0, 2.1])


def test_spec_labels_name_a_dr_column(tmp_path: Path) -> None:
    text = "#### start data\n#S 1\n#L r G dr\n2.0 1.0 0.01\n2.1 0.5 0.01\n"
    assert read_pdf(write_text(tmp_path / "dr.gr", text)).dg is None


# ------------------------------------------------------- what the file holds


def peaked(r: np.ndarray) -> np.ndarray:
    """A G(r)-like curve: −r baseline below 2.5 Å, peaks at 2.77 and 3.9 Å."""
    return (
        np.exp(-(((r - 2.77) / 0.08) ** 2)) + 0.5 * np.exp(-(((r - 3.92) / 0.1) ** 2))
    ) * 5 - 0.3 * r * np.exp(-r / 5)


@pytest.mark.parametrize(
    ("g", "words"),
    [
        (lambda r: np.zeros_like(r), "zero everywhere"),
        (lambda r: np.full_like(r, 0.7), "constant"),
        (lambda r: -np.abs(peaked(r)) - 0.1, "no positive peak"),
    ],
    ids=["zeros", "constant", "all negative"],
)
def test_curves_without_structure_are_refused(tmp_path: Path, g, words: str) -> None:
    r = np.round(np.arange(0, 3001) * 0.01, 2)
    path = write_text(tmp_path / "flat.gr", rows(r, g(r)))
    assert_error(path, None, words)


def test_angstrom_label_contradicted_by_a_nanometre_peak_is_refused(tmp_path: Path) -> None:
    r = np.round(np.arange(0, 3001) * 0.001, 3)  # 0–3 "Å", but peaks at 0.277
    text = "#L r(Å) G(Å^-2)\n" + rows(r, peaked(r * 10))
    path = write_text(tmp_path / "mislabelled.gr", text)
    assert_error(path, None, "says its r is in Å", "0.277")


def test_unlabelled_nanometre_file_is_converted(tmp_path: Path) -> None:
    r = np.round(np.arange(0, 3001) * 0.001, 3)
    path = write_text(tmp_path / "bare_nm.dat", rows(r, 100 * peaked(r * 10)))
    data = read_pdf(path)
    assert data.r[-1] == pytest.approx(30.0)
    np.testing.assert_allclose(data.g, peaked(data.r), atol=2e-4)
    assert "first strong peak" in data.conversions[0]


def test_pdfgui_fit_file_is_rebuilt_from_gcalc_and_gdiff(tmp_path: Path) -> None:
    r = np.round(np.arange(150, 3001) * 0.01, 2)
    gobs = peaked(r)
    gcalc = 0.9 * gobs
    body = "".join(
        f"{a:g} {c:g} 0.0 0.001 {b - c:g}\n" for a, b, c in zip(r, gobs, gcalc, strict=True)
    )
    text = "##### PDFgui fit\nqmax=25.00\nqdamp=0.04\n##### start data\n"
    path = write_text(tmp_path / "fit.fgr", text + "#L r(A) G(r) d_r d_Gr Gdiff\n" + body)
    data = read_pdf(path)
    np.testing.assert_allclose(data.g, gobs, atol=2e-5)
    assert data.metadata["qdamp"] == 0.04
    assert "Gcalc + Gdiff" in data.conversions[0]
    calc_only = write_text(tmp_path / "calc.fgr", text + "#L r Gcalc\n" + rows(r, gcalc))
    assert_error(calc_only, None, "PDFgui fit", "measured data")


@pytest.mark.parametrize(
    ("head", "words"),
    [
        ("#T F(Q) sample01\n#L Q     F(Q)\n", ("F(Q)", "#T F(Q)")),  # GSAS-II
        ("2801\nrmc S(Q) #  sample01\n", ("S(Q)", "rmc S(Q)")),  # Mantid SaveRMCProfile
        ("# PDFType = g(r)\n", ("g(r)", "pdftype")),
        ("Q,I(Q)\n", ("intensity", "column labels")),
    ],
    ids=["gsas2-fq", "mantid-rmc-sq", "pdftype-g", "csv-iq"],
)
def test_other_quantities_are_refused_with_the_signal_that_said_so(
    tmp_path: Path, head: str, words: tuple[str, ...]
) -> None:
    x = np.round(np.arange(50, 2801) * 0.01, 2)
    sep = "," if "," in head else " "
    path = write_text(tmp_path / "other.dat", head + rows(x, 1 + 0.2 * np.sin(x), sep=sep))
    err = assert_error(path, None, *words)
    assert "nothing was solved" in err.problem


def test_spaces_with_decimal_commas(tmp_path: Path) -> None:
    r = np.round(np.arange(0, 3001) * 0.01, 2)
    text = "".join(
        f"{a:.2f}   {b:.6f}\n".replace(".", ",") for a, b in zip(r, peaked(r), strict=True)
    )
    data = read_pdf(write_text(tmp_path / "comma.txt", text))
    np.testing.assert_allclose(data.g, np.round(peaked(r), 6))


def test_powder_pattern_is_not_read_as_g_of_r(tmp_path: Path) -> None:
    two_theta = np.round(np.arange(500, 12001) * 0.01, 2)
    counts = 200 + 5000 * np.exp(-(((two_theta - 39.8) / 0.2) ** 2)) + 30 * np.cos(two_theta)
    path = write_text(tmp_path / "sample.xy", rows(two_theta, counts))
    assert_error(path, None, "intensity", "never below zero")
