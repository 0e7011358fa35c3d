"""gui layer.

A guard for PySide6 on CPython 3.11: PySide6 6.12 drops one reference to ``None`` on
every call of a Qt method that returns nothing (measured: 100 × ``QLabel.setText`` →
``sys.getrefcount(None)`` falls by 100; ``None`` is immortal from CPython 3.12, where
this is harmless). On 3.11 a long session (or the GUI test suite) drives the count to
zero and CPython aborts with "none_dealloc: deallocating None". Slots returning a
bool do the same to ``True``/``False`` (the suite ended once in "bool_dealloc"). These
singletons are never freed in a correct program, so each is given a large reserve of
references at import.
"""

import sys


def _reserve_singleton_references() -> None:
    if sys.version_info >= (3, 12):
        return
    import ctypes

    # ob_refcnt is the first field of every PyObject (CPython, non-debug builds)
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 40


_reserve_singleton_references()
