"""Library entries → torch_geometric graphs with decoder targets.

Units: coordinates are divided by the entry's nearest-neighbour distance and then by
one isotropic ``scale`` for the whole library. A shape built for 19 metals is then
one target, not 19: the latent map places shapes, and the bond length — the one
number a PDF states most plainly (its first peak) — is read by a separate head.

Atom order: the decoder has one slot per atom and must learn which atom goes where.
Atoms are sorted by distance from the centroid (rounded to 0.01 Å, so an atom shell
stays together), then by z, y, x in the builder's crystal frame. Orientation is the
builder's (ase clusters come aligned with their crystal axes, the same for every
metal), so no rotation is applied. Present atoms fill the first slots; the presence
target is 1 for them and 0 for the padding slots.
"""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data

from deepstruc_gui.model.library import Library

ORDERS = ("radial", "layers")
#: Slots per close-packed layer in the block layout of stacked clusters (the library's
#: largest layer has 31 atoms) and the most layers it holds (8).
LAYER_BLOCK = 32
MAX_LAYERS = 8
#: decoder slots of a stacking model in the block layout
LAYER_BLOCK_SLOTS = LAYER_BLOCK * MAX_LAYERS


def canonical_order(positions: np.ndarray, mode: str = "radial") -> np.ndarray:
    """Indices that put atoms in the decoder's slot order.

    ``radial``: by distance from the centroid (0.01 Å shells), then z, y, x — for the
    seven-type library, whose shapes share their crystal frame.
    ``layers``: by height along the stacking axis z (0.1 Å), then in-plane radius and
    angle — for stacked clusters, whose faults shift whole layers sideways (a radial
    order would scramble slots between neighbouring sequences).
    """
    p = np.asarray(positions, dtype=np.float64)
    if mode == "layers":
        ring = np.round(np.hypot(p[:, 0], p[:, 1]), 1)
        # angle in [0, 2π): atoms on the −x axis sit at y = ±1e-8 after centring, and
        # arctan2 put them first (−π) or last (+π) in their ring by float noise — the
        # same shape got a different slot order at another bond length
        angle = np.mod(np.round(np.arctan2(p[:, 1], p[:, 0]), 2), 6.28)
        return np.lexsort((angle, ring, np.round(p[:, 2], 1)))
    radius = np.round(np.linalg.norm(p, axis=1), 2)
    keys = (np.round(p[:, 0], 2), np.round(p[:, 1], 2), np.round(p[:, 2], 2), radius)
    return np.lexsort(keys)


def decoder_target(
    positions: np.ndarray, scale: float, max_atoms: int, order: str = "radial"
) -> np.ndarray:
    """(max_atoms, 4): normalised coordinates in canonical order and presence."""
    p = np.asarray(positions, dtype=np.float64)
    p = p - p.mean(axis=0)
    p = p[canonical_order(p, order)]
    if order == "layers" and max_atoms >= LAYER_BLOCK_SLOTS:
        slots = layer_block_slots(p)
    else:
        p = p[:max_atoms]
        slots = np.arange(len(p))
    target = np.zeros((max_atoms, 4), dtype=np.float32)
    target[slots, :3] = p / scale
    target[slots, 3] = 1.0
    return target


def layer_block_slots(p: np.ndarray) -> np.ndarray:
    """Slots of atoms already in "layers" order, one block of ``LAYER_BLOCK`` per layer.

    Layer k (from the bottom) fills slots k·LAYER_BLOCK onwards, ring by ring. In the
    flat order a layer's first slot depends on how many atoms every layer below has,
    and an A layer and a B layer of one patch differ in count: one changed stacking
    letter, or a bigger patch, moved every atom above it to another slot. In blocks it
    changes only its own layer; a bigger patch adds atoms at the end of each block.
    """
    layer = np.unique(np.round(p[:, 2], 1), return_inverse=True)[1].ravel()
    first = np.searchsorted(layer, layer)  # atoms are sorted by layer
    within = np.arange(len(p)) - first
    if layer.max() >= MAX_LAYERS or within.max() >= LAYER_BLOCK:
        raise ValueError(
            f"a stacked cluster of {layer.max() + 1} layers with up to {within.max() + 1} "
            f"atoms in one does not fit {MAX_LAYERS} blocks of {LAYER_BLOCK} slots"
        )
    return layer * LAYER_BLOCK + within


def coordinate_scale(library: Library, indices: np.ndarray) -> float:
    """One isotropic scale: the largest |coordinate| in nearest-neighbour units."""
    largest = 0.0
    for i in indices:
        p = library.structure(int(i))
        d = float(library.nn_distance[int(i)])
        largest = max(largest, float(np.abs(p - p.mean(axis=0)).max()) / d)
    return largest


def atom_order_description(library_kind: str, max_atoms: int) -> str:
    """The slot order in words, as the bundle states it."""
    if order_for(library_kind) == "radial":
        return "by distance from the centroid (0.01 units), then z, y, x"
    if max_atoms >= LAYER_BLOCK_SLOTS:
        return (
            f"one block of {LAYER_BLOCK} slots per layer along the stacking axis (bottom "
            "first), in it by in-plane radius (0.1 units), then angle in [0, 2π)"
        )
    return "by height along the stacking axis (0.1 units), then in-plane radius and angle"


def order_for(library_kind: str) -> str:
    """The slot order a library kind trains with (one of ``ORDERS``)."""
    return "layers" if library_kind == "stacking" else "radial"


def build_graphs(library: Library, indices: np.ndarray, scale: float, max_atoms: int) -> list[Data]:
    """One ``Data`` per entry: x = normalised positions, bond lengths, PDF, target.

    ``bond`` holds the nearest-neighbour distance (Å) that maps the target back to Å.
    """
    order = order_for(library.kind)
    graphs = []
    for i in indices:
        e = library.entry(int(i))
        d = float(e.nn_distance)
        p = (e.positions - e.positions.mean(axis=0)) / d
        graphs.append(
            Data(
                x=torch.as_tensor(p / scale, dtype=torch.float32),
                edge_index=torch.as_tensor(e.edge_index, dtype=torch.long),
                edge_attr=torch.as_tensor(e.edge_length / d, dtype=torch.float32)[:, None],
                pdf=torch.as_tensor(e.pdf, dtype=torch.float32)[None, :],
                target=torch.as_tensor(decoder_target(p, scale, max_atoms, order))[None],
                bond=torch.tensor([d], dtype=torch.float32),
                index=torch.tensor([int(i)]),
            )
        )
    return graphs
