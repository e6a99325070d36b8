"""The command line: parse, load, run, write. Domain errors become one line and exit code 2."""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import os
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from sim import progress
from sim.batch.options import RunOptions
from sim.batch.pool import check_scheduler
from sim.batch.preflight import OPTION_RANGES, check_options
from sim.errors import ProtestSimError, quoted
from sim.report import DEFAULT_PAPER, PAPERS
from sim.scenario.sections import ENGINES

log = logging.getLogger("sim")


@dataclass(frozen=True)
class Command:
    """A command of the command line: the function that runs it, and one example of its use."""

    runs: str  # "module:function(args, options)", imported only when the command runs
    example: str  # shown at the end of its --help


# Every command, in the order --help lists them: adding one is a line here, its parser in
# build_parser, and its function.
COMMANDS: dict[str, Command] = {
    "run": Command(
        "sim.cli.run:run_command",
        "python run_sim.py run scenarios/union_square.toml --workers 2",
    ),
    "data": Command(
        "sim.cli.data:data_status_command", "python run_sim.py --data-dir ../shared/data data"
    ),
    "places": Command("sim.cli.places:places_command", 'python run_sim.py places "14 St"'),
    "route": Command(
        "sim.cli.route:route_command",
        'python run_sim.py route --from "Christopher St" --to "Washington Square Park"',
    ),
    "compare": Command(
        "sim.cli.compare:compare_command",
        "python run_sim.py compare scenarios/washington_square.toml "
        "scenarios/wsp_least_exposed.toml",
    ),
    "rank-cameras": Command(
        "sim.cli.rank:rank_command",
        "python run_sim.py rank-cameras scenarios/washington_square.toml --top 10",
    ),
    "equity": Command("sim.cli.equity:equity_command", "python run_sim.py equity"),
    "districts": Command(
        "sim.cli.districts:districts_command", "python run_sim.py districts 3 --lines 2023"
    ),
    "report": Command(
        "sim.cli.report:report_command",
        "python run_sim.py report outputs/washington_square/RUN-ID",
    ),
    "sensitivity": Command(
        "sim.cli.sensitivity:sensitivity_command",
        "python run_sim.py sensitivity scenarios/wsp_sensitivity.toml --workers 2",
    ),
}


