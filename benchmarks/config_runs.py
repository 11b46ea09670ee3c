"""What the benchmarks that compare named configurations share (accuracy.py, openfield.py).

Their ``--preset``, ``--config NAME=key=value,...``, ``--threads``, ``--keep`` and ``--out``
arguments, the start of their results (command, preset, torch threads, load average), and how
the results file is written. Imported as ``machine`` is: the scripts run with their folder on
``sys.path``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any


def parse_config(text: str) -> tuple[str, list[str]]:
    """``NAME=k=v,k=v`` -> (NAME, [k=v, ...]); commas inside brackets (lists) do not split."""
    name, _, rest = text.partition("=")
    return name, [item for item in re.split(r",(?![^\[]*\])", rest) if item]


def add_run_arguments(parser: argparse.ArgumentParser, config_help: str) -> None:
    """Add ``--preset``, ``--config`` (with help ``config_help``), ``--threads``, ``--keep``
    and ``--out``."""
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--config", action="append", default=None, help=config_help)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the projects in this folder")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")


def configs(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """The ``--config`` runs as (name, overrides); without any, one run of the preset as it is."""
    return [parse_config(c) for c in (args.config or ["preset="])]


def results_header(args: argparse.Namespace, **fields: Any) -> dict[str, Any]:
    """Set torch's threads (``--threads``); the results' first keys: the command, the preset,
    ``fields``, the threads and the load average."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    return {
        "command": " ".join(sys.argv),
        "preset": args.preset,
        **fields,
        "threads": torch.get_num_threads(),
        "load_average": os.getloadavg(),
    }


def write_results(path: Path | None, results: dict) -> None:
    """Write ``results`` as JSON to ``path`` (if given) through a temporary file."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n")
    os.replace(tmp, path)
