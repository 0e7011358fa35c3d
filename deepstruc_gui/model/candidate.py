"""A decoded, refined cluster: what the table lists and the views show (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: a search whose best Rw is above this found nothing like the data: most often the
#: prior placed a PDF unlike the training ones in the wrong region (the whole-map
#: search then helps; on the Pt example it finds fcc where the region gives bcc)
POOR_FIT_RW = 0.5

#: ``Candidate.source``: decoded by the model, built by the size extension
#: (model/size_extension.py) or by the stacking sequence search (model/sequence_search.py)
SOURCE_MODEL = "model"
SOURCE_SIZE_EXTENSION = "size-extension"
SOURCE_SEQUENCE_SEARCH = "sequence-search"
#: the sources of clusters that were built, not decoded: no latent point
BUILT_SOURCES = (SOURCE_SIZE_EXTENSION, SOURCE_SEQUENCE_SEARCH)

#: built clusters within this relative Rw of the best count as equally good sizes
SIZE_RANGE_RW = 0.02


@dataclass
class Candidate:
    """One decoded (or, from the size extension, built) and refined cluster.

    ``rw``: PDFgui's unweighted Rw of its fit over the fit range; ``scale``,
    ``expansion`` (isotropic factor on the decoded coordinates, already applied to
    ``positions``), ``biso`` (Å²), ``qdamp`` (Å⁻¹), ``delta2`` (Å²): the refined (or
    fixed) parameters; ``latent``: its map point; ``nearest_type``: the type of the
    training structure nearest that point; ``r``, ``gcalc``: the fitted curve on the
    data's r points inside the fit range; ``element``: the metal, when known;
    ``source``: "model" (decoded) or "size-extension" (built, latent NaN); ``shape``:
    a built cluster's family and size parameters.
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
    #: where the candidate came from: "model" (decoded from ``latent``) or
    #: "size-extension" (an ase-built cluster larger than the training structures;
    #: its ``latent`` is NaN, it has no map point)
    source: str = "model"
    #: for built clusters, the family and its size parameters, e.g.
    #: "truncated octahedron (length 9, cutoff 2)"; empty for decoded ones
    shape: str = ""
    element: str | None = None
    #: which Rw ``rw`` is: "unweighted" or "weighted (1/dG²)" (FitResult.rw_kind)
    rw_kind: str = "unweighted"
    #: PDFgui's Rw with weights 1/dG² when the data carry dG, else None
    rw_weighted: float | None = None
    #: standard error of each refined parameter (same unit as the parameter)
    errors: dict[str, float] = field(default_factory=dict)
    #: refined parameters that ended at one of their bounds (values are limits there)
    at_bound: tuple[str, ...] = ()
    #: diffpy spherical-shape envelope diameter (Å), 0 = off
    spdiameter: float = 0.0

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
        """Largest interatomic distance in Å (0 for a single atom)."""
        from scipy.spatial.distance import pdist

        return float(pdist(self.positions).max()) if self.n_atoms > 1 else 0.0


def is_built(candidate: Candidate) -> bool:
    """Was ``candidate`` built rather than decoded? Built clusters come from a search
    that builds them (``source`` in :data:`BUILT_SOURCES`) and have no map point
    (latent NaN), which a kept one keeps."""
    latent = np.asarray(candidate.latent, dtype=float)
    return candidate.source in BUILT_SOURCES or not np.all(np.isfinite(latent))


def built_size_range(candidates: list[Candidate], rel: float = SIZE_RANGE_RW) -> tuple[int, int]:
    """Fewest and most atoms among the built candidates (:func:`is_built`) of the best
    built one's source and type family whose Rw is within ``rel`` (relative) of its Rw:
    how well the data fix the size (an unknown Qdamp trades with the size through the
    envelope). ``candidates``: ranked best first; (0, 0) without built ones."""
    from deepstruc_gui.science.cluster_families import TYPE_FAMILY

    built = [c for c in candidates if is_built(c)]
    if not built:
        return 0, 0
    best = min(built, key=lambda c: c.rw)
    family = TYPE_FAMILY.get(best.nearest_type, best.nearest_type)
    near = [
        c.n_atoms
        for c in built
        if c.source == best.source
        and TYPE_FAMILY.get(c.nearest_type, c.nearest_type) == family
        and c.rw <= best.rw * (1 + rel)
    ]
    return min(near), max(near)
