"""Series mode: a folder of PDFs solved frame by frame, as the beamline writes them."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.cli.main import main
from deepstruc_gui.model import series_watch
from deepstruc_gui.model.series_watch import FolderWatcher, FrameTracker, list_frames, natural_key

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_series import write_series  # noqa: E402  (the benchmark's frame simulator)

# the paper's region search, no size extension: these tests are about the series itself
FAST = ["--samples", "40", "--warm-samples", "8", "--region-only", "--no-size-extension"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- which files, in which order ----------------------------------------------------
def test_natural_sort_puts_frame_2_before_frame_10():
    names = ["frame_10.gr", "frame_2.gr", "Frame_3.gr", "frame_2b.gr", "frame_001.gr", "a.gr"]
    assert sorted(names, key=natural_key) == [
        "a.gr", "frame_001.gr", "frame_2.gr", "frame_2b.gr", "Frame_3.gr", "frame_10.gr",
    ]  # fmt: skip


def test_listing_takes_the_pattern_and_skips_hidden_files_and_folders(tmp_path):
    for name in ["s_10.gr", "s_9.gr", "s_1.gr", "notes.txt", "s_2.fgr", ".s_3.gr.tmp"]:
        (tmp_path / name).write_text("x")
    (tmp_path / "sub.gr").mkdir()
    assert [p.name for p in list_frames(tmp_path)] == ["s_1.gr", "s_9.gr", "s_10.gr"]
    assert [p.name for p in list_frames(tmp_path, "*.fgr")] == ["s_2.fgr"]
    assert [p.name for p in list_frames(tmp_path, "s_1*")] == ["s_1.gr", "s_10.gr"]
    with pytest.raises(FileNotFoundError):
        list_frames(tmp_path / "missing")


def test_a_file_being_written_is_not_read_until_it_is_complete(tmp_path):
    """Size and mtime must stay still for ``settle`` s; a half file that parses badly is
    reported only after ``give_up`` s without change, and a finished one once."""
    now = [1000.0]
    tracker = FrameTracker(settle=1.0, give_up=3.0, clock=lambda: now[0])
    text = "# composition = Pt\n" + "".join(f"{2 + 0.01 * k} {np.sin(k / 9)}\n" for k in range(400))
    path = tmp_path / "frame_1.gr"
    path.write_text(text[: len(text) // 2] + "3.9")  # mid-line, like a writer's buffer
    os.utime(path, (now[0], now[0]))
    tracker.add(path)
    assert tracker.poll() == []  # just seen: not settled
    now[0] += 0.5
    assert tracker.poll() == []
    now[0] += 1.0  # settled and it would parse, but it ends mid-line: not complete
    assert tracker.poll() == []
    path.write_text(text)  # the writer finishes
    os.utime(path, (now[0], now[0]))
    tracker.add(path)
    assert tracker.poll() == []  # changed: settle again
    now[0] += 1.1
    (ready,) = tracker.poll()
    assert ready.error is None and ready.data.r.size == 400
    tracker.add(path)  # an event for a file already solved, unchanged
    now[0] += 5
    assert tracker.poll() == []


def test_a_file_left_without_a_final_line_end_is_read_after_give_up(tmp_path):
    now = [1000.0]
    tracker = FrameTracker(settle=0.5, give_up=2.0, clock=lambda: now[0])
    path = tmp_path / "frame_1.gr"
    path.write_text("".join(f"{2 + 0.01 * k} {np.sin(k / 9)}\n" for k in range(50)) + "2.5 0.1")
    os.utime(path, (now[0], now[0]))
    tracker.add(path)
    assert tracker.poll() == []  # first seen now
    now[0] += 1.0
    assert tracker.poll() == []  # settled, but no final line end
    now[0] += 1.5
    (ready,) = tracker.poll()
    assert ready.error is None and ready.data.r.size == 51


def test_a_file_that_stays_malformed_gets_its_error(tmp_path):
    now = [1000.0]
    tracker = FrameTracker(settle=0.5, give_up=2.0, clock=lambda: now[0])
    path = tmp_path / "bad.gr"
    path.write_text("r G\n1.0 2.0\n1.5 x\n")
    os.utime(path, (now[0], now[0]))
    tracker.add(path)
    assert tracker.poll() == []  # first seen now
    now[0] += 1.0
    assert tracker.poll() == []  # maybe the writer paused
    now[0] += 1.5
    (ready,) = tracker.poll()
    assert ready.data is None and "bad.gr:3" in ready.error


@pytest.mark.parametrize("polling", [False, True])
def test_the_watcher_reports_new_matching_files(tmp_path, polling):
    """watchdog's native observer, and its PollingObserver (network file systems)."""
    with FolderWatcher(tmp_path, "*.gr", polling=polling, interval=0.1) as watcher:
        assert watcher.polling is polling
        (tmp_path / "notes.txt").write_text("x")
        (tmp_path / "frame_1.gr").write_text("1 2\n")
        got: set[Path] = set()
        end = time.monotonic() + 10
        while not got and time.monotonic() < end:
            got |= watcher.changes(timeout=0.5)
    assert got == {tmp_path / "frame_1.gr"}


