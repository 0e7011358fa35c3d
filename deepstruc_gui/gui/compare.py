"""The teaching mode's side by side: a training structure and its reconstruction.

*Teaching › Side by Side* opens a dock; while it is open, each training point picked
on the map is rebuilt from its name and decoded at its map point in the worker
(:class:`~deepstruc_gui.gui.requests.Reconstruct`,
:func:`deepstruc_gui.model.reconstruction.reconstruct`), and the dock shows both
structures, both PDFs and the Hungarian-matched error. The dock's 3-D views are built
the first time it is shown (two more OpenGL canvases only for who uses them).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel

from deepstruc_gui.gui.requests import Failed, Reconstruct, Reconstructed
from deepstruc_gui.model.names import readable_name


class SideBySide:
    """One per window (``window`` gives the presenter, worker and map view)."""

    def __init__(self, window) -> None:
        self.w = window
        self.view = None  # a CompareView, once the dock is first shown
        self.last_index: int | None = None  # the training point picked last
        self.request: Reconstruct | None = None
        self.dock = QDockWidget("Training vs Reconstruction", window)
        self.dock.setObjectName("dock_Compare")
        self.dock.setWidget(QLabel("Teaching › Side by Side"))
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.dock.visibilityChanged.connect(lambda on: on and self._opened())
        window.map_view.training_point_clicked.connect(self.training_clicked)
        window.worker.delivered.connect(self.deliver)

    def _ensure_view(self):
        if self.view is None:
            from deepstruc_gui.gui.views.compare_view import CompareView

            self.view = CompareView()
            self.dock.setWidget(self.view)
        return self.view

    def _opened(self) -> None:
        """The dock became visible: compare the point picked last, unless shown."""
        self._ensure_view()
        shown = self.request.index if self.request is not None else None
        if self.last_index is not None and self.last_index != shown:
            self.compare(self.last_index)

    def show(self) -> None:
        """Open the dock and compare the training point picked last (if any)."""
        self.dock.show()
        self.dock.raise_()
        self._opened()
        if self.last_index is None:
            self.w.show_status("click a training point on the map to compare it", 5000)

    def training_clicked(self, index: int) -> None:
        self.last_index = int(index)
        if self.dock.isVisible() and self.view is not None:
            self.compare(self.last_index)

    def name(self, index: int) -> str:
        m = self.w.presenter.bundle.latent_map
        metal = m.metals[index] if index < len(m.metals) else None
        name = readable_name(m.names[index], m.types[index], m.n_atoms[index], metal)
        split = m.split[index] if index < len(m.split) else ""
        # "train": the model saw it; "val"/"test": it did not (a fairer error)
        return f"{name} ({split} split)" if split else name

    def compare(self, index: int) -> Reconstruct | None:
        if self.w.presenter.bundle is None:
            return None
        self.request = self.w.worker.submit(Reconstruct(index=int(index)))
        self._ensure_view().show_message(f"{self.name(index)}: rebuilding and decoding…")
        return self.request

    def deliver(self, request, result) -> None:
        if request is not self.request or self.view is None:
            return
        if isinstance(result, Reconstructed):
            self.view.show_reconstruction(result.reconstruction, self.name(request.index))
        elif isinstance(result, Failed):
            self.view.show_message(f"{self.name(request.index)}: cannot compare ({result.message})")
