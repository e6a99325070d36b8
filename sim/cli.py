"""The command line: parse, load, run, write. Domain errors become one line and exit code 2."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sim.errors import ProtestSimError

log = logging.getLogger("sim")

COMMANDS = ("run", "data", "route", "compare", "rank-cameras", "equity", "report")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_sim.py",
        description="Simulate protesters walking from subway exits to an assembly site and "
        "measure their exposure to cameras. With no command, runs a scenario.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data directory (else $PROTEST_SIM_DATA, else data/cache)",
    )
    parser.add_argument("--outputs", type=Path, default=None, help="outputs folder (outputs/)")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("-q", "--quiet", action="store_true")
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run a scenario (default: scenarios/washington_square.toml)")
    run.add_argument("scenario", nargs="?", type=Path, default=None)
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes for replications (results do not depend on it)",
    )
    run.add_argument("--no-progress", action="store_true")
    run.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="do not write report.html, report.pdf and layers.gpkg into the run folder",
    )

    data = sub.add_parser("data", help="show where each data source was found")
    data.add_argument("what", nargs="?", default="status", choices=["status"])

    route = sub.add_parser("route", help="score one walking route's exposure")
    route.add_argument("--from", dest="origin", help="station, exit id, site id or 'lat,lon'")
    route.add_argument("--to", dest="destination", help="station, exit id, site id or 'lat,lon'")
    route.add_argument("--path", type=Path, help="GeoJSON LineString or lines of 'lat,lon'")
    route.add_argument(
        "--scenario",
        type=Path,
        default=None,
        help="cameras, classes and visibility from this scenario",
    )
    route.add_argument(
        "--preset",
        choices=["amnesty", "scenario"],
        default="amnesty",
        help="amnesty: public sites at 120 m (Amnesty's route tool); "
        "scenario: the scenario's camera layers",
    )
    route.add_argument("--speed", type=float, default=1.34, help="walking speed, m/s")
    route.add_argument(
        "--network",
        default=None,
        help="walk network for --from/--to: an OSM XML file (in the data directory or a "
        "path), 'bbox:W,S,E,N' or an osmnx place, downloaded when online (default: the "
        "scenario's, else the bundle's Manhattan network)",
    )

    compare = sub.add_parser("compare", help="compare scenarios with matched seeds")
    compare.add_argument("scenarios", nargs="+", type=Path)
    compare.add_argument("--workers", type=int, default=1)
    compare.add_argument("--rerun", action="store_true", help="do not reuse finished runs")
    compare.add_argument(
        "--report", action="store_true", help="write report.html, report.pdf and layers.gpkg"
    )

    report = sub.add_parser(
        "report", help="write report.html, report.pdf and layers.gpkg for a results folder"
    )
    report.add_argument("folder", type=Path, help="a finished run or comparison folder")

    rank = sub.add_parser("rank-cameras", help="rank camera sites by their contribution")
    rank.add_argument("scenario", type=Path)
    rank.add_argument("--top", type=int, default=20)

    sub.add_parser(
        "equity",
        help="Amnesty's tract analysis: surveillance against race per borough, protest sites",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a in COMMANDS for a in argv) and "-h" not in argv and "--help" not in argv:
        argv = _insert_run(argv)
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.ERROR
        if args.quiet
        else (
            logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING
        ),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return _dispatch(args)
    except ProtestSimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; no partial results were kept", file=sys.stderr)
        return 130


GLOBAL_FLAGS = {"-v", "-vv", "-vvv", "--verbose", "-q", "--quiet"}
GLOBAL_OPTIONS = {"--data-dir", "--outputs"}  # take a value


def _insert_run(argv: list[str]) -> list[str]:
    """``run_sim.py [options] [SCENARIO] [run options]`` means ``... run [SCENARIO] ...``:
    global options stay in front, everything else follows the ``run`` command."""
    front, rest, i = [], [], 0
    while i < len(argv):
        arg = argv[i]
        name = arg.split("=", 1)[0]
        if arg in GLOBAL_FLAGS:
            front.append(arg)
        elif name in GLOBAL_OPTIONS:
            front.append(arg)
            if "=" not in arg and i + 1 < len(argv):
                front.append(argv[i + 1])
                i += 1
        else:
            rest.append(arg)
        i += 1
    return [*front, "run", *rest]


def _dispatch(args: argparse.Namespace) -> int:
    from sim import commands

    if args.command == "data":
        return commands.data_status_command(args)
    if args.command == "route":
        return commands.route_command(args)
    if args.command == "compare":
        return commands.compare_command(args)
    if args.command == "rank-cameras":
        return commands.rank_command(args)
    if args.command == "equity":
        from sim.equity_report import equity_command

        return equity_command(args)
    if args.command == "report":
        return commands.report_command(args)
    return commands.run_command(args)


if __name__ == "__main__":
    sys.exit(main())