def test_network_file_systems_are_polled(tmp_path, monkeypatch):
    assert isinstance(series_watch.filesystem_type(tmp_path), str)  # read from /proc/mounts
    monkeypatch.setattr(series_watch, "filesystem_type", lambda _path: "nfs4")
    assert series_watch.needs_polling(tmp_path)
    assert FolderWatcher(tmp_path).polling
    monkeypatch.setattr(series_watch, "filesystem_type", lambda _path: "ext4")
    assert not FolderWatcher(tmp_path).polling


# --- the warm start ------------------------------------------------------------------
def test_warm_start_is_kept_while_it_fits_and_the_full_search_runs_when_it_does_not(
    tmp_path, monkeypatch
):
    """The decision alone, with a stand-in for the pipeline: frame 1 full; warm while
    its Rw stays within the tolerance of the last full search; full when it gets worse;
    a full search that fits worse than the warm start keeps the warm answer."""
    from types import SimpleNamespace

    from deepstruc_gui.model import series
    from deepstruc_gui.model.candidate import Candidate
    from deepstruc_gui.model.pipeline import SolveSettings

    def cand(rw, kind, z):
        source = "size-extension" if np.isnan(z).any() else "model"
        return Candidate(np.array(z, float), np.zeros((2, 3)), 2, rw, 1.0, 1.0, 0.3, 0.0, 0.0,
                         kind, np.zeros(3), np.zeros(3), source=source)  # fmt: skip

    script = iter([
        ("full", [cand(0.10, "fcc", (1, 1))]),
        ("warm", [cand(0.105, "fcc", (1, 1))]),  # within 0.10·1.1 + 0.01: kept
        ("warm", [cand(0.30, "fcc", (1, 1))]),  # worse: the full search runs
        # a built cluster of the size extension leads (it has no latent point): the
        # warm start goes round the model's best
        ("full", [cand(0.08, "ico", (np.nan, np.nan)), cand(0.12, "ico", (5, 5))]),
        ("warm", [cand(0.40, "ico", (5, 5))]),  # worse than the 0.08 again
        ("full", [cand(0.50, "bcc", (0, 0))]),  # and the full search is worse still
    ])  # fmt: skip
    calls = []

    def fake_run_solve(data, predictor, settings, cancel=None):
        kind, candidates = next(script)
        assert (settings.center is None) == (kind == "full")
        # the full search is predict's (landscape, size extension); the warm start a
        # plain region search around the last answer
        if kind == "full":
            assert settings.search == "default" and settings.size_extension
        else:
            assert settings.search == "region" and not settings.size_extension
        calls.append((kind, settings.center, settings.samples))
        return FakeResult(candidates, "region", np.array([0.2, 0.4]), 2.77, [])

    class FakeResult(SimpleNamespace):
        def __init__(self, candidates, search, prior_sigma, bond_length, warnings):
            super().__init__(candidates=candidates, search=search, prior_sigma=prior_sigma,
                             bond_length=bond_length, warnings=warnings, fit_config=None,
                             parameter_sources={"qdamp": "header"})  # fmt: skip

        @property
        def best(self):  # as SolveResult.best
            return self.candidates[0]

    refits = []

    def fake_refit_built(data, built, config, device, cancel, qdamp_known):
        refits.append([c.rw for c in built])
        return []  # the built cluster no longer fits: the full search runs

    monkeypatch.setattr(series, "run_solve", fake_run_solve)
    monkeypatch.setattr(series, "refit_built", fake_refit_built)
    solver = series.SeriesSolver(
        predictor=SimpleNamespace(device="cpu"),
        settings=series.SeriesSettings(
            search=SolveSettings(samples=100),
            warm_samples=10,
        ),
    )
    data = SimpleNamespace()
    got = [solver.solve_frame(k, tmp_path / f"f{k}.gr", data) for k in range(1, 5)]
    assert [(r.search, r.type) for r in got] == [
        ("region", "fcc"), ("warm", "fcc"), ("region", "ico"),
        ("region, and the warm start fitted better", "ico"),
    ]  # fmt: skip
    assert calls[1] == ("warm", (1.0, 1.0), 10) and calls[4][1] == (5.0, 5.0)
    assert solver.full_searches == 3 and got[3].rw == pytest.approx(0.40)
    assert got[2].rw == pytest.approx(0.08) and np.isnan(got[2].z1)
    assert refits == [[0.08]]  # the warm start after it fitted the built cluster again


