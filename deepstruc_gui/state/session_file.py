"""How a session's arrays and candidates are written into its JSON file and read back
(:meth:`deepstruc_gui.state.session.Session.to_json` / ``restore``)."""

from __future__ import annotations

import base64

import numpy as np

from deepstruc_gui.model.candidate import Candidate


def encode_array(a: np.ndarray, dtype: str = "<f4") -> dict:
    """An array as base64 of its little-endian bytes.

    Written as lists of decimal numbers, a whole-map search (3,000 fitted curves of
    ~2,000 points) took seconds to save, on the GUI thread, after every search; as
    bytes it takes milliseconds and a third of the space. float32 keeps positions to
    ~1e-6 Å·(size) and curves to 7 digits.
    """
    arr = np.ascontiguousarray(a, dtype=dtype)
    return {"dtype": dtype, "shape": list(arr.shape), "b64": base64.b64encode(arr).decode()}


def decode_array(d) -> np.ndarray:
    """Inverse of :func:`encode_array`; also reads version-1 lists of numbers."""
    if isinstance(d, dict):
        raw = base64.b64decode(d["b64"], validate=True)
        return np.frombuffer(raw, dtype=np.dtype(d["dtype"])).reshape(d["shape"]).astype(float)
    return np.asarray(d, float)


def candidates_to_json(candidates: list[Candidate]) -> dict:
    """Candidates, with each distinct fit grid written once (a search shares one)."""
    grids: list[np.ndarray] = []
    out = []
    for c in candidates:
        k = next((i for i, g in enumerate(grids) if g is c.r or np.array_equal(g, c.r)), len(grids))
        if k == len(grids):
            grids.append(c.r)
        out.append(
            {
                "latent": c.latent.tolist(),
                "positions": encode_array(c.positions),
                "n_atoms": c.n_atoms,
                "rw": c.rw,
                "scale": c.scale,
                "expansion": c.expansion,
                "biso": c.biso,
                "qdamp": c.qdamp,
                "delta2": c.delta2,
                "nearest_type": c.nearest_type,
                "source": getattr(c, "source", "model"),
                "shape": getattr(c, "shape", ""),
                "element": c.element,
                "grid": k,
                "gcalc": encode_array(c.gcalc),
            }
        )
    return {"grids": [encode_array(g, "<f8") for g in grids], "candidates": out}


def candidate_from_json(d: dict, grids: list[np.ndarray]) -> Candidate:
    """A :class:`Candidate` from its saved dict: positions (n, 3) in Å, fitted curve on
    ``grids[d["grid"]]`` (shared r grids) or its own ``r``. Raises ``KeyError`` for a
    missing field."""
    c = Candidate(
        latent=np.asarray(d["latent"], float),
        positions=decode_array(d["positions"]).reshape(-1, 3),
        n_atoms=int(d["n_atoms"]),
        rw=float(d["rw"]),
        scale=float(d["scale"]),
        expansion=float(d["expansion"]),
        biso=float(d["biso"]),
        qdamp=float(d["qdamp"]),
        delta2=float(d["delta2"]),
        nearest_type=str(d["nearest_type"]),
        r=grids[int(d["grid"])] if "grid" in d else decode_array(d["r"]),
        gcalc=decode_array(d["gcalc"]),
        element=d.get("element"),
    )
    if d.get("source", "model") != "model":
        c.source = str(d["source"])
    if d.get("shape"):
        c.shape = str(d["shape"])
    return c