def _sub(sub, name: str, help_text: str, description: str) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=help_text,
        description=textwrap.fill(description, 88),
        epilog=f"example:\n  {COMMANDS[name].example}\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr, exit code 2, with the option's range."""

    def error(self, message: str) -> NoReturn:
        for option, allowed in OPTION_RANGES.items():
            if f"argument {option}" in message:
                message = f"{message} (allowed: {allowed})"
        self.exit(2, f"error: {self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="run_sim.py",
        description="Simulate protesters walking from subway exits to an assembly site and "
        "measure their exposure to cameras. With no command, runs a scenario.",
        epilog="examples:\n  python run_sim.py                      # the default scenario\n"
        + "".join(f"  {COMMANDS[c].example}\n" for c in COMMANDS)
        + "\nrun_sim.py COMMAND --help describes each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="data folder; else $PROTEST_SIM_DATA, else data_dir in "
        "~/.config/protest-exposure/config.toml, else data/ in the checkout, else "
        "../shared/data beside it, else data/cache/ (downloads go there)",
    )
    parser.add_argument(
        "--outputs", type=Path, default=None, metavar="DIR", help="outputs folder (outputs/)"
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv: debug)")
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only the results folder (and errors); no progress",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bars or progress lines on stderr",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = _sub(
        sub,
        "run",
        "run a scenario (the default command)",
        "Run a scenario file (default: scenarios/washington_square.toml) and write its "
        "folder under outputs/<name>/. A [sweep] file runs once per value.",
    )
    run.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        default=None,
        help="scenario TOML file (default scenarios/washington_square.toml)",
    )
    _pool_options(run)
    run.add_argument(
        "--no-progress",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no progress bars or progress lines on stderr",
    )
    run.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="do not write report.html, report.pdf and layers.gpkg into the run folder",
    )
    run.add_argument("--engine", choices=ENGINES, help="movement engine (default: the scenario's)")
    _paper_option(run)

    data = _sub(
        sub,
        "data",
        "show which data folder is used and what it holds",
        "Show the data folder chosen (and the search order), and each source: whether it "
        "is required, rows, size, checksum and where it was found. Exits 1 when a required "
        "source is missing and cannot be downloaded.",
    )
    data.add_argument(
        "what",
        nargs="?",
        default="status",
        choices=["status"],
        help="what to show: status (the only choice, the default)",
    )

    places = _sub(
        sub,
        "places",
        "list stations, exits and sites, or find one by name",
        "List the protest sites and subway stations with their ids, or show what a name "
        "matches (forgiving: any case, St/Street, Sq/Square, Av/Avenue, a name's start). "
        "Exits 1 when nothing matches.",
    )
    places.add_argument(
        "query", nargs="?", default=None, help="a name or id to look up (default: list all)"
    )
    places.add_argument(
        "--exits", action="store_true", help="also list every subway exit with its id"
    )

    route = _sub(
        sub,
        "route",
        "score one walking route's exposure",
        "Score the shortest walk between two places, or a route drawn elsewhere, and "
        "write route.json and route.png under outputs/routes/.",
    )
    route.add_argument(
        "--from",
        dest="origin",
        metavar="PLACE",
        help="start: a station or site name, GTFS stop id, exit id, site id or 'lat,lon'",
    )
    route.add_argument(
        "--to",
        dest="destination",
        metavar="PLACE",
        help="end: a station or site name, GTFS stop id, exit id, site id or 'lat,lon'",
    )
    route.add_argument(
        "--path", type=Path, metavar="FILE", help="GeoJSON LineString or lines of 'lat,lon'"
    )
    route.add_argument(
        "--scenario",
        type=Path,
        default=None,
        metavar="FILE",
        help="cameras, classes and visibility from this scenario (implies --preset scenario)",
    )
    route.add_argument(
        "--preset",
        choices=["amnesty", "scenario"],
        default="amnesty",
        help="amnesty: public sites at 120 m (Amnesty's route tool); "
        "scenario: the scenario's camera layers",
    )
    route.add_argument("--speed", type=float, default=1.34, help="walking speed, m/s (1.34)")
    route.add_argument(
        "--network",
        default=None,
        metavar="NETWORK",
        help="walk network for --from/--to: an OSM XML file (in the data directory or a "
        "path), 'bbox:W,S,E,N' or an osmnx place, downloaded when online (default: the "
        "scenario's, else the bundle's Manhattan network)",
    )

    compare = _sub(
        sub,
        "compare",
        "compare scenarios with matched seeds",
        "Run (or reuse finished runs of) each scenario with the first one's seed and "
        "replications, so differences are paired; print each figure with its difference "
        "from the first and a bootstrap 95% interval; write outputs/compare/<id>/.",
    )
    compare.add_argument(
        "scenarios", nargs="+", type=Path, help="scenario files; the first is the base"
    )
    _pool_options(compare)
    compare.add_argument("--rerun", action="store_true", help="do not reuse finished runs")
    compare.add_argument(
        "--report", action="store_true", help="write report.html, report.pdf and layers.gpkg"
    )
    compare.add_argument("--engine", choices=ENGINES, help="movement engine for every run")
    _paper_option(compare)

    report = _sub(
        sub,
        "report",
        "write report.html, report.pdf and layers.gpkg for a results folder",
        "Write report.html, report.pdf and layers.gpkg for a finished run or comparison folder.",
    )
    report.add_argument("folder", type=Path, help="a finished run or comparison folder")
    _paper_option(report)

    rank = _sub(
        sub,
        "rank-cameras",
        "rank camera sites by their contribution",
        "Rank camera sites by their marginal contribution to the crowd's camera-seconds "
        "and to the protesters seen at all, with the greedy removal curve; writes "
        "outputs/rankings/<scenario>/<id>/.",
    )
    rank.add_argument("scenario", type=Path, help="scenario TOML file")
    rank.add_argument(
        "--top", type=int, default=20, help="how many camera sites to rank and remove (20)"
    )

    sens = _sub(
        sub,
        "sensitivity",
        "global sensitivity analysis of a scenario's [sensitivity] parameters",
        "Draw a Morris or Sobol design (SALib) over the [sensitivity] parameters of a "
        "scenario file, run every design point as tasks (resumable: the same command skips "
        "finished tasks) and write outputs/sensitivity/<name>-<digest>/: tasks.csv, "
        "indices.csv with 95% intervals, sensitivity.json and sensitivity_ranking.png.",
    )
    sens.add_argument("scenario", type=Path, help="scenario TOML file with a [sensitivity]")
    _pool_options(sens)
    sens.add_argument(
        "--no-progress",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no progress bars or progress lines on stderr",
    )

    _sub(
        sub,
        "equity",
        "Amnesty's tract analysis: surveillance against race per borough, protest sites",
        "Amnesty's tract analysis: camera surveillance against race per borough, and the "
        "protest sites.",
    )
    districts = _sub(
        sub,
        "districts",
        "an evidence pack per City Council district: figures, a letter PDF and a slide PNG",
        "For each of the 51 City Council districts (or district N): camera sites and cameras "
        "by class and source, Amnesty's effective public cameras per 1,000 residents with its "
        "rank, the non-white share, protest sites of 2020, subway stations and exits, and the "
        "share of walks from exits to its protest sites in view of a public camera (Manhattan). "
        "Writes outputs/districts/<id>/: districts.csv, sites.csv, walks.csv, districts.gpkg, "
        "a one-page US letter PDF and a slide PNG per district, manifest.json.",
    )
    from sim.city.districts import DEFAULT_LINES, DISTRICT_COUNT, LINES

    districts.add_argument(
        "district",
        nargs="?",
        type=int,
        default=None,
        metavar="N",
        help=f"one district, 1 to {DISTRICT_COUNT} (default: all {DISTRICT_COUNT})",
    )
    districts.add_argument(
        "--lines",
        type=int,
        choices=list(LINES),
        default=DEFAULT_LINES,
        help="district lines: 2023 (current; the default) or 2013 (in force in 2020)",
    )
    for command in (run, route, compare, rank, sens):
        for action in command._actions:
            allowed = OPTION_RANGES.get(action.option_strings[-1] if action.option_strings else "")
            if allowed:
                action.help = f"{action.help or ''}; allowed: {allowed}".lstrip("; ")
    return parser