def test_a_large_particle_series_stays_warm_on_its_built_clusters(tmp_path, monkeypatch):
    """When the size extension's cluster led the last frame, the warm start fits it
    again; while it fits, the frame stays warm (no full search with the extension)."""
    from types import SimpleNamespace

    from deepstruc_gui.model import series
    from deepstruc_gui.model.candidate import Candidate
    from deepstruc_gui.model.pipeline import SolveSettings

    def cand(rw, z, source):
        return Candidate(np.array(z, float), np.zeros((2, 3)), 2, rw, 1.0, 1.0, 0.3, 0.0, 0.0,
                         "fcc", np.zeros(3), np.zeros(3), source=source)  # fmt: skip

    full = [cand(0.13, (np.nan, np.nan), "size-extension"), cand(0.36, (1, 1), "model")]
    kinds = []

    def fake_run_solve(data, predictor, settings, cancel=None):
        kinds.append("full" if settings.center is None else "warm")
        found = full if settings.center is None else [cand(0.37, (1, 1), "model")]
        return Result(candidates=list(found), search="region", prior_sigma=np.array([0.2, 0.4]),
                      bond_length=2.77, warnings=[], fit_config=None, element="Pt",
                      parameter_sources={"qdamp": "model default"})  # fmt: skip

    class Result(SimpleNamespace):
        @property
        def best(self):  # as SolveResult.best: the first of the (re-sorted) candidates
            return self.candidates[0]

    def fake_refit_built(data, built, config, device, cancel, qdamp_known):
        assert [c.rw for c in built] == [0.13] and not qdamp_known
        return [cand(0.135, (np.nan, np.nan), "size-extension")]

    diagnosed = []

    def fake_result_warnings(data, ranked, metadata, config):
        diagnosed.append([c.rw for c in ranked])
        return ["diagnosed again"]

    monkeypatch.setattr(series, "run_solve", fake_run_solve)
    monkeypatch.setattr(series, "refit_built", fake_refit_built)
    monkeypatch.setattr(series, "result_warnings", fake_result_warnings)
    monkeypatch.setattr(series, "warning_dict", str)
    settings = series.SeriesSettings(search=SolveSettings(samples=100))
    predictor = SimpleNamespace(device="cpu", bundle=SimpleNamespace(metadata={}))
    solver = series.SeriesSolver(predictor, settings)
    got = [solver.solve_frame(k, tmp_path / f"f{k}.gr", SimpleNamespace()) for k in (1, 2)]
    assert kinds == ["full", "warm"] and solver.full_searches == 1
    assert got[1].search == "warm" and got[1].rw == pytest.approx(0.135)
    # the warnings are those of the merged ranking (the region's alone fits poorly)
    assert diagnosed == [[0.135, 0.37]] and got[1].warnings == ["diagnosed again"]


