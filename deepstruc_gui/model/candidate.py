"""A decoded, refined cluster: what the table lists and the views show (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: a search whose best Rw is above this found nothing like the data: most often the
#: prior placed a PDF unlike the training ones in the wrong region (the whole-map
#: search then helps; on the Pt example it finds fcc where the region gives bcc)
POOR_FIT_RW = 0.5


@dataclass
class Candidate:
    """One decoded and refined cluster.

    ``rw``: PDFgui's unweighted Rw of its fit over the fit range; ``scale``,
    ``expansion`` (isotropic factor on the decoded coordinates, already applied to
    ``positions``), ``biso`` (Å²), ``qdamp`` (Å⁻¹), ``delta2`` (Å²): the refined (or
    fixed) parameters; ``latent``: its map point; ``nearest_type``: the type of the
    training structure nearest that point; ``r``, ``gcalc``: the fitted curve on the
    data's r points inside the fit range; ``element``: the metal, when known.
    """

    latent: np.ndarray  # (2,)
    positions: np.ndarray  # (n, 3) Å, centred, refined expansion applied
    n_atoms: int
    rw: float
    scale: float
    expansion: float
    biso: float
    qdamp: float
    delta2: float
    nearest_type: str
    r: np.ndarray = field(repr=False)
    gcalc: np.ndarray = field(repr=False)
    element: str | None = None

    @property
    def structure_type(self) -> str:
        """The structure type it resembles (alias of ``nearest_type``)."""
        return self.nearest_type

    def to_atoms(self, element: str | list[str] | None = None):
        """An ``ase.Atoms`` of this cluster with its Rw, parameters and latent point in
        ``atoms.info`` (see :func:`deepstruc_gui.model.export.candidate_to_atoms`).

        ``element``: one symbol or one per atom; default ``self.element``. Raises
        ``ValueError`` when neither says which element.
        """
        from deepstruc_gui.model.export import candidate_to_atoms

        return candidate_to_atoms(self, element if element is not None else self.element)

    @property
    def diameter(self) -> float:
        from scipy.spatial.distance import pdist

        return float(pdist(self.positions).max()) if self.n_atoms > 1 else 0.0
