"""``deepstruc-gui train`` under torch's own launcher: two CPU processes (gloo).

What a user running ``torchrun --nproc_per_node 2 -m deepstruc_gui train`` relies on:
the run trains on both processes, rank 0 alone logs and writes, an interrupted run
resumes to exactly the figures of an uninterrupted one, and the validation figures are
those of a one-process run within noise.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.model.fixtures import SMALL_ARCHITECTURE

ROOT = Path(__file__).resolve().parents[1]
#: seconds one torchrun launch may take (a run takes ~15 s alone on 2 cores)
LAUNCH_TIMEOUT = 150


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Path]:
    from deepstruc_gui.model.library import build_library

    root = tmp_path_factory.mktemp("ddp")
    lib = build_library("mmnp", root / "lib.h5", metals=["Pt"], max_atoms=40, progress=False)
    arch = root / "arch.json"
    arch.write_text(json.dumps(SMALL_ARCHITECTURE.to_dict()))
    return lib, arch


def _train(lib: Path, arch: Path, out: Path, epochs: int, processes: int = 2) -> str:
    args = [
        "train", "--library", str(lib), "--architecture", str(arch), "-o", str(out),
        "--epochs", str(epochs), "--batch-size", "16", "--threads", "1",
        "--prior-refit-steps", "0", "--bundle", str(out / "bundle"), "--device", "cpu",
    ]  # fmt: skip
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc_per_node={processes}", "-m", "deepstruc_gui", *args,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    # A run takes ~15 s. Once in CI (stop 13) a launch hung for 10 min and left a worker
    # behind, busy for the rest of the suite; not reproduced in 4 runs alone. So each
    # launch runs in its own session, is killed whole after LAUNCH_TIMEOUT, and a launch
    # that hangs is tried once more (a run that fails is not).
    for attempt in (1, 2):
        launch = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True,
        )  # fmt: skip
        try:
            stdout, stderr = launch.communicate(timeout=LAUNCH_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(launch.pid, signal.SIGKILL)
            stdout, stderr = launch.communicate()
            if attempt == 2:
                pytest.fail(f"torchrun hung twice ({LAUNCH_TIMEOUT} s): {stderr[-2000:]}")
            continue
        assert launch.returncode == 0, stdout[-2000:] + stderr[-3000:]
        return stdout
    raise AssertionError("unreachable")


def _history(run: Path) -> list[dict]:
    return json.loads((run / "history.json").read_text())


def test_two_processes_train_resume_identically_and_match_one(tiny, tmp_path) -> None:
    lib, arch = tiny
    straight = tmp_path / "straight"
    out = _train(lib, arch, straight, epochs=3, processes=2)
    # rank 0 alone logs: one line per epoch, not two
    assert sum(line.startswith("epoch") for line in out.splitlines()) == 3
    meta = json.loads((straight / "run.json").read_text())
    assert meta["processes"] == 2
    # …and writes the bundle, which loads
    from deepstruc_gui.model.bundle import ModelBundle

    assert len(ModelBundle.load(straight / "bundle").latent_map) > 0

    # interrupted after two epochs, resumed to three: the same figures, exactly
    resumed = tmp_path / "resumed"
    _train(lib, arch, resumed, epochs=2, processes=2)
    _train(lib, arch, resumed, epochs=3, processes=2)
    a, b = _history(straight), _history(resumed)
    keys = [k for k in a[0] if k.startswith(("train_", "val_"))]
    for ea, eb in zip(a, b, strict=True):
        for k in keys:
            assert ea[k] == pytest.approx(eb[k], rel=1e-6, abs=1e-9), (ea["epoch"], k)

    # one process, same global batch: the validation figures within noise
    from deepstruc_gui.model.training import TrainConfig, train

    config = TrainConfig(epochs=3, batch_size=16, threads=1, device="cpu")
    train(lib, tmp_path / "single", config, arch=SMALL_ARCHITECTURE, log=lambda *_: None)
    single = _history(tmp_path / "single")
    print("one process", {k: single[-1][k] for k in keys})
    print("two processes", {k: a[-1][k] for k in keys})
    for k in ("val_prior_coord", "val_post_coord", "val_bond_err"):
        one, two = single[-1][k], a[-1][k]
        assert np.isfinite(two)
        assert abs(one - two) <= 0.1 * max(abs(one), 1e-3), (k, one, two)
