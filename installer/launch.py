"""Entry script of the frozen application (PyInstaller needs a file, not an entry point)."""

from deepstruc_gui.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
