"""gui layer.

A guard for PySide6 on CPython 3.11: PySide6 6.12 drops one reference to ``None`` on
every call of a Qt method that returns nothing (measured: 100 × ``QLabel.setText`` →
``sys.getrefcount(None)`` falls by 100; ``None`` is immortal from CPython 3.12, where
this is harmless). On 3.11 a long session (or the GUI test suite) drives the count to
zero and CPython aborts with "none_dealloc: deallocating None". ``None`` is never
freed in a correct program, so it is given a large reserve of references at import.
"""

import sys


def _reserve_none_references() -> None:
    if sys.version_info >= (3, 12):
        return
    import ctypes

    # ob_refcnt is the first field of every PyObject (CPython, non-debug builds)
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40


_reserve_none_references()
