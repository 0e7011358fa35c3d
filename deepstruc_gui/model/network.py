"""The DeepStruc conditional VAE, sized to train on two CPU cores.

* ``PDFEncoder`` — the conditioning network: a max-normalised 2800-point G(r) to a
  short vector.
* ``PriorNet`` — conditioning vector → 2-D normal (mean, log σ): p(z | PDF).
* ``GraphEncoder`` — graph attention over atoms (positions as node features, bond
  lengths as edge features) with attentional pooling; with the conditioning vector
  it gives the posterior q(z | structure, PDF).
* ``Decoder`` — a latent point (optionally through random Fourier features) →
  coordinates and a presence logit for each of up to ``max_atoms`` slots.

One deliberate change from the paper: the decoder sees only z, not the PDF. The app
decodes points the user drags across the map, with or without data loaded; a decoder
that leans on the PDF would make the map mean less (and can ignore z altogether).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from deepstruc_gui.science.grid import MODEL_NPOINTS, MODEL_RMIN, MODEL_RSTEP

LATENT_DIM = 2


@dataclass(frozen=True)
class Architecture:
    """Sizes of every part; stored in the bundle so weights can be rebuilt."""

    n_points: int = MODEL_NPOINTS
    max_atoms: int = 200
    cond_hidden: int = 256
    cond_dim: int = 48
    gat_hidden: int = 32
    gat_heads: int = 4
    gat_layers: int = 3
    graph_dim: int = 64
    decoder_hidden: tuple[int, ...] = (64, 256, 512, 1024)
    #: the prior reads the PDF through its own encoder (set by the post-training refit)
    separate_prior_encoder: bool = False
    #: the decoder works in units of the nearest-neighbour distance, which a small head
    #: reads from the PDF (one shape, one latent point, for every metal)
    bond_units: bool = True
    #: the prior reads G(r) resampled on r/d (d from the bond-length head): one shape
    #: gives one input whatever its metal (set by the post-training prior refit)
    prior_scaled_input: bool = False
    scaled_points: int = 1024
    scaled_range: tuple[float, float] = (0.85, 9.2)
    #: random Fourier features of z fed to the decoder (0: z itself). A plain MLP on
    #: two inputs is too smooth to tell apart hundreds of shapes a few hundredths of a
    #: unit apart on the map; sin/cos of z at a spread of frequencies lets it.
    decoder_fourier: int = 0
    #: standard deviation of those frequencies, in cycles per latent unit
    decoder_fourier_scale: float = 2.0

    def to_dict(self) -> dict:
        """The sizes as a JSON-ready dict (tuples as lists), as stored in the bundle."""
        d = asdict(self)
        d["decoder_hidden"] = list(self.decoder_hidden)
        d["scaled_range"] = list(self.scaled_range)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Architecture:
        """Architecture from :meth:`to_dict`'s dict; keys missing in older bundles take
        their defaults (``bond_units`` False)."""
        d = dict(d)
        d["decoder_hidden"] = tuple(d.get("decoder_hidden", cls.decoder_hidden))
        d.setdefault("bond_units", False)  # bundles written before the bond-length head
        d["scaled_range"] = tuple(d.get("scaled_range", cls.scaled_range))
        return cls(**d)


def _mlp(sizes: list[int], final_activation: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2 or final_activation:
            layers.append(nn.LeakyReLU(0.1))
    return nn.Sequential(*layers)


class PDFEncoder(nn.Module):
    """G(r) → conditioning vector."""

    def __init__(self, arch: Architecture, n_points: int | None = None) -> None:
        super().__init__()
        self.net = _mlp(
            [n_points or arch.n_points, arch.cond_hidden, arch.cond_hidden // 2, arch.cond_dim],
            final_activation=True,
        )

    def forward(self, pdf: torch.Tensor) -> torch.Tensor:
        """Conditioning vector (B, cond_dim) from G(r) (B, n_points) on the model grid."""
        return self.net(pdf)


class GaussianHead(nn.Module):
    """Features → (mean, log σ) of a 2-D diagonal normal."""

    def __init__(self, in_dim: int, hidden: int) -> None:
        super().__init__()
        self.net = _mlp([in_dim, hidden, 2 * LATENT_DIM])

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log σ, each (B, 2) in latent units; log σ clamped to [−7, 3]."""
        out = self.net(h)
        mean, log_sigma = out[:, :LATENT_DIM], out[:, LATENT_DIM:]
        return mean, log_sigma.clamp(-7.0, 3.0)