def _paper_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--paper",
        choices=list(PAPERS),
        default=DEFAULT_PAPER,
        help=f"paper of report.pdf (default: {DEFAULT_PAPER}, {PAPERS[DEFAULT_PAPER][1]})",
    )


def _pool_options(parser: argparse.ArgumentParser) -> None:
    """Where the (scenario variant, replication) tasks run; results do not depend on it."""
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local worker processes for the tasks (default: one per processor, fewer when "
        "memory is short); results do not depend on it",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDR",
        help="run the tasks on a Dask cluster: tcp://HOST:PORT of a running scheduler, or "
        "'local' for a Dask LocalCluster of --workers processes (else "
        "$PROTEST_SIM_SCHEDULER)",
    )


# Exit codes: 2 bad input, 3 an internal error (a fault of this program, not of the input:
# one line, the traceback in a log file), 1 a command's documented "not found", 130 Ctrl-C.
EXIT_INTERNAL = 3
INTERNAL_MESSAGE_LIMIT = 80


def main(argv: list[str] | None = None) -> int:
    """The command line; every exception that escapes a command is one line on stderr."""
    argv = list(sys.argv[1:] if argv is None else argv)
    outputs: list[Path] = []  # the outputs folder, once the options are parsed
    try:
        return _main(argv, outputs)
    except Exception as exc:  # the last line of defence: nothing above caught it
        log_file = _write_traceback(argv, exc, outputs[0] if outputs else None)
        text = one_line(str(exc).strip(), INTERNAL_MESSAGE_LIMIT) or "(no message)"
        where = f"the traceback is in {log_file}" if log_file else "no log file could be written"
        print(f"internal error: {type(exc).__name__}: {text}; {where}", file=sys.stderr)
        return EXIT_INTERNAL


