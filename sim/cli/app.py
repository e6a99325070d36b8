"""The command line: parse, load, run, write. Domain errors become one line and exit code 2."""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import os
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from sim import progress
from sim.batch.options import RunOptions
from sim.batch.pool import check_scheduler
from sim.batch.preflight import OPTION_RANGES, check_options
from sim.errors import ProtestSimError, quoted

log = logging.getLogger("sim")


@dataclass(frozen=True)
class Command:
    """A command of the command line, registered by one line in :data:`COMMANDS`.

    ``runs`` names its function, ``"module:function"``; the module also holds its
    ``DESCRIPTION`` and ``add_arguments(parser)``, and is imported only when the command is
    parsed or run (so ``--help`` and every other command stay quick)."""

    runs: str  # "module:function(args, options) -> exit code"
    help: str  # its line in run_sim.py --help
    example: str  # shown at the end of its --help and in run_sim.py --help

    @property
    def module(self) -> str:
        return self.runs.split(":")[0]


# Every command, in the order --help lists them. Adding one is a module (DESCRIPTION,
# add_arguments and its function) and a line here.
COMMANDS: dict[str, Command] = {
    "run": Command(
        "sim.cli.run:run_command",
        "run a scenario (the default command)",
        "python run_sim.py run scenarios/union_square.toml --workers 2",
    ),
    "data": Command(
        "sim.cli.data:data_status_command",
        "show which data folder is used and what it holds",
        "python run_sim.py --data-dir ../shared/data data",
    ),
    "places": Command(
        "sim.cli.places:places_command",
        "list stations, exits and sites, or find one by name",
        'python run_sim.py places "14 St"',
    ),
    "route": Command(
        "sim.cli.route:route_command",
        "score one walking route's exposure",
        'python run_sim.py route --from "Christopher St" --to "Washington Square Park"',
    ),
    "compare": Command(
        "sim.cli.compare:compare_command",
        "compare scenarios with matched seeds",
        "python run_sim.py compare scenarios/washington_square.toml "
        "scenarios/wsp_least_exposed.toml",
    ),
    "rank-cameras": Command(
        "sim.cli.rank:rank_command",
        "rank camera sites by their contribution",
        "python run_sim.py rank-cameras scenarios/washington_square.toml --top 10",
    ),
    "equity": Command(
        "sim.cli.equity:equity_command",
        "Amnesty's tract analysis: surveillance against race per borough, protest sites",
        "python run_sim.py equity",
    ),
    "districts": Command(
        "sim.cli.districts:districts_command",
        "an evidence pack per City Council district: figures, a letter PDF and a slide PNG",
        "python run_sim.py districts 3 --lines 2023",
    ),
    "report": Command(
        "sim.cli.report:report_command",
        "write report.html, report.pdf and layers.gpkg for a results folder",
        "python run_sim.py report outputs/washington_square/RUN-ID",
    ),
    "sensitivity": Command(
        "sim.cli.sensitivity:sensitivity_command",
        "global sensitivity analysis of a scenario's [sensitivity] parameters",
        "python run_sim.py sensitivity scenarios/wsp_sensitivity.toml --workers 2",
    ),
}


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr, exit code 2, with the option's range."""

    def error(self, message: str) -> NoReturn:
        for option, allowed in OPTION_RANGES.items():
            if f"argument {option}" in message:
                message = f"{message} (allowed: {allowed})"
        self.exit(2, f"error: {self.prog}: {message}\n")


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The parser of ``run_sim.py``; the arguments of ``commands`` only (default: all of them),
    the others listed by name and help line."""
    chosen = set(COMMANDS if commands is None else commands)
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
    for name, command in COMMANDS.items():
        if name not in chosen:
            sub.add_parser(name, help=command.help)
            continue
        module = importlib.import_module(command.module)
        one = sub.add_parser(
            name,
            help=command.help,
            description=textwrap.fill(module.DESCRIPTION, 88),
            epilog=f"example:\n  {command.example}\n",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(one)
        for action in one._actions:  # each bounded option's --help says what is allowed
            allowed = OPTION_RANGES.get(action.option_strings[-1] if action.option_strings else "")
            if allowed:
                action.help = f"{action.help or ''}; allowed: {allowed}".lstrip("; ")
    return parser


def command_of(argv: list[str]) -> str | None:
    """The command ``argv`` names (its first word that is a command, global options' values
    skipped), or None."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in COMMANDS:
            return arg
        if arg in GLOBAL_OPTIONS:
            i += 1  # its value
        i += 1
    return None


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
    command = command_of(argv)
    # a usage error exits 2 after one line
    args = build_parser([command] if command else []).parse_args(argv)
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
