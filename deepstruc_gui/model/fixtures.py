"""A tiny untrained bundle so tests and the GUI run without the trained model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from deepstruc_gui.model.bundle import LatentMap, save_bundle
from deepstruc_gui.model.network import Architecture, DeepStrucVAE
from deepstruc_gui.science.clusters import CLUSTER_TYPES
from deepstruc_gui.science.debye import TRAINING_PARAMETERS

PT_BOND = 2.77

SMALL_ARCHITECTURE = Architecture(
    cond_hidden=32,
    cond_dim=8,
    gat_hidden=8,
    gat_heads=2,
    gat_layers=2,
    graph_dim=8,
    decoder_hidden=(32, 64),
)


def make_random_bundle(
    directory: str | Path, name: str = "random", seed: int = 0, n_map: int = 300
) -> Path:
    """Write a valid bundle with random weights and a synthetic seven-type map.

    The decoder's output is scaled so decoded clusters have metal-like bond lengths
    (the presence bias makes about 20–60 atoms present).
    """
    torch.manual_seed(seed)
    net = DeepStrucVAE(SMALL_ARCHITECTURE)
    with torch.no_grad():
        last = net.decoder.net[-1]
        last.bias.view(-1, 4)[:, 3] = torch.linspace(3.0, -3.0, SMALL_ARCHITECTURE.max_atoms)
        # spread the slots out: a random cluster of roughly metal density
        last.bias.view(-1, 4)[:, :3] = torch.randn(SMALL_ARCHITECTURE.max_atoms, 3) * 0.5
        last.weight.view(SMALL_ARCHITECTURE.max_atoms, 4, -1)[:, :3] *= 5.0
        # the bond-length head reads Pt's nearest-neighbour distance from any PDF
        head = net.bond_head[-1]
        head.weight.zero_()
        head.bias.fill_(float(np.log(PT_BOND)))
    rng = np.random.default_rng(seed)
    centres = {
        t: np.array([np.cos(a), np.sin(a)]) * 2.0
        for t, a in zip(CLUSTER_TYPES, np.linspace(0, 2 * np.pi, 8)[:-1], strict=True)
    }
    types = [CLUSTER_TYPES[i % len(CLUSTER_TYPES)] for i in range(n_map)]
    mu = np.array([centres[t] + rng.normal(scale=0.4, size=2) for t in types])
    latent_map = LatentMap(
        mu=mu,
        sigma=np.full((n_map, 2), 0.05),
        types=types,
        n_atoms=rng.integers(5, 201, size=n_map),
        metals=["Pt"] * n_map,
        names=[f"{t}_{i}" for i, t in enumerate(types)],
        split=["train"] * n_map,
        fcc_fraction=np.full(n_map, np.nan),
    )
    meta = {
        "name": name,
        "description": "untrained test model",
        "library_kind": "mmnp",
        "pdf_parameters": TRAINING_PARAMETERS.to_dict(),
        "coordinate_scale": 6.0 / PT_BOND,
        "default_bond_length": PT_BOND,
        "metrics": {},
    }
    return save_bundle(Path(directory) / name, net, meta, latent_map)


def train_tiny_bundle(
    root: str | Path,
    metals: list[str],
    max_atoms: int = 40,
    epochs: int = 2,
    kind: str = "mmnp",
) -> tuple[Path, Path, Path]:
    """A small library of ``kind`` (mmnp or stacking), a few epochs of
    :data:`SMALL_ARCHITECTURE`, exported as a bundle (for tests that need a trained
    model's code paths, not its accuracy).

    Returns (library file, run folder, bundle folder).
    """
    from deepstruc_gui.model.library import build_library
    from deepstruc_gui.model.training import TrainConfig, export_bundle, train

    root = Path(root)
    lib = build_library(kind, root / "lib.h5", metals=metals, max_atoms=max_atoms, progress=False)
    run = train(
        lib,
        root / "run",
        TrainConfig(epochs=epochs, batch_size=16, threads=1),
        arch=SMALL_ARCHITECTURE,
        log=lambda *_: None,
    )
    return lib, run, export_bundle(run, root / "bundle" / "tiny", "tiny")
