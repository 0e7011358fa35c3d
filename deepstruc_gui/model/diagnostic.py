"""One warning about a result or its data: a stable code and a sentence for people.

Every front end (window banner, ``predict`` and its ``--json``, the notebook API, the
series mode) shows :class:`Diagnostic` objects made by
:mod:`deepstruc_gui.model.diagnostics`; the codes are documented in docs/WARNINGS.md.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CODES", "SEVERITIES", "Diagnostic"]

#: every code a Diagnostic may carry (docs/WARNINGS.md explains each)
CODES = (
    "beyond-training-size",
    "q-range",
    "not-monometallic",
    "poor-fit",
    "close-atoms",
    "region-disagrees",  # the default search's finding (model/search.py)
    "not-unique",  # candidates as good within the noise disagree (model/ambiguity.py)
)
SEVERITIES = ("info", "warning")


@dataclass(frozen=True)
class Diagnostic:
    """One warning: a stable ``code`` (see ``CODES``), a ``message`` for people, and a
    ``severity`` ("warning": do not trust the answer without checking; "info": worth
    knowing)."""

    code: str
    message: str
    severity: str = "warning"

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown diagnostic code {self.code!r}; known: {', '.join(CODES)}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    def to_dict(self) -> dict[str, str]:
        """``{"code", "message", "severity"}`` as ``predict --json`` writes it."""
        return {"code": self.code, "message": self.message, "severity": self.severity}