# An error line longer than this is cut (its quoted values are cut at 80 characters already;
# this bounds what a path or a list of allowed values could add).
ERROR_LINE_LIMIT = 1000


def one_line(text: str, limit: int = ERROR_LINE_LIMIT) -> str:
    """``text`` on one line (line breaks as spaces), cut to ``limit`` characters."""
    text = " ".join(text.split("\n")).replace("\r", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _write_traceback(argv: list[str], exc: BaseException, outputs: Path | None) -> Path | None:
    """Write ``exc``'s traceback, the command line and versions to a new log file under the
    outputs folder's ``logs/`` (the system's temporary folder when that cannot be written)."""
    import platform
    import tempfile
    import traceback
    from datetime import UTC, datetime

    from sim import __version__

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = (
        f"run_sim.py {' '.join(argv)}\nprotest-exposure {__version__}, Python "
        f"{platform.python_version()}, {platform.platform()}\n\n"
        + "".join(traceback.format_exception(exc))
    )
    name = f"protest-sim-internal-error-{stamp}-{os.getpid()}.log"
    for folder in ([outputs / "logs"] if outputs else []) + [Path(tempfile.gettempdir())]:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
            return folder / name
        except OSError:
            continue
    return None


def _main(argv: list[str], outputs: list[Path]) -> int:
    if not any(a in COMMANDS for a in argv) and "-h" not in argv and "--help" not in argv:
        unknown = _unknown_command(argv)
        if unknown:
            print(f"error: {unknown}", file=sys.stderr)
            return 2
        argv = _insert_run(argv)
    args = build_parser().parse_args(argv)  # a usage error exits 2 after one line
    options = run_options(args)
    outputs.append(options.outputs_root)
    progress.configure(not (args.quiet or args.no_progress))
    logging.basicConfig(
        level=logging.ERROR
        if args.quiet
        else (
            logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING
        ),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        check_options(options.workers, getattr(args, "top", None), getattr(args, "speed", None))
        if hasattr(args, "scheduler"):  # a command that runs tasks: its cluster answers first
            check_scheduler(options.scheduler)
        return _dispatch(args, options)
    except BrokenPipeError:
        # the reader went away (``| head``): stop quietly, and keep Python's exit-time flush
        # from writing to the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except ProtestSimError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file or folder failing where no domain error names it
        log.debug("details", exc_info=True)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc} (nothing was kept)", file=sys.stderr)
        return 2
    except MemoryError:
        log.debug("details", exc_info=True)
        print(
            "error: out of memory; use fewer protesters, replications or --workers",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted; no partial results were kept (finished tasks of run, compare and "
            "sensitivity are: the same command resumes them)",
            file=sys.stderr,
        )
        return 130


GLOBAL_FLAGS = {"-v", "-vv", "-vvv", "--verbose", "-q", "--quiet", "--no-progress"}
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


def _unknown_command(argv: list[str]) -> str:
    """Why the first word is neither a command nor a scenario file, or "" when it may be one."""
    rest = _insert_run(argv)
    rest = rest[rest.index("run") + 1 :]
    valued = ("--workers", "--scheduler")
    words = [a for i, a in enumerate(rest) if not a.startswith("-") and rest[i - 1] not in valued]
    if not words or words[0].endswith(".toml") or "/" in words[0] or Path(words[0]).exists():
        return ""
    close = difflib.get_close_matches(words[0], COMMANDS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (
        f"unknown command {quoted(words[0])} (commands: {', '.join(COMMANDS)}; a scenario file "
        f"ends in .toml){hint}"
    )


def run_options(args: argparse.Namespace) -> RunOptions:
    """The typed options the layers below the command line take, from the parsed arguments
    (built once, in :func:`main`; ``args`` itself goes no further than the commands)."""
    return RunOptions(
        data_dir=args.data_dir,
        outputs=args.outputs,
        workers=getattr(args, "workers", None),
        scheduler=getattr(args, "scheduler", None),
    )


def _dispatch(args: argparse.Namespace, options: RunOptions) -> int:
    module, function = COMMANDS[args.command or "run"].runs.split(":")
    return getattr(importlib.import_module(module), function)(args, options)


if __name__ == "__main__":
    sys.exit(main())
