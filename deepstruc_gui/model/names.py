"""Training structures named for people: type, size, metal and bond length instead of
the data set's identifiers (``sc_h1_k2_l2_Ni_2.30`` → ``simple cubic · 19 Ni atoms ·
bond 2.30 Å``)."""

from __future__ import annotations

import contextlib

TYPE_NAMES = {
    "sc": "simple cubic",
    "fcc": "fcc",
    "bcc": "bcc",
    "hcp": "hcp",
    "icosahedral": "icosahedron",
    "decahedral": "decahedron",
    "octahedral": "octahedron",
    "faulted": "faulted stacking",
}


def readable_name(name: str, kind: str, n_atoms: int, metal: str | None = None) -> str:
    """``kind`` (a structure type), ``n_atoms`` and ``metal`` as words; the bond length
    (Å) is the identifier's last ``_`` field when that is a number."""
    parts = [TYPE_NAMES.get(kind, kind), f"{int(n_atoms)} {metal + ' ' if metal else ''}atoms"]
    last = str(name).rsplit("_", 1)[-1]
    with contextlib.suppress(ValueError):
        parts.append(f"bond {float(last):.2f} Å")
    return " · ".join(parts)
