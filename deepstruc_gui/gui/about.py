"""The About box's text: version, device, what the loaded model measured, the citation."""

from __future__ import annotations

from deepstruc_gui import CITATION, __version__


def about_text(metadata: dict, device_name: str) -> str:
    """HTML for the About box from a model bundle's ``metadata`` (``{}`` = no model).

    States the model's measured accuracy as its bundle recorded it: the structure type
    of the best candidate (what the ranked table shows) and the best-of-N xyz error,
    on simulated and on measured-like test PDFs, and the prior's 3σ coverage.
    """
    meta = metadata or {}
    lines = [
        f"<h3>DeepStruc GUI {__version__}</h3>",
        f"<p>Device: {device_name}</p>",
        f"<p>Model: {meta.get('name', 'none')} — {meta.get('description', '')}<br>",
        f"trained on {meta.get('training', {}).get('n_train', '?')} structures</p>",
    ]
    for key, inputs in (
        ("metrics", "simulated test PDFs"),
        ("metrics_measured_like", "measured-like test PDFs"),
    ):
        m = meta.get(key)
        if m:
            type_right = m.get("type_accuracy_best_of_n", m["type_accuracy"])
            lines.append(
                f"<p>On {m.get('n_test', '?')} {inputs}: structure type right "
                f"{100 * type_right:.1f} %, best-of-{m.get('samples', '?')} "
                f"xyz error {m['mae_best_of_n'][0]:.3f} Å "
                f"(median {m.get('mae_best_of_n_median', float('nan')):.3f} Å)</p>"
            )
    cover = meta.get("prior_fit", {}).get("coverage_measured_like")
    if cover:
        lines.append(
            f"<p>Prior σ calibrated: the true structure lies inside 3σ for "
            f"{100 * cover['3sigma']:.0f} % of measured-like PDFs</p>"
        )
    lines.append(f"<p>Please cite: {CITATION}</p>")
    return "".join(lines)
