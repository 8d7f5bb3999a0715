"""`promptyard` builds only the command a command line names (promptyard.cli.COMMANDS):
the table must name every command each module registers, and nothing else, or a command
would be missing from the line that names it."""

from __future__ import annotations

import importlib

import typer
import typer.main
import typer.testing

from promptyard import cli
from tests.cli import run_cli


def _registered(app: typer.Typer) -> list[str]:
    command = typer.main.get_command(app)
    return list(getattr(command, "commands", {}))


def test_every_module_registers_exactly_the_commands_the_table_gives_it() -> None:
    for module in cli.MODULES:
        app = typer.Typer()
        app.callback()(lambda: None)  # a group even when the module registers one command
        importlib.import_module(f"promptyard.cli.{module}").register(app)
        expected = [name for name, owner in cli.COMMANDS.items() if owner == module]
        assert sorted(_registered(app)) == sorted(expected), module


def test_the_whole_command_lists_every_command() -> None:
    assert sorted(_registered(cli.app)) == sorted(cli.COMMANDS)
    listed = run_cli("--help", check=True).stdout
    for name in cli.COMMANDS:
        assert f" {name} " in listed, name


def test_each_command_built_alone_answers_as_in_the_whole_command() -> None:
    runner = typer.testing.CliRunner()
    for name in cli.COMMANDS:
        alone = run_cli(name, "--help")
        assert alone.returncode == 0, (name, alone.stderr)
        assert f"Usage: promptyard {name} " in alone.stdout, name
        whole = runner.invoke(cli.app, [name, "--help"], prog_name="promptyard")
        assert (whole.exit_code, whole.stdout) == (0, alone.stdout), name


def test_a_misspelt_command_is_refused_with_the_whole_list_to_choose_from() -> None:
    out = run_cli("rnu")
    assert out.returncode == 2
    assert "No such command 'rnu'" in out.stderr
    assert "run" in out.stderr  # click's suggestion comes from the whole command