# --- the command --------------------------------------------------------------------
def test_watch_solves_each_complete_frame_once_in_order_and_stops_on_sigint(tmp_path):
    """Files land one by one (one in chunks with pauses, one malformed) while
    ``series --watch`` runs: each frame is solved once, in order, with its type; the
    inputs are untouched; SIGINT ends it with every finished frame written."""
    staging, folder = tmp_path / "staging", tmp_path / "beamline"
    staging.mkdir()
    folder.mkdir()
    truth = write_series(staging, 4)  # decahedral, decahedral, icosahedral, icosahedral
    jsonl, csv_path = tmp_path / "series.jsonl", tmp_path / "series.csv"
    cmd = [sys.executable, "-m", "deepstruc_gui", "series", str(folder), "--watch", *FAST,
           "--settle", "0.6", "--give-up", "2", "--jsonl", str(jsonl),
           "--csv", str(csv_path)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()

    def wait_for(word: str, timeout: float = 120.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                assert proc.poll() is None, proc.stderr.read()
                continue
            if word in line:
                return line
        raise AssertionError(f"no line with {word!r} within {timeout} s")

    try:
        wait_for("watching")
        names = []
        for k, (source, _kind, _n) in enumerate(truth):
            data = source.read_bytes()
            target = folder / source.name
            if k == 1:  # in three chunks, with pauses shorter than --settle
                with open(target, "wb") as fh:
                    for part in np.array_split(np.frombuffer(data, np.uint8), 3):
                        fh.write(part.tobytes())
                        fh.flush()
                        time.sleep(0.25)
            else:
                target.write_bytes(data)
            names.append(target.name)
            if k == 1:
                bad = folder / "frame_2x.gr"  # malformed, between frames 2 and 3
                bad.write_text("# composition = Pt\n2.00 0.1\n2.01 zero\n")
                names.append(bad.name)
            wait_for(names[-1])
        hashes = {p.name: sha(p) for p in folder.iterdir()}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    records = read_jsonl(jsonl)
    assert [Path(r["file"]).name for r in records] == names
    assert [r["frame"] for r in records] == [1, 2, 3, 4, 5]
    solved = [r for r in records if r["status"] == "ok"]
    assert [(r["type"], r["n_atoms"]) for r in solved] == [(k, n) for _p, k, n in truth]
    (bad,) = [r for r in records if r["status"] == "error"]
    assert "frame_2x.gr:3" in bad["error"] and bad["rw"] is None
    assert {p.name: sha(p) for p in folder.iterdir()} == hashes  # inputs untouched
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)  # nothing written there
    rows = csv_path.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + len(records) and rows[0].startswith("frame,file,time,status,rw")


def test_a_restarted_series_gives_identical_results(tmp_path, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    truth = write_series(folder, 3)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["series", str(folder), *FAST, "--jsonl", str(first)]) == 0
    out = capsys.readouterr().out
    assert "3 frames (0 unreadable)" in out
    assert (
        main(["series", str(folder), *FAST, "--jsonl", str(second), "--out", str(tmp_path / "o")])
        == 0
    )

    def answers(path):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in read_jsonl(path)]

    assert answers(first) == answers(second)
    assert [r["type"] for r in answers(first)] == [k for _p, k, _n in truth]
    from ase.io import read

    atoms = read(tmp_path / "o" / "frame_3_best.xyz")
    assert atoms.get_chemical_symbols()[0] == "Pt" and len(atoms) == truth[2][2]
    lines = (tmp_path / "o" / "frame_3_fit.csv").read_text().splitlines()
    body = [x for x in lines if not x.startswith("#")]
    assert body[0] == "r,Gobs,Gcalc,Gdiff" and any("frame_3.gr" in x for x in lines)
    fit = np.loadtxt(body[1:], delimiter=",")
    assert fit.shape[1] == 4 and np.allclose(fit[:, 1] - fit[:, 2], fit[:, 3], atol=1e-5)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--samples", "0"], "--samples"),
        (["--settle", "5", "--give-up", "1"], "--settle"),
        (["--warm-samples", "500", "--samples", "100"], "--warm-samples"),
        (["--rmin", "30", "--rmax", "2"], "--rmin"),
        (["--seed", "-1"], "--seed"),
        (["--element", "Xx"], "not a chemical element"),
        (["--pattern", "a/b.gr"], "--pattern"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(tmp_path, capsys, extra, message):
    try:
        code = main(["series", str(tmp_path), *extra])
    except SystemExit as exc:  # refused by argparse while parsing
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_bad_folders_and_outputs_into_the_folder_are_refused(tmp_path, capsys):
    assert main(["series", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "x.gr").write_text("1 2\n")
    assert main(["series", str(tmp_path / "x.gr")]) == 2
    assert main(["series", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert main(["series", str(tmp_path), "--csv", str(tmp_path / "s.csv")]) == 2
    assert "outside the watched folder" in capsys.readouterr().err
    same = str(tmp_path.parent / "s.out")
    assert main(["series", str(tmp_path), "--csv", same, "--jsonl", same]) == 2
    assert "same file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.gr"]
