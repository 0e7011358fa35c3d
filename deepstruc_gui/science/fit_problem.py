"""The data side of the batched fitter and its Levenberg–Marquardt loop.

A :class:`Problem` holds one data set on one Q grid (diffpy's, for given simulation
parameters): the sine transform, the Gram matrix of the (weighted) r-space misfit, and
the first peak of the data; :meth:`Problem.fit` refines a chunk of candidates within
the bounds of a :class:`FitConfig` and returns their parameters, curves, standard
errors and at-bound flags. The public entry point is
:func:`deepstruc_gui.science.fitting.fit_candidates`.
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np
import torch

from deepstruc_gui.science import fit_model as fm
from deepstruc_gui.science.debye import envelope, sine_transform_matrix
from deepstruc_gui.science.histogram_clusters import HistogramCluster
from deepstruc_gui.science.parameters import FIT_PARAMETERS, FitConfig, PDFParameters
from deepstruc_gui.science.peaks import first_peak_position
from deepstruc_gui.util.cancel import CancelToken, check

_U_PER_B = 1 / (8 * math.pi**2)
#: internal parameter per public one (Biso is refined as Uiso = Biso/8π²)
_INTERNAL = {
    "scale": "scale",
    "expansion": "alpha",
    "biso": "uiso",
    "qdamp": "qdamp",
    "delta2": "delta2",
    "spdiameter": "spd",
}
_TO_PUBLIC = {"uiso": 1 / _U_PER_B}


_SPACES: dict[tuple, fm.TableSpace] = {}


def _space_for(config: FitConfig, params: PDFParameters, device) -> fm.TableSpace:
    """Kernels reaching a problem's pair cut-off at the smallest expansion: a cached
    one up to 3 Å longer is reused (the Q grids of nearby Biso share it), else one
    1 Å longer than needed is built."""
    alpha_lo, alpha_hi = config.expansion_bounds
    r_need = params.rcalc_high / alpha_lo
    t_max = alpha_hi * params.qmax
    n_moments = fm.N_MOMENTS if (config.refine_delta2 or params.delta2 != 0) else 1
    for (r_cut, t, n, dev), space in _SPACES.items():
        if (t, n, dev) == (round(t_max, 6), n_moments, str(device)) and (
            r_need <= r_cut <= r_need + 3
        ):
            return space
    r_cut = math.ceil(r_need) + 1.0
    if len(_SPACES) >= 4:
        _SPACES.pop(next(iter(_SPACES)))
    space = fm.TableSpace(r_cut, t_max, n_moments, device)
    _SPACES[(r_cut, round(t_max, 6), n_moments, str(device))] = space
    return space


class Problem:
    """The data side of a fit on one Q grid: sine transform, Gram matrix; fits chunks."""

    def __init__(self, r, g, w, config: FitConfig, params: PDFParameters, device) -> None:
        self.config = config
        self.params = p = params
        self.device = device
        self.space = _space_for(config, params, device)
        self.n_moments = fm.N_MOMENTS if (config.refine_delta2 or p.delta2 != 0) else 1
        dd = dict(dtype=torch.float64, device=device)
        self.q_np = p.q_grid
        self.q = torch.as_tensor(p.q_grid, **dd)
        self.r = torch.as_tensor(r, **dd)
        self.g = torch.as_tensor(g, **dd)
        self.w = torch.as_tensor(w, **dd)
        self.gg = float(np.sum(w * g**2))
        self.n_points = len(g)
        self.S = torch.as_tensor(sine_transform_matrix(p, r), **dd)  # (nQ, nr)
        self.r_space = config.refine_qdamp or config.refine_spdiameter
        if not self.r_space:
            es = self.S * torch.as_tensor(envelope(p, r), **dd)  # (nQ, nr)
            self.gram = (es * self.w) @ es.T
            self.proj = es @ (self.w * self.g)
        try:
            self.r_peak_obs = first_peak_position(r, g)
        except ValueError:
            self.r_peak_obs = float("nan")

    @cached_property
    def probe_kernel(self) -> torch.Tensor:
        """Near-distance Debye kernel at α = 1 for the starting first-peak estimate."""
        p, sp = self.params, self.space
        dd = dict(dtype=torch.float64, device=self.device)
        rn = torch.arange(sp.n_near, **dd)[:, None] * fm.BIN_WIDTH
        rn[0] = 1.0
        qq = self.q[None, :]
        corr = (1 - p.delta2 / rn**2).clamp(min=0)
        probe = torch.sin(rn * qq) / rn * torch.exp(-p.uiso * corr * qq**2)
        probe[rn[:, 0] < 0.5 * fm.CLOSE_DISTANCE] = 0
        return probe.to(torch.float32)

    @cached_property
    def r_peak(self) -> torch.Tensor:
        """r grid (351,) in Å, 1.5–5 Å, on which the candidates' first peak is located."""
        return torch.linspace(1.5, 5.0, 351, dtype=torch.float64, device=self.device)

    @cached_property
    def S_peak(self) -> torch.Tensor:
        """diffpy sine-transform matrix (nQ, 351) from this Q grid onto :attr:`r_peak`."""
        s = sine_transform_matrix(self.params, self.r_peak.cpu().numpy())
        return torch.as_tensor(s, dtype=torch.float64, device=self.device)

    def probe_peaks(self, cand: fm.CandidateTables) -> np.ndarray:
        """First-peak position of each candidate as it is (α = 1, start ADP)."""
        f = (cand.probe @ self.probe_kernel).to(torch.float64)
        close = cand.close
        if close.d.shape[0]:  # pairs summed exactly: their terms at α = 1
            p, q = self.params, self.q[None, :]
            d = close.d[:, None]
            corr = (1 - p.delta2 / d**2).clamp(min=0)
            term = torch.sin(q * d) / d * torch.exp(-p.uiso * corr * q**2)
            f = f.index_add(0, close.owner, term * close.w[:, None])
        g_peak = (f @ self.S_peak).cpu().numpy()
        r_peak = self.r_peak.cpu().numpy()
        out = []
        for gp in g_peak:
            try:
                out.append(first_peak_position(r_peak, gp))
            except ValueError:
                out.append(float("nan"))
        return np.array(out)

    # --- one chunk -----------------------------------------------------------------
    def fit(self, positions, elements, cancel: CancelToken | None, start: dict | None = None):
        """Refine one chunk of B candidates against this problem's data (Levenberg–Marquardt).

        ``positions``: B arrays (N_b, 3) in Å; ``elements``: one symbol per atom or None;
        ``start``: public parameter values to start from (else α from the first peak, the
        rest from the configuration). Returns a dict of numpy arrays: ``rw`` (B,), ``gcalc``
        (B, nr), ``converged`` (B,), each public fit parameter (B,) (Biso in Å², Qdamp in
        Å⁻¹, delta2 in Å², spdiameter in Å), ``errors`` and ``at_bound`` per refined
        parameter. Rw as in PDFgui/diffpy. Raises ``Cancelled`` when ``cancel`` is set."""
        cfg, p = self.config, self.params
        b = len(positions)
        dd = dict(dtype=torch.float64, device=self.device)
        lo_a, hi_a = cfg.expansion_bounds
        lower = {_INTERNAL[n]: cfg.bounds(n)[0] for n in FIT_PARAMETERS}
        upper = {_INTERNAL[n]: cfg.bounds(n)[1] for n in FIT_PARAMETERS}
        lower["uiso"] *= _U_PER_B
        upper["uiso"] *= _U_PER_B
        # first shells summed exactly where a large delta2 needs it, for a few candidates
        large_delta2 = cfg.refine_delta2 or cfg.params.delta2 > 3.0 or p.delta2 > 3.0
        exact = fm.EXACT_DISTANCE_FEW if b <= 4 and large_delta2 else fm.CLOSE_DISTANCE
        pairs = fm.histograms(self.space, positions, elements, exact)
        if start is None:
            # the first peak at α = 1, pairs cut where diffpy would cut them
            probe_cand = fm.build_tables(
                self.space, pairs, 1,
                torch.full((b,), p.rcalc_low, **dd), torch.full((b,), p.rcalc_high, **dd),
            )  # fmt: skip
            if cfg.refine_expansion:
                with np.errstate(divide="ignore", invalid="ignore"):
                    alpha0 = self.r_peak_obs / self.probe_peaks(probe_cand)
                alpha0 = np.nan_to_num(alpha0, nan=1.0, posinf=1.0, neginf=1.0)
                alpha0 = np.clip(alpha0, lo_a, hi_a)
            else:
                alpha0 = np.ones(b)
            spd0 = cfg.params.spdiameter
            if cfg.refine_spdiameter and spd0 <= 0:
                spd0 = 2.0 * max((_diameter(x) for x in positions), default=10.0)
            theta = {
                "alpha": torch.as_tensor(alpha0, **dd),
                # start values from the configuration: this problem's own Biso may
                # be another one, chosen for its Q grid
                "uiso": torch.full((b,), cfg.params.uiso, **dd),
                "delta2": torch.full((b,), cfg.params.delta2, **dd),
                "qdamp": torch.full((b,), cfg.params.qdamp, **dd),
                "spd": torch.full((b,), spd0, **dd),
                "scale": torch.full((b,), cfg.scale, **dd),
            }
        else:
            theta = {
                _INTERNAL[n]: torch.as_tensor(np.broadcast_to(start[n], (b,)).copy(), **dd)
                for n in FIT_PARAMETERS
            }
            theta["uiso"] = theta["uiso"] * _U_PER_B
        names = [_INTERNAL[n] for n in cfg.refined()]
        for name in names:
            theta[name] = theta[name].clamp(lower[name], upper[name])
        # pair cut-offs at the starting expansion, in the candidates' own coordinates
        cand = fm.build_tables(
            self.space, pairs, self.n_moments,
            p.rcalc_low / theta["alpha"], p.rcalc_high / theta["alpha"],
        )  # fmt: skip
        del pairs
        weights = fm.pair_weights(cand, self.q_np, p.scattering, self.device)
        model = _Model(self, cand, weights)
        if cfg.refine_scale and start is None:
            theta["scale"] = model.best_scale(theta)
        state = model.evaluate(theta, names)
        if names:
            theta, state, converged = self._levenberg_marquardt(
                model, theta, state, names, lower, upper, cancel
            )
        else:
            converged = torch.ones(b, dtype=torch.bool, device=self.device)
        gcalc = model.curve(theta)
        rw = torch.sqrt(state["cost"].clamp(min=0) / max(self.gg, 1e-300))
        errors = self._errors(state, names)
        out = {"rw": rw.cpu().numpy(), "gcalc": gcalc.cpu().numpy()}
        out["converged"] = converged.cpu().numpy()
        flags = {}
        for public in FIT_PARAMETERS:
            name = _INTERNAL[public]
            value = theta[name] * _TO_PUBLIC.get(name, 1.0)
            out[public] = value.cpu().numpy()
            if name in names:
                lo, hi = cfg.bounds(public)
                tol = 1e-4 * (hi - lo) if math.isfinite(hi) else 1e-4 * max(abs(lo), 1e-3)
                v = out[public]
                flags[public] = (v <= lo + tol) | (math.isfinite(hi) & (v >= hi - tol))
        out["errors"] = errors
        out["at_bound"] = flags
        return out

    def _levenberg_marquardt(self, model, theta, state, names, lower, upper, cancel):
        b = theta["alpha"].shape[0]
        dd = dict(dtype=torch.float64, device=self.device)
        lam = torch.full((b,), 1e-2, **dd)
        eye = torch.eye(len(names), **dd)
        # a few candidates (the `fit` command, a re-fit of the leaders) are cheap: let
        # them run to convergence
        max_iter = self.config.max_iter if b > 4 else max(self.config.max_iter, 40)
        converged = torch.zeros(b, dtype=torch.bool, device=self.device)
        for iteration in range(max_iter):
            check(cancel)
            jtj, jtr = state["jtj"], state["jtr"]
            diag = torch.diagonal(jtj, dim1=1, dim2=2).clamp(min=1e-30)
            damped = jtj + (lam[:, None] * diag)[:, :, None] * eye + 1e-12 * eye
            step = torch.linalg.solve(damped, jtr.unsqueeze(-1)).squeeze(-1)
            step = torch.nan_to_num(step)
            trial = dict(theta)
            for k, name in enumerate(names):
                trial[name] = (theta[name] + step[:, k]).clamp(lower[name], upper[name])
            new = model.evaluate(trial, names)
            better = new["cost"] < state["cost"]
            gain = torch.sqrt(state["cost"].clamp(min=0)) - torch.sqrt(new["cost"].clamp(min=0))
            gain = gain.clamp(min=0) / math.sqrt(max(self.gg, 1e-300))  # improvement of Rw
            converged = better & (gain < 1e-6)
            for name in theta:
                theta[name] = torch.where(better, trial[name], theta[name])
            for key in state:
                shape = (-1,) + (1,) * (state[key].dim() - 1)
                state[key] = torch.where(better.view(shape), new[key], state[key])
            lam = torch.where(better, lam / 3, lam * 5).clamp(1e-7, 1e7)
            # converged: no candidate improved Rw by more than 1e-6 in this step
            if iteration >= 2 and bool((gain < 1e-6).all()):
                break
        return theta, state, converged

    def _errors(self, state, names) -> dict[str, np.ndarray]:
        """Standard errors of the refined parameters (see the module docstring)."""
        if not names:
            return {}
        jtj = state["jtj"]
        cov = torch.linalg.pinv(jtj, hermitian=True)
        n_free = max(self.n_points - len(names), 1)
        if self.config.weighting != "dG":
            cov = cov * (state["cost"].clamp(min=0) / n_free)[:, None, None]
        sigma = torch.sqrt(torch.diagonal(cov, dim1=1, dim2=2).clamp(min=0))
        public = {v: k for k, v in _INTERNAL.items()}
        return {
            public[n]: (sigma[:, k] * _TO_PUBLIC.get(n, 1.0)).cpu().numpy()
            for k, n in enumerate(names)
        }


