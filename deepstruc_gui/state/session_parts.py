"""The parts of a session beyond the search: the Rw landscape and the series.

Kept apart from :mod:`deepstruc_gui.state.session` so that file stays about the
search. :func:`parts_to_json` adds ``"landscape"`` (the ``.npz`` of
:meth:`~deepstruc_gui.model.landscape.Landscape.save`, base64) and ``"series"``
(:meth:`~deepstruc_gui.state.series.SeriesState.to_dict`: folder, pattern, every
frame's numbers) to the session's JSON; :func:`restore_parts` reads them back, and
reads files written before these keys existed (no landscape, an empty series).
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

from deepstruc_gui.state.series import SeriesState

if TYPE_CHECKING:  # model.landscape imports torch: only when a landscape is read
    from deepstruc_gui.model.landscape import Landscape


def landscape_to_json(landscape: Landscape | None) -> dict | None:
    """The Rw landscape as compressed NumPy arrays in base64 JSON, or None."""
    if landscape is None:
        return None
    return {"npz_b64": base64.b64encode(landscape.to_bytes()).decode()}


def landscape_from_json(d: dict | None) -> Landscape | None:
    """Inverse of :func:`landscape_to_json`; ``ValueError`` when malformed."""
    if not d:
        return None
    from deepstruc_gui.model.landscape import Landscape

    raw = io.BytesIO(base64.b64decode(d["npz_b64"], validate=True))
    return Landscape.load(raw)


def parts_to_json(landscape: Landscape | None, series: SeriesState | None) -> dict[str, Any]:
    """The landscape and series parts of a session file (None for absent parts)."""
    return {
        "landscape": landscape_to_json(landscape),
        "series": None if series is None or series.folder is None else series.to_dict(),
    }


def restore_parts(payload: dict, series: SeriesState) -> Landscape | None:
    """The saved landscape (or None), and ``series`` filled in place with the saved
    frames (its observers see ``records_changed``); ``ValueError`` when malformed."""
    try:
        landscape = landscape_from_json(payload.get("landscape"))
        saved = payload.get("series")
        restored = SeriesState.from_dict(saved) if saved else SeriesState()
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed landscape or series in the session ({exc})") from exc
    series.clear()
    series.set_watching(False)
    series.folder, series.pattern = restored.folder, restored.pattern
    for record in restored.records:
        series.add(record)
    return landscape
