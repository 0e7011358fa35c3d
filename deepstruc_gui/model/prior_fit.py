"""Fit a bundle's prior to measured-like PDFs and give its σ a meaning.

Two faults of a prior trained on the library's PDFs alone, both seen on the Pt
example: (1) measured data (another Qmax, broader peaks, noise) fall outside what it
has seen, and it places them far from the right structure type; (2) trained by
KL(posterior ‖ prior) against near-deterministic posteriors on inputs it can fit
exactly, its σ collapses to the floor (0.0009 on a map 12 units wide), so "sample
within 3σ" searches a single point.

:func:`refit_measured_like` keeps the decoder, the posterior and the map, and fits
the prior's own PDF encoder and head to map measured-like variants of every training
PDF (:mod:`~deepstruc_gui.model.measured_like`) — and the clean ones — to that
structure's posterior. Then σ is calibrated on the validation split's measured-like
variants: scaled so that the squared Mahalanobis distances of the true posterior
means follow a χ² with two degrees of freedom in their median, i.e. so that σ means
what a σ means. The fraction of validation structures inside 3, 5 and 7σ is stored
in the bundle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from deepstruc_gui.model.bundle import ModelBundle, refit_metadata, save_bundle
from deepstruc_gui.model.dataset import build_graphs
from deepstruc_gui.model.library import Library
from deepstruc_gui.model.map_fit import designed_posteriors
from deepstruc_gui.model.measured_like import MeasurementRanges, measured_like_pdfs
from deepstruc_gui.model.network import LATENT_DIM, DeepStrucVAE, gaussian_kl
from deepstruc_gui.model.training import augment_pdf, posteriors

#: median of a χ² with two degrees of freedom (2 ln 2)
CHI2_2_MEDIAN = 2 * math.log(2)


@dataclass
class _Split:
    """Inputs of one split and the posterior each input should map to."""

    pdf: torch.Tensor  # (m, n_points)
    bond: torch.Tensor  # (m,) Å used to resample the input on r/d
    post_mean: torch.Tensor  # (m, 2)
    post_log_sigma: torch.Tensor  # (m, 2)
    target: torch.Tensor  # (m, max_atoms, 4) decoder target in bond units
    true_bond: torch.Tensor  # (m,)


def _split_inputs(
    net: DeepStrucVAE,
    library: Library,
    indices: np.ndarray,
    scale: float,
    n_variants: int,
    seed: int,
    ranges: MeasurementRanges,
    bundle: ModelBundle | None = None,
) -> tuple[_Split, _Split]:
    """(clean, measured-like) inputs of the given library entries; their posteriors are
    the encoder's, or the map's points when ``bundle`` has a designed map."""
    post = posteriors(net, build_graphs(library, indices, scale, net.arch.max_atoms))
    designed = None if bundle is None else designed_posteriors(bundle, library.names[indices])
    if designed is not None:
        post["mean"], post["log_sigma"] = designed
    clean = _Split(
        post["pdf"], post["bond"], post["mean"], post["log_sigma"], post["target"], post["bond"]
    )
    structures = [library.structure(int(i)) for i in indices]
    ml = measured_like_pdfs(structures, n_variants, seed, ranges, library.parameters)
    ok = np.isfinite(ml.bond)
    src = torch.as_tensor(ml.source[ok])
    measured = _Split(
        torch.as_tensor(ml.pdf[ok]),
        torch.as_tensor(ml.bond[ok]),
        post["mean"][src],
        post["log_sigma"][src],
        post["target"][src],
        post["bond"][src],
    )
    return clean, measured


@torch.inference_mode()
def prior_path(net: DeepStrucVAE, split: _Split, scale: float) -> dict[str, np.ndarray]:
    """Per input: squared error (Å² per atom) of the decoded prior mean, prior mean and σ."""
    errors, means, sigmas = [], [], []
    for start in range(0, len(split.pdf), 512):
        sl = slice(start, start + 512)
        mean, log_sigma = net.prior_distribution(split.pdf[sl], split.bond[sl])
        decoded = net.decoder(mean)
        target = split.target[sl]
        present = target[..., 3]
        pred = decoded[..., :3] * split.bond[sl, None, None]
        true = target[..., :3] * split.true_bond[sl, None, None]
        sq = ((pred - true) ** 2).sum(-1) * scale**2
        errors.append((sq * present).sum(1) / present.sum(1))
        means.append(mean)
        sigmas.append(log_sigma.exp())
    return {
        "error": torch.cat(errors).numpy(),
        "mean": torch.cat(means).numpy(),
        "sigma": torch.cat(sigmas).numpy(),
    }


def mahalanobis_sq(split: _Split, path: dict[str, np.ndarray]) -> np.ndarray:
    """Squared distance of each true posterior mean from the prior, in prior σ units:
    what decides whether a search "inside kσ" of the prior reaches the structure."""
    diff = split.post_mean.numpy() - path["mean"]
    return (diff**2 / path["sigma"] ** 2).sum(1)


def coverage(d2: np.ndarray) -> dict[str, float]:
    """Fraction of inputs whose true posterior mean lies inside 3σ, 5σ and 7σ."""
    return {f"{k}sigma": round(float(np.mean(d2 <= k * k)), 4) for k in (3, 5, 7)}


def _with_scaled_prior(net: DeepStrucVAE, source) -> DeepStrucVAE:
    """The network with a prior that reads G on r/d (a fresh one if it had none)."""
    if not net.arch.bond_units:
        raise ValueError(f"{source}: the model decodes in Å, not bond units; retrain it")
    return net if net.arch.prior_scaled_input else net.with_separate_prior(scaled_input=True)


def _sigma_bias(net: DeepStrucVAE) -> torch.Tensor:
    """The bias of the prior head's log σ outputs (the calibration shifts it)."""
    last = [m for m in net.prior.net if isinstance(m, torch.nn.Linear)][-1]
    return last.bias[LATENT_DIM:]