def _diameter(xyz) -> float:
    """Longest distance (Å) of positions (n, 3) or of a histogram cluster."""
    from scipy.spatial.distance import pdist

    if isinstance(xyz, HistogramCluster):
        return xyz.diameter_angstrom if xyz.diameter > 0 else 10.0

    return float(pdist(xyz).max()) if len(xyz) > 1 else 10.0


class _Model:
    """One chunk's model curve, misfit and derivatives for a problem."""

    def __init__(self, problem: Problem, cand: fm.CandidateTables, weights) -> None:
        self.pb, self.cand, self.weights = problem, cand, weights

    def sf(self, theta) -> dict[str, torch.Tensor]:
        """F(Q) and its derivatives by α, U, δ2, each (B, nQ), at parameters ``theta``
        (see :func:`fit_model.structure_functions`)."""
        return fm.structure_functions(
            self.pb.space, self.cand, self.weights, self.pb.q,
            theta["alpha"], theta["uiso"], theta["delta2"],
        )  # fmt: skip

    def envelope(self, theta) -> tuple[torch.Tensor, torch.Tensor]:
        """diffpy's envelope (B, nr) and its derivative by spdiameter."""
        r = self.pb.r[None, :]
        qres = torch.exp(-0.5 * (theta["qdamp"][:, None] * r) ** 2)
        d = theta["spd"][:, None]
        on = d > 0
        x = r / torch.where(on, d, torch.ones_like(d))
        inside = on & (x <= 1)
        shape = torch.where(inside, 1 - 1.5 * x + 0.5 * x**3, torch.zeros_like(x))
        shape = torch.where(on, shape, torch.ones_like(x))
        d_shape = torch.where(inside, 1.5 * x * (1 - x**2) / torch.where(on, d, 1.0), 0.0 * x)
        return qres * shape, qres * d_shape

    def best_scale(self, theta) -> torch.Tensor:
        """Least-squares scale (B,) of the current curves against the weighted data,
        clamped at ≥ 0 (dimensionless)."""
        pb = self.pb
        calc = (self.sf(theta)["f"] @ pb.S) * self.envelope(theta)[0]
        num = (calc * pb.g * pb.w).sum(1)
        den = (calc * calc * pb.w).sum(1).clamp(min=1e-30)
        return (num / den).clamp(min=0)

    def curve(self, theta) -> torch.Tensor:
        """Model G(r) (B, nr) in Å⁻² on the data's r grid: scale · (F @ S) · envelope."""
        f = self.sf(theta)["f"]
        return theta["scale"][:, None] * (f @ self.pb.S) * self.envelope(theta)[0]

    def evaluate(self, theta, names) -> dict[str, torch.Tensor]:
        """Cost Σ w r², JᵀWJ and JᵀW r at ``theta``."""
        pb = self.pb
        sf = self.sf(theta)
        s = theta["scale"][:, None]
        f = sf["f"]
        q_cols = {"scale": f, "alpha": s * sf["alpha"], "uiso": s * sf["uiso"]}
        q_cols["delta2"] = s * sf["delta2"]
        b = f.shape[0]
        if not pb.r_space:
            if names:
                v = torch.stack([q_cols[n] for n in names], 1)  # (B, k, nQ)
                av = v @ pb.gram  # (B, k, nQ)
                jtj = av @ v.transpose(1, 2)
                jtr = (v * pb.proj).sum(-1) - (av * (s * f)[:, None, :]).sum(-1)
            else:
                jtj = jtr = torch.zeros(b, 0)
            af = f @ pb.gram
            cost = pb.gg - 2 * (s[:, 0] * (f * pb.proj).sum(1)) + s[:, 0] ** 2 * (af * f).sum(1)
            return {"cost": cost, "jtj": jtj, "jtr": jtr}
        env, d_env_spd = self.envelope(theta)
        base = f @ pb.S  # (B, nr)
        curves = []
        for name in names:
            if name == "qdamp":
                curves.append(-s * theta["qdamp"][:, None] * pb.r**2 * env * base)
            elif name == "spd":
                curves.append(s * base * d_env_spd)
            else:
                curves.append((q_cols[name] @ pb.S) * env)
        sw = torch.sqrt(pb.w)
        resid = (pb.g[None, :] - s * env * base) * sw
        if not curves:
            return {"cost": (resid**2).sum(1), "jtj": torch.zeros(b, 0), "jtr": torch.zeros(b, 0)}
        jac = torch.stack(curves, 1) * sw  # (B, k, nr)
        return {
            "cost": (resid**2).sum(1),
            "jtj": jac @ jac.transpose(1, 2),
            "jtr": (jac * resid[:, None, :]).sum(-1),
        }
