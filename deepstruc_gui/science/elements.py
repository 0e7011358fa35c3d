"""The 28 transition metals of the DeepStruc libraries and their bond lengths.

The nearest-neighbour distance of a metal is twice its (single-bond) metallic radius
from the table the original DeepStruc generator used (``mendeleev``'s
``metallic_radius``, in pm; copied here and checked against mendeleev 1.3.0 so the
project does not depend on it). It reproduces the distances in the names of the
reference files (Zn 2.42, V 2.44, Re 2.56, Os 2.52, Cr 2.38, W 2.60, Ta 2.68,
Ti 2.64, Fe 2.34, Mn 2.36, Cd 2.76, Zr 2.90 Å). Several metals share a radius, so
their clusters coincide: 28 metals give 19 distinct distances (19 × 197 shapes is
the paper's 3,743 clusters).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

METALS: tuple[str, ...] = (
    "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Y", "Zr", "Nb", "Tc",
    "Ru", "Rh", "Pd", "Ag", "Cd", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg",
)  # fmt: skip

#: single-bond metallic radii in pm (mendeleev ``metallic_radius``)
METALLIC_RADIUS_PM: dict[str, int] = {
    "Sc": 144, "Ti": 132, "V": 122, "Cr": 119, "Mn": 118, "Fe": 117, "Co": 116,
    "Ni": 115, "Cu": 118, "Zn": 121, "Y": 162, "Zr": 145, "Nb": 134, "Tc": 127,
    "Ru": 125, "Rh": 125, "Pd": 128, "Ag": 134, "Cd": 138, "Hf": 144, "Ta": 134,
    "W": 130, "Re": 128, "Os": 126, "Ir": 127, "Pt": 130, "Au": 134, "Hg": 139,
}  # fmt: skip


def nearest_neighbour_distance(metal: str) -> float:
    """Twice the metallic radius, in Å (the original's ``lc``)."""
    try:
        return 2 * METALLIC_RADIUS_PM[metal] / 100
    except KeyError:
        raise ValueError(f"unknown metal {metal!r}; known: {', '.join(METALS)}") from None


def metals_by_distance(metals: Sequence[str] = METALS) -> dict[float, list[str]]:
    """Group metals that share a nearest-neighbour distance (their clusters coincide).

    Keys ascend; within a group metals keep the order of :data:`METALS`, so the
    first one (the name an entry is stored under) never depends on how the user
    listed them. Repeated metals count once.
    """
    order = {m: i for i, m in enumerate(METALS)}
    unique = sorted(set(metals), key=lambda m: (order.get(m, len(order)), m))
    groups: dict[float, list[str]] = {}
    for metal in unique:
        groups.setdefault(nearest_neighbour_distance(metal), []).append(metal)
    return dict(sorted(groups.items()))


def atomic_number(element: str | int) -> int:
    """Atomic number of an element symbol (``"Pt"``) or a number passed through."""
    if isinstance(element, int | np.integer):
        return int(element)
    import periodictable

    try:
        return int(periodictable.elements.symbol(str(element).strip()).number)
    except ValueError:
        raise ValueError(f"unknown element {element!r}") from None


def element_symbol(element: str | int) -> str:
    """Symbol of an element given by symbol or atomic number (``78`` → ``"Pt"``)."""
    import periodictable

    try:
        if isinstance(element, int | np.integer):
            return str(periodictable.elements[int(element)].symbol)
        return str(periodictable.elements.symbol(str(element).strip()).symbol)
    except (ValueError, KeyError):
        raise ValueError(f"unknown element {element!r}") from None


def scattering_factors(elements: Sequence[str | int], q: np.ndarray, table: str) -> np.ndarray:
    """Scattering factors of ``elements`` at ``q`` (Å⁻¹), shape (len(elements), len(q)).

    The tables are diffpy.srreal's: ``"xray"`` gives the Q-dependent X-ray form factor
    f0(Q) from the Waasmaier–Kirfel coefficients (Acta Cryst. A51, 416 (1995)) with
    ``sin θ/λ = Q/4π``, as ``periodictable.cromermann.fxrayatq`` computes it from the
    same f0_WaasKirf.dat file libdiffpy reads (checked equal to 1e-12 for the metals);
    ``"electronnumber"`` gives Z; ``"neutron"`` the bound coherent scattering length
    b_c in fm (periodictable). Raises ``ValueError`` for an unknown element or table,
    or an element without a neutron scattering length.
    """
    q = np.asarray(q, dtype=np.float64)
    out = np.empty((len(elements), q.size), dtype=np.float64)
    for i, element in enumerate(elements):
        symbol = element_symbol(element)
        if table == "xray":
            from periodictable.cromermann import fxrayatq

            out[i] = fxrayatq(symbol, q)
        elif table == "electronnumber":
            out[i] = atomic_number(symbol)
        elif table == "neutron":
            import periodictable

            b_c = periodictable.elements.symbol(symbol).neutron.b_c
            if b_c is None:
                raise ValueError(f"no neutron scattering length for {symbol}")
            out[i] = b_c
        else:
            raise ValueError(f"unknown scattering table {table!r}")
    return out