class GraphEncoder(nn.Module):
    """GATv2 layers over atoms with attentional pooling → graph embedding."""

    def __init__(self, arch: Architecture) -> None:
        # imported here: torch_geometric takes seconds to import, and inference (prior
        # and decoder) never needs the graph encoder
        from torch_geometric.nn import GATv2Conv
        from torch_geometric.nn.aggr import AttentionalAggregation

        super().__init__()
        width = arch.gat_hidden * arch.gat_heads
        dims = [3] + [width] * arch.gat_layers
        self.convs = nn.ModuleList(
            GATv2Conv(dims[i], arch.gat_hidden, heads=arch.gat_heads, edge_dim=1)
            for i in range(arch.gat_layers)
        )
        self.act = nn.LeakyReLU(0.1)
        self.pool = AttentionalAggregation(
            gate_nn=nn.Linear(width, 1), nn=_mlp([width, arch.graph_dim], final_activation=True)
        )

    def forward(self, x, edge_index, edge_attr, batch) -> torch.Tensor:
        """Graph embedding (B, graph_dim) from normalised node positions ``x`` (n, 3), edges
        (2, e), edge lengths in bond lengths ``edge_attr`` (e, 1), node graphs ``batch`` (n,)."""
        h = x
        for conv in self.convs:
            h = self.act(conv(h, edge_index, edge_attr))
        return self.pool(h, batch)


class FourierFeatures(nn.Module):
    """z → (z, sin 2πBz, cos 2πBz) with fixed random frequencies B (Tancik et al. 2020).

    B is drawn from a fixed seed and also saved with the weights, so a bundle decodes
    the same whatever torch's random generator does.
    """

    def __init__(self, n: int, scale: float) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.register_buffer("frequencies", torch.randn(LATENT_DIM, n, generator=generator) * scale)

    @property
    def out_dim(self) -> int:
        """Feature width: 2 + 2 × number of frequencies."""
        return LATENT_DIM + 2 * self.frequencies.shape[1]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Features (B, out_dim) of latent points ``z`` (B, 2): z, sin 2πzB, cos 2πzB."""
        phase = 2 * torch.pi * z @ self.frequencies
        return torch.cat([z, torch.sin(phase), torch.cos(phase)], dim=1)


class Decoder(nn.Module):
    """z → (max_atoms, 4): normalised x, y, z and a presence logit per slot."""

    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        self.max_atoms = arch.max_atoms
        self.features = (
            FourierFeatures(arch.decoder_fourier, arch.decoder_fourier_scale)
            if arch.decoder_fourier
            else nn.Identity()
        )
        n_in = self.features.out_dim if arch.decoder_fourier else LATENT_DIM
        self.net = _mlp([n_in, *arch.decoder_hidden, arch.max_atoms * 4])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Decoded slots (B, max_atoms, 4): normalised x, y, z and a presence logit, from
        latent points ``z`` (B, 2)."""
        return self.net(self.features(z)).view(-1, self.max_atoms, 4)


