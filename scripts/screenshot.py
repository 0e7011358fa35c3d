"""Make docs/screenshot.png: the window on the shipped model with the Pt example.

Runs the real window under a display (``xvfb-run -a python scripts/screenshot.py``),
loads JQ_S1, waits for the prior's region search, then searches the whole map and
selects the best candidate, as a user at the beamline would.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(ROOT / "docs" / "screenshot.png"))
    parser.add_argument("--model", default="mmnp")
    args = parser.parse_args()

    import vispy
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    vispy.use(app="pyside6")
    app = QApplication.instance() or QApplication([])
    from deepstruc_gui.gui.app import process_until
    from deepstruc_gui.gui.main_window import MainWindow
    from deepstruc_gui.model.bundle import resolve_model

    tmp = Path(tempfile.mkdtemp())
    MainWindow.autosave_path = staticmethod(lambda: tmp / "autosave.json")
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(models={args.model: resolve_model(args.model)}, settings=settings)
    window.resize(1500, 950)
    window.show()

    def wait(condition, timeout: float = 120.0) -> None:
        process_until(app, condition, timeout)

    wait(lambda: window.bundle is not None)
    window.open_file(ROOT / "resources" / "examples" / "JQ_S1.gr")
    wait(lambda: window.solve_complete)
    window.search_whole_map()
    wait(lambda: window.solve_complete)
    window.table.selectRow(0)
    for _ in range(50):
        app.processEvents()
        time.sleep(0.01)
    window.grab().save(args.output)
    print(f"wrote {args.output}: {window.statusBar().currentMessage()}")
    window.close()


if __name__ == "__main__":
    main()