def calibrate_sigma(net: DeepStrucVAE, split: _Split, scale: float, rounds: int = 50) -> float:
    """Scale the prior's σ so that the median squared Mahalanobis distance of the true
    posterior means is that of a χ² with 2 d.o.f.; returns the overall factor.

    Applied to the head's log σ bias, so bundles need nothing new; repeated because σ
    is clamped after the bias, and one shift may stop at the clamp. The factor returned
    is the median change of σ itself, which the clamp can make smaller than the
    change of the bias.
    """
    sigma_before = prior_path(net, split, scale)["sigma"]
    for _ in range(rounds):
        d2 = mahalanobis_sq(split, prior_path(net, split, scale))
        step = 0.5 * math.log(float(np.median(d2)) / CHI2_2_MEDIAN)
        if abs(step) < 1e-5:
            break
        with torch.no_grad():
            _sigma_bias(net).add_(step)
    return float(np.median(prior_path(net, split, scale)["sigma"] / sigma_before))


def refit_measured_like(
    bundle_path: str | Path,
    library_path: str | Path,
    out_dir: str | Path,
    steps: int = 6000,
    lr: float = 5e-4,
    n_variants: int = 8,
    measured_fraction: float = 0.67,
    ranges: MeasurementRanges | None = None,
    seed: int = 0,
    log: Callable[[str], None] = print,
    on_step: Callable[[int, int], None] | None = None,
) -> dict:
    """Refit the prior of ``bundle_path`` (see the module doc) and write ``out_dir``.
    ``on_step(done, total)`` runs after every optimiser step (progress bars).

    The prior starts from the bundle's weights; each step mixes clean training PDFs
    (with the training-time Qdamp/noise augmentation, resampled at the true bond
    length jittered by 0.5 %) and measured-like variants (resampled at the bond
    length their first peak gives, as inference does). The state kept is the one
    with the smallest mean validation prior-path error over clean and measured-like
    inputs. Returns the figures stored in the bundle under ``prior_fit``.
    """
    torch.manual_seed(seed)
    ranges = ranges or MeasurementRanges()
    bundle = ModelBundle.load(bundle_path)
    net = _with_scaled_prior(bundle.load_network("cpu"), bundle_path)
    scale = float(bundle.metadata["coordinate_scale"])
    library = Library.open(library_path)
    log(f"measured-like inputs: {n_variants} variants of each training structure")
    train_clean, train_ml = _split_inputs(
        net, library, library.indices("train"), scale, n_variants, seed, ranges, bundle
    )
    val_clean, val_ml = _split_inputs(
        net, library, library.indices("val"), scale, 2, seed + 1, ranges, bundle
    )
    r_grid = torch.as_tensor(library.parameters.r_grid[: net.arch.n_points], dtype=torch.float32)
    library.close()

    def score() -> tuple[float, dict]:
        """Validation figure of the prior: mean squared error (Å² per atom) of the decoded
        prior mean on clean and on measured-like PDFs; their average, then both in a dict."""
        net.eval()
        c, m = prior_path(net, val_clean, scale), prior_path(net, val_ml, scale)
        figures = {"clean": float(c["error"].mean()), "measured_like": float(m["error"].mean())}
        return 0.5 * (figures["clean"] + figures["measured_like"]), figures

    before, before_figures = score()
    log(
        f"before: validation prior path clean {before_figures['clean']:.3f} Å², "
        f"measured-like {before_figures['measured_like']:.3f} Å²"
    )
    params = list(net.prior_pdf_encoder.parameters()) + list(net.prior.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    generator = torch.Generator().manual_seed(seed)
    best, best_figures = before, before_figures
    best_state = {k: v.clone() for k, v in net.state_dict().items()}
    n_measured = round(128 * measured_fraction)
    for step in range(steps):
        net.prior_pdf_encoder.train()
        net.prior.train()
        ic = torch.randint(0, len(train_clean.pdf), (128 - n_measured,), generator=generator)
        im = torch.randint(0, len(train_ml.pdf), (n_measured,), generator=generator)
        jitter = 1 + 0.005 * torch.randn(len(ic), generator=generator)
        x = torch.cat([augment_pdf(train_clean.pdf[ic], generator, r_grid), train_ml.pdf[im]])
        bond = torch.cat([train_clean.bond[ic] * jitter, train_ml.bond[im]])
        mean_q = torch.cat([train_clean.post_mean[ic], train_ml.post_mean[im]])
        log_sigma_q = torch.cat([train_clean.post_log_sigma[ic], train_ml.post_log_sigma[im]])
        pm, pls = net.prior(net.prior_pdf_encoder(net.resample_by_bond(x, bond)))
        loss = gaussian_kl(mean_q, log_sigma_q, pm, pls).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if on_step is not None:
            on_step(step + 1, steps)
        if (step + 1) % 500 == 0:
            current, figures = score()
            log(
                f"step {step + 1}: KL {loss.item():.3f}, validation prior path clean "
                f"{figures['clean']:.3f} Å², measured-like {figures['measured_like']:.3f} Å²"
            )
            if current < best:
                best, best_figures = current, figures
                best_state = {k: v.clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)
    net.eval()

    # σ calibration on the validation split's measured-like inputs
    factor = calibrate_sigma(net, val_ml, scale)
    path_ml = prior_path(net, val_ml, scale)
    path_clean = prior_path(net, val_clean, scale)
    figures = {
        "steps": steps,
        "lr": lr,
        "n_variants": n_variants,
        "measured_fraction": measured_fraction,
        "ranges": {k: v for k, v in vars(ranges).items()},
        "validation_prior_path_before": {k: round(v, 4) for k, v in before_figures.items()},
        "validation_prior_path_after": {k: round(v, 4) for k, v in best_figures.items()},
        "sigma_calibration_factor": round(factor, 4),
        "sigma_median": [round(float(s), 4) for s in np.median(path_ml["sigma"], axis=0)],
        "coverage_measured_like": coverage(mahalanobis_sq(val_ml, path_ml)),
        "coverage_clean": coverage(mahalanobis_sq(val_clean, path_clean)),
    }
    log(
        f"after: prior path clean {best_figures['clean']:.3f} Å², measured-like "
        f"{best_figures['measured_like']:.3f} Å²; σ × {factor:.2f} (median σ "
        f"{figures['sigma_median']}); inside 3/5/7σ: {figures['coverage_measured_like']}"
    )
    meta = refit_metadata(bundle, prior_fit=figures)
    save_bundle(out_dir, net, meta, bundle.latent_map)
    return figures