class DeepStrucVAE(nn.Module):
    """Conditional VAE: posterior q(z|structure, PDF), prior p(z|PDF), decoder p(xyz|z)."""

    def __init__(self, arch: Architecture | None = None, graph_encoder: bool = True) -> None:
        """``graph_encoder=False``: without the posterior's graph encoder (inference: the
        prior and the decoder only; :meth:`forward` then raises ``RuntimeError``)."""
        super().__init__()
        self.arch = arch or Architecture()
        self.pdf_encoder = PDFEncoder(self.arch)
        self.prior = GaussianHead(self.arch.cond_dim, self.arch.cond_hidden // 2)
        self.graph_encoder = GraphEncoder(self.arch) if graph_encoder else None
        self.posterior = GaussianHead(
            self.arch.graph_dim + self.arch.cond_dim, self.arch.cond_hidden // 2
        )
        self.decoder = Decoder(self.arch)
        a = self.arch
        self.prior_pdf_encoder = (
            PDFEncoder(a, a.scaled_points if a.prior_scaled_input else None)
            if a.separate_prior_encoder or a.prior_scaled_input
            else None
        )
        lo, hi = a.scaled_range
        self.register_buffer(
            "scaled_grid", torch.linspace(lo, hi, a.scaled_points), persistent=False
        )
        self.bond_head = (
            _mlp([self.arch.cond_dim, self.arch.cond_hidden // 4, 1])
            if self.arch.bond_units
            else None
        )

    def with_separate_prior(self, scaled_input: bool) -> DeepStrucVAE:
        """A copy whose prior has its own PDF encoder (reading G on r/d when
        ``scaled_input``); every weight whose name and shape still fit is carried over,
        so only the new prior encoder starts fresh. In eval mode."""
        arch = Architecture.from_dict(
            {
                **self.arch.to_dict(),
                "separate_prior_encoder": True,
                "prior_scaled_input": scaled_input,
            }
        )
        net = DeepStrucVAE(arch)
        own = net.state_dict()
        net.load_state_dict(
            {k: v for k, v in self.state_dict().items() if k in own and own[k].shape == v.shape},
            strict=False,
        )
        return net.eval()

    def prior_distribution(
        self, pdf: torch.Tensor, bond: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """p(z | PDF): mean and log σ, (B, 2) each.

        ``bond`` (Å, (B,)) resamples the input of an r/d prior; default: the head's.
        """
        return self.prior(self._prior_features(pdf, bond))

    def _prior_features(self, pdf: torch.Tensor, bond: torch.Tensor | None = None):
        if self.prior_pdf_encoder is None:
            return self.pdf_encoder(pdf)
        if not self.arch.prior_scaled_input:
            return self.prior_pdf_encoder(pdf)
        if bond is None:
            bond = self.log_bond_length(pdf).exp()
        return self.prior_pdf_encoder(self.resample_by_bond(pdf, bond))

    def resample_by_bond(self, pdf: torch.Tensor, bond: torch.Tensor) -> torch.Tensor:
        """G at r = s·d on the fixed grid of s (linear interpolation, 0 outside 2–30 Å)."""
        r = self.scaled_grid[None, :] * bond[:, None]
        pos = (r - MODEL_RMIN) / MODEL_RSTEP  # index on science.grid.MODEL_R
        lo = pos.floor().clamp(0, self.arch.n_points - 2)
        w = (pos - lo).clamp(0, 1)
        lo = lo.long()
        g = pdf.gather(1, lo) * (1 - w) + pdf.gather(1, lo + 1) * w
        inside = (pos >= 0) & (pos <= self.arch.n_points - 1)
        return g * inside

    def log_bond_length(self, pdf: torch.Tensor) -> torch.Tensor:
        """ln of the nearest-neighbour distance (Å) read from the PDF, (B,)."""
        if self.bond_head is None:
            raise RuntimeError("this network decodes in Å; it has no bond-length head")
        if self.arch.prior_scaled_input or self.prior_pdf_encoder is None:
            return self.bond_head(self.pdf_encoder(pdf))[:, 0]
        return self.bond_head(self.prior_pdf_encoder(pdf))[:, 0]

    def forward(self, data) -> dict[str, torch.Tensor]:
        """One VAE pass on a graph batch: ``decoded`` (B, max_atoms, 4), posterior and
        prior mean / log σ (B, 2) in latent units, and the log bond length (B,) or None.
        z is sampled from the posterior in training, its mean otherwise (DeepStruc, Kjær,
        Anker et al., Digital Discovery 2023)."""
        cond = self.pdf_encoder(data.pdf)
        prior_features = (
            cond if self.prior_pdf_encoder is None else self._prior_features(data.pdf, data.bond)
        )
        prior_mean, prior_log_sigma = self.prior(prior_features)
        if self.graph_encoder is None:
            raise RuntimeError("this network was loaded for inference: no graph encoder")
        graph = self.graph_encoder(data.x, data.edge_index, data.edge_attr, data.batch)
        post_mean, post_log_sigma = self.posterior(torch.cat([graph, cond], dim=1))
        if self.training:
            z = post_mean + torch.randn_like(post_mean) * post_log_sigma.exp()
        else:
            z = post_mean
        return {
            "decoded": self.decoder(z),
            "post_mean": post_mean,
            "post_log_sigma": post_log_sigma,
            "prior_mean": prior_mean,
            "prior_log_sigma": prior_log_sigma,
            "log_bond": None if self.bond_head is None else self.log_bond_length(data.pdf),
        }


def gaussian_kl(mean_q, log_sigma_q, mean_p, log_sigma_p) -> torch.Tensor:
    """KL(q ‖ p) of diagonal normals, summed over latent dimensions, (B,)."""
    var_q, var_p = (2 * log_sigma_q).exp(), (2 * log_sigma_p).exp()
    kl = log_sigma_p - log_sigma_q + (var_q + (mean_q - mean_p) ** 2) / (2 * var_p) - 0.5
    return kl.sum(dim=1)
