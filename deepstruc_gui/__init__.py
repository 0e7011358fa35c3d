"""DeepStruc GUI: structure solution of metal nanoparticles from PDF data.

Layers (each imports only those below it):
``science`` (PDF files, Debye engine, fitting, structures) → ``model`` (library,
network, training, inference) → ``state`` (plain observable objects) → ``gui`` (Qt).

For notebooks, the API of :mod:`deepstruc_gui.api` is reachable from here and loaded
on first use (``import deepstruc_gui`` stays light and never imports Qt)::

    import deepstruc_gui as ds
    result = ds.solve(ds.read_pdf("JQ_S1.gr"), model="mmnp", samples=1000, seed=0)
"""

__version__ = "0.1.0"

CITATION = (
    "E. T. S. Kjær, A. S. Anker, M. N. Weng, S. J. L. Billinge, R. Selvan and "
    'K. M. Ø. Jensen, "DeepStruc: towards structure solution from pair distribution '
    'function data using deep generative models", Digital Discovery 2, 69–80 (2023), '
    "doi:10.1039/d2dd00086e"
)

_API = ("read_pdf", "solve", "simulate", "fit", "FitOutcome", "SolveResult", "SolveSettings")

__all__ = ["CITATION", "__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from deepstruc_gui import api

        return getattr(api, name)
    raise AttributeError(f"module 'deepstruc_gui' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
