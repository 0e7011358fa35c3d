"""Every command-line argument is checked before work starts; starting up without a
display or with a mistyped command gives one clear line; help is light and shows
defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepstruc_gui.cli.main import SUBCOMMANDS, main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "resources" / "examples" / "JQ_S1.gr")


def exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse refuses the value
        return int(exc.code)


BAD = [
    (["predict", EXAMPLE, "--samples", "-5"], "--samples"),
    (["predict", EXAMPLE, "--samples", "0"], "--samples"),
    (["predict", EXAMPLE, "--samples", "1e9"], "--samples"),
    (["predict", EXAMPLE, "--samples", "ten"], "--samples"),
    (["predict", EXAMPLE, "--top", "0"], "--top"),
    (["predict", EXAMPLE, "--sigma", "0"], "--sigma"),
    (["predict", EXAMPLE, "--sigma", "-3"], "--sigma"),
    (["predict", EXAMPLE, "--sigma", "1000"], "--sigma"),
    (["predict", EXAMPLE, "--sigma", "nan"], "--sigma"),
    (["predict", EXAMPLE, "--radius", "0"], "--radius"),
    (["predict", EXAMPLE, "--radius", "-0.5"], "--radius"),
    (["predict", EXAMPLE, "--center", "0", "inf"], "--center"),
    (["predict", EXAMPLE, "--rmin", "-1"], "--rmin"),
    (["predict", EXAMPLE, "--rmax", "0"], "--rmax"),
    (["predict", EXAMPLE, "--rmax", "5000"], "--rmax"),
    (["predict", EXAMPLE, "--rmin", "20", "--rmax", "10"], "--rmin"),
    (["predict", EXAMPLE, "--seed", "-1"], "--seed"),
    (["predict", EXAMPLE, "--qmax", "-25"], "--qmax"),
    (["predict", EXAMPLE, "--qmin", "30", "--qmax", "20"], "qmin"),
    (["predict", EXAMPLE, "--element", "Xx"], "--element"),
    (["fit", EXAMPLE, EXAMPLE, "--rmin", "30", "--rmax", "2"], "--rmin"),
    (["fit", EXAMPLE, EXAMPLE, "--biso", "-1"], "--biso"),
    (["simulate", EXAMPLE, "--rstep", "0"], "rstep"),
    (["simulate", EXAMPLE, "--qmax", "-1"], "--qmax"),
    (["self-test", "--samples", "0"], "--samples"),
    (["evaluate", "--library", "x.h5", "--samples", "0"], "--samples"),
    (["evaluate", "--library", "x.h5", "--limit", "-2"], "--limit"),
    (["data", "build", "--library", "mmnp", "--max-atoms", "1"], "--max-atoms"),
    (["train", "--library", "x.h5", "--epochs", "0"], "--epochs"),
    (["train", "--library", "x.h5", "--lr", "0"], "--lr"),
    (["train", "--library", "x.h5", "--batch-size", "-4"], "--batch-size"),
    (["train", "--library", "x.h5", "--threads", "0"], "--threads"),
    (["refit-decoder", "--library", "x.h5", "--steps", "0"], "--steps"),
    (["refit-decoder", "--library", "x.h5", "--latent-noise", "-1"], "--latent-noise"),
    (["refit-prior", "--library", "x.h5", "--variants", "0"], "--variants"),
]


@pytest.mark.parametrize(("argv", "option"), BAD, ids=[" ".join(a[:1] + a[2:]) for a, _ in BAD])
def test_bad_values_exit_2_naming_the_option(argv, option, capsys) -> None:
    assert exit_code(argv) == 2
    err = capsys.readouterr().err
    assert option in err
    assert "Traceback" not in err


def test_help_shows_defaults(capsys) -> None:
    assert exit_code(["predict", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 1000)" in text and "(default: 3.0)" in text
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "the data header's, else 25" in text  # --qmax


def test_help_of_every_command_imports_neither_torch_nor_qt() -> None:
    commands = [[]] + [[name] for name in SUBCOMMANDS] + [["data", "build"]]
    script = (
        "import sys, contextlib, io\n"
        "from deepstruc_gui.cli.main import main\n"
        f"for argv in {commands!r}:\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        main([*argv, '--help'])\n"
        "heavy = sorted(m for m in ('torch', 'torch_geometric', 'PySide6', 'scipy', 'ase')\n"
        "               if m in sys.modules)\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "[]"


def _run_cli(args: list[str], env_changes: dict[str, str | None]):
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "deepstruc_gui", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


NO_DISPLAY = {"DISPLAY": None, "WAYLAND_DISPLAY": None, "QT_QPA_PLATFORM": None}


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="a display always exists")
@pytest.mark.parametrize("args", [[], [EXAMPLE]])
def test_without_a_display_the_window_says_so_and_points_to_commands(args) -> None:
    out = _run_cli(args, NO_DISPLAY)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0] and "predict" in lines[0]
    assert "Qt" not in out.stderr


def test_a_word_that_is_neither_command_nor_file_is_an_error(capsys) -> None:
    assert main(["predcit", "x.gr"]) == 2
    err = capsys.readouterr().err
    assert "'predcit'" in err and "did you mean 'predict'" in err
    assert all(name in err for name in SUBCOMMANDS)
    assert main(["nonsense"]) == 2
    assert "nonsense" in capsys.readouterr().err
