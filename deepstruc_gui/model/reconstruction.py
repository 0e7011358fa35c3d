"""A training structure next to its reconstruction: the teaching mode's side by side.

The bundle's latent map names every training structure (:func:`~deepstruc_gui.model.
library.entry_name`: shape label, metal, bond length in Å), and the shape label holds
the builder's parameters, so the structure is rebuilt exactly as the library built it
(:func:`~deepstruc_gui.science.clusters.build_cluster` for the seven mmnp types,
:func:`~deepstruc_gui.science.stacking.stacked_cluster` for the stacking library). The
rebuilt atom count is checked against the map's: a mismatch is refused, never shown.

The reconstruction is what the decoder gives at the structure's map point μ, at the
structure's own bond length (no fit): the error is the per-coordinate mean absolute
error over atoms paired by the Hungarian assignment
(:func:`~deepstruc_gui.model.evaluation.matched_mae`, the measure the DeepStruc paper
reports, Kjær, Anker et al., Digital Discovery 2023). Both PDFs are simulated with the
model's own simulation parameters (max-normalised, as the library stores them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from deepstruc_gui.model.bundle import LatentMap
from deepstruc_gui.model.evaluation import matched_mae
from deepstruc_gui.science.clusters import CLUSTER_TYPES, build_cluster
from deepstruc_gui.science.debye import simulate_pdfs
from deepstruc_gui.science.parameters import PDFParameters

_PARAM = re.compile(r"^([a-z]+\d?)-(\d+)$|^([a-z]+)(\d+)$")  # s1-3 | h3, shells2


class NotRebuildable(ValueError):
    """A training name that does not say how its structure was built."""


def training_structure(name: str) -> np.ndarray:
    """Positions (n, 3) in Å, centred, of the training entry called ``name``.

    ``name`` as :func:`~deepstruc_gui.model.library.entry_name` writes it:
    ``fcc_h3_k6_l7_Pt_2.77``, ``hcp_s1-2_s2-2_s3-3_Co_2.50``, ``icosahedral_shells3_Au_2.88``
    or a stacking entry ``ABCAC_c2.2a_Pt_2.60``. Raises :class:`NotRebuildable` for any
    other name (a test model's ``fcc_12``).
    """
    parts = str(name).rsplit("_", 2)
    try:
        shape, _metal, bond = parts
        nn = float(bond)
    except ValueError:
        raise NotRebuildable(f"{name!r} does not end in _<metal>_<bond length>") from None
    kind, *fields = shape.split("_")
    if kind in CLUSTER_TYPES:
        params = {}
        for f in fields:
            m = _PARAM.match(f)
            if m is None:
                raise NotRebuildable(f"{name!r}: cannot read the size parameter {f!r}")
            key, value = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            params[key] = int(value)
        try:
            return build_cluster(kind, params, nn)
        except KeyError as exc:
            raise NotRebuildable(f"{name!r}: no size parameter {exc}") from None
    if set(kind) <= set("ABC"):
        from deepstruc_gui.science.stacking import parse_stacked_shape, stacked_cluster

        try:
            return stacked_cluster(*parse_stacked_shape(shape), nn)
        except ValueError:
            pass
    raise NotRebuildable(f"{name!r} is not a built cluster type or stacking sequence")


@dataclass(frozen=True, eq=False)
class Reconstruction:
    """A training structure and the decoder's output at its map point.

    ``truth``, ``decoded``: positions (n, 3) and (m, 3) in Å, centred; ``mae``: the
    Hungarian-paired per-coordinate MAE in Å (over min(n, m) pairs); ``z``: the map
    point (2,); ``bond``: the entry's bond length in Å (both are at it); ``r`` (k,) in
    Å with ``g_truth``, ``g_decoded`` (k,): the simulated PDFs, each max-normalised.
    """

    index: int
    name: str
    metal: str
    kind: str
    truth: np.ndarray
    decoded: np.ndarray
    mae: float
    z: np.ndarray
    bond: float
    r: np.ndarray
    g_truth: np.ndarray
    g_decoded: np.ndarray


def reconstruct(predictor, index: int) -> Reconstruction:
    """Rebuild training structure ``index`` of ``predictor``'s map and decode its μ.

    Raises :class:`NotRebuildable` when the name says nothing buildable, and
    ``ValueError`` when the rebuilt atom count is not the map's (a map from another
    library build: showing it would compare with the wrong structure).
    """
    m: LatentMap = predictor.bundle.latent_map
    name = str(m.names[index])
    truth = training_structure(name)
    if len(truth) != int(m.n_atoms[index]):
        raise ValueError(
            f"{name}: rebuilt with {len(truth)} atoms, the map says {int(m.n_atoms[index])}"
        )
    bond = float(name.rsplit("_", 1)[1])
    z = np.asarray(m.mu[index], float)
    decoded = predictor.decode(z[None], bond)[0]
    params = PDFParameters.from_dict(predictor.bundle.metadata["pdf_parameters"])
    g = simulate_pdfs([truth, decoded] if len(decoded) else [truth], params, batch_size=2)
    g = [gi / max(float(np.abs(gi).max()), 1e-12) for gi in g]
    empty = np.zeros_like(g[0])
    return Reconstruction(
        index=int(index),
        name=name,
        metal=str(m.metals[index]) if index < len(m.metals) else "",
        kind=str(m.types[index]),
        truth=truth,
        decoded=decoded,
        mae=matched_mae(decoded, truth) if len(decoded) else float("nan"),
        z=z,
        bond=bond,
        r=params.r_grid.copy(),
        g_truth=g[0],
        g_decoded=g[1] if len(decoded) else empty,
    )
