"""Start the window: ``deepstruc-gui [FILE]``."""

from __future__ import annotations

import argparse
import contextlib
import sys


def process_until(app, condition, timeout: float = 60.0) -> None:
    """Run the event loop until ``condition()`` holds (scripts that drive the window)."""
    import time

    end = time.perf_counter() + timeout
    while not condition():
        app.processEvents()
        if time.perf_counter() > end:
            raise TimeoutError("the window did not get there in time")
        time.sleep(0.002)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="deepstruc-gui", add_help=False)
    parser.add_argument("file", nargs="?", help="a G(r) file or a saved session to open")
    args, qt_args = parser.parse_known_args(argv)

    import vispy
    from PySide6.QtWidgets import QApplication

    with contextlib.suppress(RuntimeError):  # already chosen: fine
        vispy.use(app="pyside6")  # one Qt binding for the 3-D view, whatever else is installed
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    app.setApplicationName("DeepStruc GUI")
    app.setOrganizationName("DeepStruc")

    from deepstruc_gui.gui.main_window import MainWindow

    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    if args.file:
        if args.file.endswith(".json"):
            window.open_session(args.file)
        else:
            window.open_file(args.file)
    return app.exec()
