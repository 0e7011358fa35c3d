"""Benchmark: how often the window shows the decoded, fitted cluster under a dragged marker.

The issue asks for at least 20 updates a second while the user drags the sampling
centre. This opens the real window on the shipped model, loads the Pt example, drags
the centre along a circle at 60 mouse moves a second for a few seconds, and prints
how many previews (3-D view, PDF panel and fit) were shown per second, the delay
from a move to its preview, and — in the same run, as the reference — the time the
worker's decode-and-fit of one point takes by itself.

    xvfb-run -a python benchmarks/bench_drag.py [--seconds 4] [--model mmnp]

(Under QT_QPA_PLATFORM=offscreen the 3-D view has no OpenGL context; the figures
then leave out its drawing.)
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GOAL_HZ = 20.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--model", default="mmnp")
    parser.add_argument("--moves-per-second", type=float, default=60.0)
    args = parser.parse_args()

    import torch
    import vispy
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    vispy.use(app="pyside6")
    app = QApplication.instance() or QApplication([])
    from deepstruc_gui.gui.app import process_until
    from deepstruc_gui.gui.main_window import MainWindow
    from deepstruc_gui.model.bundle import ModelBundle, resolve_model
    from deepstruc_gui.model.inference import Predictor
    from deepstruc_gui.model.solve import evaluate_points
    from deepstruc_gui.science.pdf_io import read_pdf

    example = ROOT / "resources" / "examples" / "JQ_S1.gr"
    tmp = tempfile.mkdtemp()
    settings = QSettings(str(Path(tmp) / "bench.ini"), QSettings.Format.IniFormat)
    path = resolve_model(args.model)
    window = MainWindow(models={args.model: path}, settings=settings)
    window.resize(1400, 900)
    window.show()

    def wait(condition, timeout: float = 120.0) -> None:
        process_until(app, condition, timeout)

    wait(lambda: window.bundle is not None)
    window.open_file(example)
    wait(lambda: window.solve_complete)
    center = np.array(window.session.query.center, dtype=float)
    radius = float(np.max(window.session.region_radius())) or 0.5

    sent: dict[tuple[float, float], float] = {}
    shown: list[tuple[float, float]] = []  # (time shown, delay since its move)

    def on_preview() -> None:
        c = window.session.preview
        if c is None:
            return
        key = (round(float(c.latent[0]), 9), round(float(c.latent[1]), 9))
        now = time.perf_counter()
        if key in sent:
            shown.append((now, now - sent[key]))

    window.session.preview_changed.connect(on_preview)
    moves = int(args.seconds * args.moves_per_second)
    k = [0]
    timer = QTimer()
    timer.setInterval(int(1000 / args.moves_per_second))

    def move() -> None:
        if k[0] >= moves:
            timer.stop()
            return
        angle = 2 * math.pi * k[0] / moves
        x, y = center + 2 * radius * np.array([math.cos(angle), math.sin(angle)])
        sent[(round(float(x), 9), round(float(y), 9))] = time.perf_counter()
        window.map_view.center_dragged.emit(float(x), float(y))
        k[0] += 1

    timer.timeout.connect(move)
    start = time.perf_counter()
    timer.start()
    wait(lambda: not timer.isActive(), timeout=args.seconds * 5 + 30)
    wait(lambda: not window.worker.busy)
    elapsed = time.perf_counter() - start
    window.close()
    window.worker_thread.stop()

    # the reference: the worker's own decode-and-fit of one point, nothing else running
    predictor = Predictor(ModelBundle.load(path))
    data = read_pdf(example)
    config = window.presenter.fit_config()
    z = center[None] + radius * np.random.default_rng(0).normal(size=(40, 1, 2))
    evaluate_points(data, predictor, z[0], config)
    t = time.perf_counter()
    for point in z:
        evaluate_points(data, predictor, point, config)
    compute = (time.perf_counter() - t) / len(z)

    rate = len(shown) / elapsed
    delays = np.array([d for _, d in shown]) * 1000
    print(f"model {args.model} on {predictor.device_name}, torch threads {torch.get_num_threads()}")
    print(f"drag: {moves} moves in {elapsed:.2f} s ({moves / elapsed:.0f} moves/s)")
    print(f"previews shown: {len(shown)} = {rate:.1f} per second (goal {GOAL_HZ:.0f}/s)")
    if len(delays):
        print(
            f"move → preview delay: median {np.median(delays):.0f} ms, "
            f"95th percentile {np.percentile(delays, 95):.0f} ms"
        )
    print(f"reference, decode + fit of one point alone: {compute * 1000:.1f} ms")
    print(f"ratio previews/s to the goal: {rate / GOAL_HZ:.2f}")
    print(f"ratio preview delay to the bare compute: {np.median(delays) / (compute * 1000):.1f}")
    app.quit()


if __name__ == "__main__":
    main()
