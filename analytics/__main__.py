"""Command line: ``python -m analytics <command>``.

Commands
--------
build DIR --out FILE.duckdb [--mapping M.toml]
                                     build a study file from raw tables (exit 2 on contract errors);
                                     with a mapping, from a study's own export
map DIR --out M.toml                 draft the mapping of an export; lists what it could not map
build-default --out FILE.duckdb      build the embedded synthetic default cohort
synth --seed S --out DIR [--subjects N]  write a synthetic raw cohort
deck --out FILE.pptx [--study FILE.duckdb] [--lang zh|en] [--view ADDRESS ...]
                                     the slide deck of views, each ``--view`` an address as in
                                     the app's address bar (``survival?ep=ACR70&pop=nri``);
                                     or [filters] [--pages a,b] at defaults (default: all)

Each command is a pair of functions: ``_args_<name>(parser)`` declares its arguments and
``_run_<name>(args) -> int`` runs it; register both in :data:`COMMANDS`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_CONTRACT = 2  # raw data breaks the data contract
EXIT_USAGE = 2  # bad command-line arguments (as argparse)
EXIT_BUILD = 2  # the build could not write its output (disk full, permissions, another build)


def _study_info(path: Path) -> dict[str, str]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return dict(con.execute("SELECT key, value FROM study_info").fetchall())
    finally:
        con.close()


def _summary(path: Path) -> str:
    info = _study_info(path)
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
    p.add_argument("--mapping", type=Path, default=None, metavar="MAPPING.toml",
                   help="mapping of an export's files, columns, codes and units to the contract "
                        "(draft one with `python -m analytics map DIR`)")


def _run_build(args: argparse.Namespace) -> int:
    from .build import BuildError, build_study
    from .importer import ContractError

    try:
        out = build_study(args.raw_dir, args.out, mapping=args.mapping)
    except BuildError as exc:
        print(exc.message(), file=sys.stderr)
        return EXIT_BUILD
    except ContractError as exc:
        kept = "was not changed" if args.out.exists() else "was not created"
        what = ("the export cannot be mapped to the data contract" if args.mapping else
                "the raw data breaks the data contract")
        print(f"error: {args.raw_dir}: {what}; {args.out} {kept}", file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return EXIT_CONTRACT
    print(_summary(out))
    import json

    for warning in json.loads(_study_info(out).get("import_warnings", "[]")):
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


# -- map ---------------------------------------------------------------------------------------
def _args_map(p: argparse.ArgumentParser) -> None:
    p.add_argument("raw_dir", metavar="DIR", type=Path,
                   help="directory with the export (.csv, .xlsx, .parquet, .xpt, .sas7bdat)")
    p.add_argument("--out", required=True, type=Path, metavar="MAPPING.toml",
                   help="mapping file to write (check it, then build with --mapping)")


def _run_map(args: argparse.Namespace) -> int:
    from .mapping_draft import draft_mapping

    if not args.raw_dir.is_dir():
        print(f"error: {args.raw_dir}: no such directory", file=sys.stderr)
        return EXIT_USAGE
    draft = draft_mapping(args.raw_dir)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(draft.to_toml(), encoding="utf-8")
    print(f"wrote {args.out}: {len(draft.mapping.files)} tables mapped, "
          f"{len(draft.unmapped)} items to fill in")
    for item in draft.unmapped:
        print(f"could not map: {item}")
    for item in draft.ignored:
        print(f"not used: {item}")
    return EXIT_OK


# -- build-default -----------------------------------------------------------------------------
def _args_build_default(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, metavar="FILE.duckdb")
    p.add_argument("--force", action="store_true", help="rebuild even if the file exists")


def _run_build_default(args: argparse.Namespace) -> int:
    from .build import BuildError, build_default

    existed = args.out.exists()
    try:
        out = build_default(args.out, force=args.force)
    except BuildError as exc:
        print(exc.message(), file=sys.stderr)
        return EXIT_BUILD
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
    import warnings

    # imported lazily: heavy, and optional here
    from .synth import DEFAULT_SEED, SynthRelaxed, check_arguments, write_cohort

    seed = DEFAULT_SEED if args.seed is None else args.seed
    try:
        check_arguments(seed, args.subjects)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SynthRelaxed)
        write_cohort(args.out, seed=seed, subjects=args.subjects)
    for w in caught:  # each names the published figure the cohort could not meet exactly
        print(f"warning: {w.message}", file=sys.stderr)
    print(f"wrote synthetic cohort (seed {seed}) to {args.out}")
    return EXIT_OK


# -- deck --------------------------------------------------------------------------------------
def _args_deck(p: argparse.ArgumentParser) -> None:
    from .i18n import LANGUAGES
    from .population import AGE_BANDS, BASELINE_ACTIVITIES, SEXES
    from .response import EFFICACY_POPULATIONS
    from .schema import POST_BASELINE_VISITS
    from .views import PAGE_KEYS

    p.add_argument("--out", required=True, type=Path, metavar="FILE.pptx")
    p.add_argument("--study", type=Path, default=None, metavar="FILE.duckdb",
                   help="study file (default: the study the views name, study=<slug> of the "
                        "data folder, else the embedded synthetic study)")
    p.add_argument("--lang", choices=LANGUAGES, default="en")
    p.add_argument("--population", choices=EFFICACY_POPULATIONS, default="completers")
    p.add_argument("--timepoint", choices=POST_BASELINE_VISITS, default="Y1")
    p.add_argument("--sex", choices=SEXES, default=None)
    p.add_argument("--age-band", choices=AGE_BANDS, default=None)
    p.add_argument("--baseline-activity", choices=BASELINE_ACTIVITIES, default=None)
    p.add_argument("--prior-bdmard", type=int, choices=(0, 1), default=None)
    p.add_argument("--pages", default=None, metavar="A,B,...",
                   help=f"comma-separated pages (default: all): {', '.join(PAGE_KEYS)}")
    p.add_argument("--view", action="append", default=None, metavar="ADDRESS",
                   help="a view as in the app's address bar, e.g. "
                        "'survival?ep=ACR70&scale=km&pop=nri&sex=F' (repeatable; in order; "
                        "the filter options and --pages are then not used)")


def _study_of_address(address: str) -> str | None:
    """The ``study=<slug>`` of an app address (None: the default study)."""
    from urllib.parse import parse_qs, urlsplit

    from .study_catalog import DEFAULT_SLUG
    from .views.state import STUDY_URL_NAME
    slug = parse_qs(urlsplit(address.strip()).query).get(STUDY_URL_NAME, [None])[-1]
    return None if slug in (None, DEFAULT_SLUG) else slug


def _run_deck(args: argparse.Namespace) -> int:
    import time

    from .deck import build_deck
    from .i18n import t
    from .study import open_study
    from .views import PAGE_KEYS

    pages = None
    if args.pages:
        pages = [p.strip() for p in args.pages.split(",") if p.strip()]
        for page in pages:
            if page not in PAGE_KEYS:
                print("error: " + t("deck.cli.unknown_page", args.lang, page=page,
                                    choices=", ".join(PAGE_KEYS)), file=sys.stderr)
                return EXIT_USAGE
    filters = {k: v for k, v in (("sex", args.sex), ("age_band", args.age_band),
                                 ("baseline_activity", args.baseline_activity),
                                 ("prior_bdmard", args.prior_bdmard)) if v is not None}
    from .integrity import StudyFileError

    t0 = time.perf_counter()
    if args.study is None and args.view:  # views copied from the app name their study
        slugs = {_study_of_address(view) for view in args.view} - {None}
        if len(slugs) > 1:
            print("error: " + t("deck.cli.several_studies", args.lang,
                                studies=", ".join(sorted(slugs))), file=sys.stderr)
            return EXIT_USAGE
        if slugs:
            from .study_catalog import study_path
            try:
                args.study = study_path(slugs.pop())
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_USAGE
    try:
        study = open_study(args.study)
    except StudyFileError as exc:  # the file named here, the rest in words (no traceback)
        print(f"error: {args.study}: " + exc.message(args.lang), file=sys.stderr)
        return EXIT_USAGE
    with study:
        states = None
        if args.view:
            from .views import AddressError, parse_address
            states = []
            for view in args.view:
                try:
                    states.append(parse_address(view, study, lang=args.lang))
                except AddressError as exc:
                    print("error: " + t("deck.cli.bad_view", args.lang, view=view,
                                        problem=str(exc)), file=sys.stderr)
                    return EXIT_USAGE
        data = build_deck(study, args.lang, args.population, args.timepoint, filters, pages,
                          states=states)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    from pptx import Presentation
    slides = len(Presentation(str(args.out)).slides)
    print(t("deck.cli.wrote", args.lang, path=args.out, slides=slides,
            seconds=time.perf_counter() - t0))
    return EXIT_OK


# name -> (help, add arguments, run)
COMMANDS = {
    "build": ("build a study file from a directory of raw tables", _args_build, _run_build),
    "map": ("draft the mapping of a study's own export to the data contract", _args_map,
            _run_map),
    "build-default": ("build the embedded synthetic default study file", _args_build_default,
                      _run_build_default),
    "synth": ("write a synthetic raw cohort", _args_synth, _run_synth),
    "deck": ("write the slide deck (PPTX) of a view", _args_deck, _run_deck),
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
    import logging

    # A refused study file is logged with its traceback for the server's log; on the command
    # line the message printed says it all.
    logging.getLogger("msc_ra").addHandler(logging.NullHandler())
    logging.getLogger("msc_ra").propagate = False
    args = make_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
