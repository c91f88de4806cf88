import subprocess
import sys

import pytest

from sheetsync import __version__
from sheetsync.cli import COMMANDS, build_parser, main


def test_version_flag_prints_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"sheetsync {__version__}"


@pytest.mark.parametrize("command", [module.__name__.rsplit(".", 1)[-1] for module in COMMANDS])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: sheetsync {command}" in out
    assert len(out.splitlines()) > 4


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "commands:" in capsys.readouterr().out


def test_console_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "sheetsync", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_parser_lists_all_commands():
    help_text = build_parser().format_help()
    for name in ("follow", "train", "evaluate", "data", "bench", "plugins"):
        assert name in help_text
