"""Helpers for the window tests: wait for a search, find a menu action, record requests."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


def wait_for_solve(qtbot, window, timeout=60000) -> None:
    qtbot.waitUntil(
        lambda: window.solve_complete and bool(window.session.candidates), timeout=timeout
    )


def action(window, text: str) -> QAction:
    """A menu action by the start of its text (without the & mnemonics)."""
    found = [a for a in window.findChildren(QAction) if a.text().replace("&", "").startswith(text)]
    assert found, f"no action {text!r}"
    return found[0]


def sent(window) -> list:
    """Every request the window sends from now on."""
    requests: list = []
    submit = window.worker.submit

    def recording(request):
        request = submit(request)
        requests.append(request)
        return request

    window.worker.submit = recording
    window.presenter.jobs = window.worker
    return requests


def same(a, b) -> bool:
    """The same candidate objects in the same order (candidates hold arrays: no ==)."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def loaded(make_window, qtbot, n_samples: int = 60):
    window = make_window()
    window.session.update_query(n_samples=n_samples)
    assert window.open_file(EXAMPLES / "JQ_S1.gr")
    wait_for_solve(qtbot, window)
    return window


def with_landscape(make_window, qtbot):
    """The window after a region search (sampled points) and Edit › Compute Rw Landscape."""
    window = loaded(make_window, qtbot)
    action(window, "Compute Rw Landscape").trigger()
    qtbot.waitUntil(
        lambda: (
            window.session.landscape is not None
            and window.session.landscape.complete
            and not window.worker.busy
        ),
        timeout=120000,
    )
    qtbot.wait(100)  # the layout settles
    return window
