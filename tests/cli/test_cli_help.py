"""The command line for a newcomer: help on every option, typos named, quiet pipes, -q."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest
from helpers import REPO

from sim.cli.app import COMMANDS, build_parser, main


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _help(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_every_command_is_registered_with_an_example():
    assert set(_subparsers()) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_commands_help_documents_every_option_and_shows_an_example(command, capsys):
    text = _help([command, "--help"], capsys)
    sub = _subparsers()[command]
    for action in sub._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help and action.help != argparse.SUPPRESS, (command, action.dest)
        names = action.option_strings or [action.metavar or action.dest]
        assert all(name in text for name in names), (command, names)
        # the option's own words appear in the help (not only its name)
        assert action.help.split()[0] in text, (command, action.dest)
    assert f"example:\n  {COMMANDS[command].example}" in text


def test_global_help_documents_every_option_and_lists_examples(capsys):
    text = _help(["--help"], capsys)
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        assert action.help, action.dest
        assert all(name in text for name in action.option_strings)
    for command in COMMANDS:
        assert command in text and COMMANDS[command].example in text
    flat = " ".join(text.split())
    for place in ("$PROTEST_SIM_DATA", "~/.config/protest-exposure/config.toml", "../shared/data"):
        assert place in flat


def test_a_new_command_is_one_module_and_one_registry_line(tmp_path, monkeypatch, capsys):
    """The whole of a command: a module with DESCRIPTION, add_arguments and its function, and
    its line in COMMANDS; nothing else in the command line changes."""
    (tmp_path / "greet_command.py").write_text(
        "DESCRIPTION = 'Greet someone by name, loudly if asked.'\n"
        "def add_arguments(parser):\n"
        "    parser.add_argument('name', help='who to greet')\n"
        "    parser.add_argument('--times', type=int, default=1, help='how often')\n"
        "def greet(args, options):\n"
        "    print(' '.join(['hello ' + args.name] * args.times))\n"
        "    return 0\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = dict(COMMANDS)
    registry["greet"] = type(COMMANDS["run"])(
        "greet_command:greet", "greet someone", "python run_sim.py greet Ada"
    )
    monkeypatch.setattr("sim.cli.app.COMMANDS", registry)
    assert main(["greet", "Ada", "--times", "2"]) == 0
    assert capsys.readouterr().out == "hello Ada hello Ada\n"
    text = _help(["greet", "--help"], capsys)
    assert "Greet someone by name" in text and "example:\n  python run_sim.py greet Ada" in text
    assert "greet someone" in _help(["--help"], capsys)


def test_parsing_one_command_imports_no_other_command():
    """Each command's module is imported when that command is parsed or run, not before: --help
    and every command stay quick however many commands there are."""
    modules = sorted({c.module for c in COMMANDS.values()})
    code = (
        "import sys\nfrom sim.cli.app import build_parser, command_of\n"
        "argv = ['--outputs', 'run', 'places', 'Union Sq']\n"
        "assert command_of(argv) == 'places'\n"
        "build_parser([command_of(argv)]).parse_args(argv)\n"
        f"print(sorted(m for m in {modules!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    assert out.strip() == "['sim.cli.places']"


def test_a_typo_is_an_unknown_command_not_a_missing_scenario(capsys):
    assert main(["runx"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: unknown command 'runx' (commands: run, data, places")
    assert err[0].endswith("did you mean 'run'?")
    assert main(["-q", "--workers", "2", "plaecs"]) == 2
    assert "did you mean 'places'?" in capsys.readouterr().err


def test_a_missing_scenario_file_is_still_named_as_one(capsys, tmp_path):
    assert main([str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml: cannot read scenario file" in capsys.readouterr().err


@pytest.mark.realdata
def test_quiet_route_prints_only_the_results_folder(data_dir, tmp_path, capsys):
    argv = ["--data-dir", str(data_dir), "--outputs", str(tmp_path), "-q", "route"]
    assert main([*argv, "--from", "Christopher St", "--to", "washington_sq_park"]) == 0
    out, err = capsys.readouterr()
    folder = next((tmp_path / "routes").iterdir())
    assert out == f"results: {folder}\n" and err == ""
    assert json.loads((folder / "route.json").read_text())["length_m"] > 0


@pytest.mark.realdata
def test_piping_into_head_exits_quietly(data_dir):
    env = {**os.environ, "PROTEST_SIM_DATA": str(data_dir)}
    proc = subprocess.Popen(
        [sys.executable, "run_sim.py", "places", "--exits"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert first.startswith(b"sites (20)")
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert proc.returncode in (0, 141)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_registered_command_names_a_function_that_exists(command):
    import importlib

    module, function = COMMANDS[command].runs.split(":")
    assert callable(getattr(importlib.import_module(module), function))
