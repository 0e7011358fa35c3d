"""Benchmark: how fast ``deepstruc-gui --help`` and every ``deepstruc-gui SUB --help``
answer (the issue asks for well under a second; building the parser used to import
torch and torch_geometric, 4.5 s).

Each command runs as a fresh process, as a user's shell runs it; the reference, in the
same run, is a fresh process that only imports torch and torch_geometric (what --help
used to pay for). Prints the median of ``--repeat`` runs per command and its ratio to
the reference.

    python benchmarks/bench_cli_help.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def seconds(args: list[str], repeat: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from deepstruc_gui.cli.main import SUBCOMMANDS

    reference = seconds(["-c", "import torch, torch_geometric"], args.repeat)
    print(f"reference: import torch, torch_geometric   {reference:6.2f} s")
    for sub in [[], *([name] for name in SUBCOMMANDS)]:
        t = seconds(["-m", "deepstruc_gui", *sub, "--help"], args.repeat)
        label = " ".join(["deepstruc-gui", *sub, "--help"])
        print(f"{label:<42} {t:6.2f} s   {t / reference:5.2f}× the reference")


if __name__ == "__main__":
    main()
