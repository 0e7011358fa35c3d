"""DeepStruc GUI: structure solution of metal nanoparticles from PDF data.

Layers (each imports only those below it):
``science`` (PDF files, Debye engine, fitting, structures) → ``model`` (library,
network, training, inference) → ``state`` (plain observable objects) → ``gui`` (Qt).
"""

__version__ = "0.1.0"

CITATION = (
    "E. T. S. Kjær, A. S. Anker, M. N. Weng, S. J. L. Billinge, R. Selvan and "
    'K. M. Ø. Jensen, "DeepStruc: towards structure solution from pair distribution '
    'function data using deep generative models", Digital Discovery 2, 69–80 (2023), '
    "doi:10.1039/d2dd00086e"
)
