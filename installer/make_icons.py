"""Render resources/icons/deepstruc-gui.svg to the PNG sizes desktops ask for."""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 32, 48, 64, 128, 256, 512)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    icons = Path(__file__).resolve().parents[1] / "resources" / "icons"
    renderer = QSvgRenderer(str(icons / "deepstruc-gui.svg"))
    if not renderer.isValid():
        print("cannot read the SVG icon", file=sys.stderr)
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        image.save(str(icons / f"deepstruc-gui-{size}.png"))
    del app
    print(f"wrote {len(SIZES)} PNG icons to {icons}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
