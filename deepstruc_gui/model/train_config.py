"""Settings of a training run: plain data, no torch (``train --help`` reads the defaults
without importing torch)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrainConfig:
    """Optimiser and schedule of :func:`deepstruc_gui.model.training.train` (lr: Adam's
    learning rate; beta: the KL weight, raised linearly over ``beta_warmup`` epochs)."""

    epochs: int = 400
    batch_size: int = 32
    lr: float = 2e-3
    beta_max: float = 1e-3
    beta_warmup: int = 60
    presence_weight: float = 10.0
    max_minutes: float | None = None
    seed: int = 0
    device: str | None = None
    threads: int | None = None
    #: start from another run's best weights and coordinate scale (fine-tuning)
    init_from: str | None = None
    #: vary Qdamp and add noise to half the training PDFs (see augment_pdf)
    augment: bool = True
    #: start the posterior's log σ here (bias of its head) instead of ≈ 0; with σ ≈ 1
    #: the sampled z is mostly noise and a library of similar shapes (stacking) stays
    #: on the mean-structure plateau. None: the default initialisation.
    posterior_log_sigma_init: float | None = None
