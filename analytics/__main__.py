"""Command line: ``python -m analytics <command>``.

Commands
--------
build DIR --out FILE.duckdb          build a study file from raw tables (exit 2 on contract errors)
build-default --out FILE.duckdb      build the embedded synthetic default cohort
synth --seed S --out DIR [--subjects N]  write a synthetic raw cohort

Each command is a pair of functions: ``_args_<name>(parser)`` declares its arguments and
``_run_<name>(args) -> int`` runs it; register both in :data:`COMMANDS`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_CONTRACT = 2  # raw data breaks the data contract


def _summary(path: Path) -> str:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        info = dict(con.execute("SELECT key, value FROM study_info").fetchall())
    finally:
        con.close()
    counts = ", ".join(f"{info.get('n_' + t, '?')} {t.replace('_', ' ')}"
                       for t in ("subjects", "visits", "adverse_events", "medications"))
    kind = " (synthetic)" if info.get("synthetic") == "true" else ""
    return f"built {path}{kind}: {counts}"


# -- build -------------------------------------------------------------------------------------
def _args_build(p: argparse.ArgumentParser) -> None:
    p.add_argument("raw_dir", metavar="DIR", type=Path,
                   help="directory with subjects, visits, adverse_events, medications "
                        "(.csv, .xlsx or .parquet) and optionally study.json")
    p.add_argument("--out", required=True, type=Path, metavar="FILE.duckdb",
                   help="study file to create or replace")


def _run_build(args: argparse.Namespace) -> int:
    from .build import build_study
    from .importer import ContractError

    try:
        out = build_study(args.raw_dir, args.out)
    except ContractError as exc:
        kept = "was not changed" if args.out.exists() else "was not created"
        print(f"error: {args.raw_dir}: the raw data breaks the data contract; "
              f"{args.out} {kept}", file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return EXIT_CONTRACT
    print(_summary(out))
    return EXIT_OK


# -- build-default -----------------------------------------------------------------------------
def _args_build_default(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, metavar="FILE.duckdb")
    p.add_argument("--force", action="store_true", help="rebuild even if the file exists")


def _run_build_default(args: argparse.Namespace) -> int:
    from .build import build_default

    existed = args.out.exists()
    out = build_default(args.out, force=args.force)
    if existed and not args.force:
        print(f"{out} exists; left as is (use --force to rebuild)")
    else:
        print(_summary(out))
    return EXIT_OK


# -- synth -------------------------------------------------------------------------------------
def _args_synth(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the embedded one)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR",
                   help="directory to write the raw tables and study.json into")
    p.add_argument("--subjects", type=int, default=None, metavar="N",
                   help="number of subjects (default: the published cohort size)")


def _run_synth(args: argparse.Namespace) -> int:
    from .synth import DEFAULT_SEED, write_cohort  # imported lazily: heavy, and optional here

    seed = DEFAULT_SEED if args.seed is None else args.seed
    args.out.mkdir(parents=True, exist_ok=True)
    write_cohort(args.out, seed=seed, subjects=args.subjects)
    print(f"wrote synthetic cohort (seed {seed}) to {args.out}")
    return EXIT_OK


# name -> (help, add arguments, run)
COMMANDS = {
    "build": ("build a study file from a directory of raw tables", _args_build, _run_build),
    "build-default": ("build the embedded synthetic default study file", _args_build_default,
                      _run_build_default),
    "synth": ("write a synthetic raw cohort", _args_synth, _run_synth),
}


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analytics",
                                     description="MSC RA study analytics")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_args, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_args(p)
        p.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
