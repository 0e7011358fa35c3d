"""Model bundles: the weights plus everything the app needs without the library.

A bundle is a folder with ``weights.pt`` (a plain state_dict, loadable with
``torch.load(..., weights_only=True)``) and ``model.json``: architecture, PDF grid
and simulation parameters, the coordinate scale, the latent map of the training and
validation structures, metrics, and the sha256 of the weights file.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepstruc_gui.util.atomic import atomic_write_bytes, atomic_write_text

BUNDLE_FORMAT = "deepstruc-model"
BUNDLE_VERSION = 1
WEIGHTS_FILE = "weights.pt"
META_FILE = "model.json"
DEFAULT_MODEL = "mmnp"


class BundleError(Exception):
    """A missing, corrupted or mismatched model bundle (message names the bundle)."""


@dataclass
class LatentMap:
    """Where the training structures live in the latent space."""

    mu: np.ndarray  # (n, 2)
    sigma: np.ndarray  # (n, 2)
    types: list[str]
    n_atoms: np.ndarray
    metals: list[str]
    names: list[str]
    split: list[str]
    fcc_fraction: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def to_json(self) -> dict:
        """The map as JSON-ready lists: ``mu``, ``sigma`` (n, 2) latent units, types, atom
        counts, metals, names, split and fcc fraction (None where undefined)."""
        return {
            "mu": np.round(self.mu, 5).tolist(),
            "sigma": np.round(self.sigma, 5).tolist(),
            "types": list(self.types),
            "n_atoms": [int(n) for n in self.n_atoms],
            "metals": list(self.metals),
            "names": list(self.names),
            "split": list(self.split),
            "fcc_fraction": [
                None if not np.isfinite(f) else round(float(f), 4) for f in self.fcc_fraction
            ],
        }

    @classmethod
    def from_json(cls, d: dict) -> LatentMap:
        """The map from :meth:`to_json`'s dict; ``mu``/``sigma`` reshaped to (n, 2), a
        missing ``fcc_fraction`` read as NaN. Raises ``KeyError`` for a missing required key."""
        n = len(d["types"])
        fcc = np.array(
            [np.nan if v is None else v for v in d.get("fcc_fraction", [])] or [np.nan] * n,
            dtype=float,
        )
        return cls(
            mu=np.asarray(d["mu"], dtype=float).reshape(-1, 2),
            sigma=np.asarray(d["sigma"], dtype=float).reshape(-1, 2),
            types=list(d["types"]),
            n_atoms=np.asarray(d["n_atoms"], dtype=int),
            metals=list(d["metals"]),
            names=list(d["names"]),
            split=list(d.get("split", ["train"] * n)),
            fcc_fraction=fcc,
        )

    def __len__(self) -> int:
        return len(self.types)


@dataclass
class ModelBundle:
    """A loaded bundle: metadata and map now, weights when a Predictor asks."""

    path: Path
    name: str
    metadata: dict
    latent_map: LatentMap

    @property
    def weights_path(self) -> Path:
        """Path of the network weights file inside the bundle folder."""
        return self.path / WEIGHTS_FILE

    @classmethod
    def load(cls, path: str | os.PathLike) -> ModelBundle:
        """Load a bundle folder: its JSON description and the weights beside it.

        Raises :class:`BundleError` (message names the file) when the description is
        missing, unreadable, of another format or version, lacks a required key, or when
        the weights file is missing or its SHA-256 does not match the description."""
        path = Path(path)
        meta_path = path / META_FILE
        if not meta_path.is_file():
            raise BundleError(f"{path}: not a model bundle (no {META_FILE})")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BundleError(f"{meta_path}: unreadable model description ({exc})") from exc
        if not isinstance(meta, dict) or meta.get("format") != BUNDLE_FORMAT:
            raise BundleError(f"{meta_path}: not a DeepStruc model description")
        if int(meta.get("version", -1)) != BUNDLE_VERSION:
            raise BundleError(
                f"{meta_path}: bundle version {meta.get('version')} is not "
                f"supported (expected {BUNDLE_VERSION})"
            )
        for key in (
            "architecture",
            "pdf_parameters",
            "coordinate_scale",
            "latent_map",
            "weights_sha256",
        ):
            if key not in meta:
                raise BundleError(f"{meta_path}: missing '{key}'")
        weights = path / WEIGHTS_FILE
        if not weights.is_file():
            raise BundleError(f"{path}: weights file {WEIGHTS_FILE} is missing")
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        if digest != meta["weights_sha256"]:
            raise BundleError(f"{weights}: checksum mismatch (file corrupted or replaced)")
        try:
            latent_map = LatentMap.from_json(meta["latent_map"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BundleError(f"{meta_path}: malformed latent map ({exc})") from exc
        return cls(
            path=path, name=str(meta.get("name", path.name)), metadata=meta, latent_map=latent_map
        )

    def load_network(self, device="cpu", graph_encoder: bool = True):
        """The network with its weights, in eval mode; BundleError if they don't fit.
        ``graph_encoder=False``: without the posterior's graph encoder (inference needs
        only the prior and the decoder; it saves importing torch_geometric, seconds)."""
        import torch

        from deepstruc_gui.model.network import Architecture, DeepStrucVAE

        try:
            arch = Architecture.from_dict(self.metadata["architecture"])
        except TypeError as exc:
            raise BundleError(f"{self.path}: unknown architecture fields ({exc})") from exc
        net = DeepStrucVAE(arch, graph_encoder=graph_encoder)
        try:
            state = torch.load(self.weights_path, map_location=device, weights_only=True)
            if not graph_encoder:
                state = {k: v for k, v in state.items() if not k.startswith("graph_encoder.")}
            net.load_state_dict(state)
        except Exception as exc:  # pickle errors, size mismatches, missing keys
            raise BundleError(
                f"{self.weights_path}: weights do not match the "
                f"architecture ({str(exc).splitlines()[0]})"
            ) from exc
        return net.to(device).eval()


def save_bundle(
    directory: str | os.PathLike, network, metadata: dict, latent_map: LatentMap
) -> Path:
    """Write weights and description atomically; the checksum ties them together."""
    import io

    import torch

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in network.state_dict().items()}, buffer)
    data = buffer.getvalue()
    meta = dict(metadata)
    meta.update(
        format=BUNDLE_FORMAT,
        version=BUNDLE_VERSION,
        architecture=network.arch.to_dict(),
        latent_map=latent_map.to_json(),
        weights_sha256=hashlib.sha256(data).hexdigest(),
    )
    meta.setdefault("name", directory.name)
    atomic_write_bytes(directory / WEIGHTS_FILE, data)
    atomic_write_text(directory / META_FILE, json.dumps(meta, indent=1))
    return directory


#: what a bundle states about its own weights, rewritten by save_bundle
_WRITTEN_BY_SAVE = ("format", "version", "architecture", "latent_map", "weights_sha256")
#: accuracy measured on the weights before a refit; `evaluate --store` measures again
MEASURED_KEYS = ("metrics", "metrics_measured_like")


def refit_metadata(bundle: ModelBundle, **new: dict) -> dict:
    """Metadata for a refitted copy of ``bundle``: its description and history carried
    over, plus ``new``; accuracy figures of the old weights dropped, not left to
    describe weights they were not measured on."""
    meta = {
        k: v
        for k, v in bundle.metadata.items()
        if k not in _WRITTEN_BY_SAVE and k not in MEASURED_KEYS
    }
    meta.update(new)
    return meta


def models_directory() -> Path:
    """resources/models of a source checkout or of a frozen (PyInstaller) build."""
    import sys

    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources" / "models"
    return Path(__file__).resolve().parents[2] / "resources" / "models"


def available_models(directory: Path | None = None) -> dict[str, Path]:
    """Bundles shipped with the app, by name; the default model first."""
    directory = directory or models_directory()
    found = {p.name: p for p in sorted(directory.glob("*")) if (p / META_FILE).is_file()}
    if DEFAULT_MODEL in found:
        found = {DEFAULT_MODEL: found[DEFAULT_MODEL], **found}
    return found


def resolve_model(name_or_path: str | os.PathLike | None) -> Path:
    """A bundle folder from a shipped model name or a path; BundleError if neither."""
    if name_or_path is None:
        name_or_path = DEFAULT_MODEL
    candidate = Path(name_or_path)
    if (candidate / META_FILE).is_file():
        return candidate
    models = available_models()
    if str(name_or_path) in models:
        return models[str(name_or_path)]
    known = ", ".join(models) or "none installed"
    raise BundleError(f"{name_or_path}: no such model (shipped models: {known})")


def update_metrics(directory: str | os.PathLike, metrics: dict, key: str = "metrics") -> None:
    """Store evaluation results in a bundle's description (weights are untouched)."""
    meta_path = Path(directory) / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta[key] = metrics
    atomic_write_text(meta_path, json.dumps(meta, indent=1))
