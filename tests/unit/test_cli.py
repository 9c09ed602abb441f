"""The ``model-gateway`` command line: version, log options on either side of the
subcommand, and help text a person can read."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli import log_settings, main, parser
from proxy.logformats import LogSettings

SUBCOMMANDS = ["localcluster", "dev", "api", "controller", "proxy"]


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the installed version and exits 0."""
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == "model-gateway 0.1.0"


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_log_options_work_after_the_subcommand(command: str) -> None:
    """`<command> --log-level DEBUG --log-format json` is as good as the global options."""
    args = parser().parse_args([command, "--log-level", "DEBUG", "--log-format", "json"])
    assert log_settings(args, {}) == LogSettings(level="DEBUG", format="json")


def test_flags_before_the_subcommand_survive_it_and_override_the_environment() -> None:
    """A global flag is not reset by the subcommand; unset ones come from the environment."""
    args = parser().parse_args(["--log-level", "WARNING", "dev"])
    env = {"MODEL_GATEWAY_LOG_LEVEL": "ERROR", "MODEL_GATEWAY_LOG_FORMAT": "json"}
    assert log_settings(args, env) == LogSettings(level="WARNING", format="json")


@pytest.mark.parametrize("command", ["", *SUBCOMMANDS])
def test_help_has_no_raw_markup(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--help text holds no reStructuredText backquotes or roles."""
    with pytest.raises(SystemExit):
        main([command, "--help"] if command else ["--help"])
    shown = capsys.readouterr().out
    assert "usage: model-gateway" in shown
    assert "`" not in shown
    assert ":class:" not in shown
    assert ":func:" not in shown


@pytest.fixture
def root_logger() -> Iterator[None]:
    """main() configures the root logger; put it back as pytest had it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("root_logger")
@pytest.mark.parametrize(("argv", "named"), [
    (["dev", "--image", "Not An Image", "--gpus", "-1"], ["--image", "--gpus"]),
    (["localcluster", "--image-catalog", "/nonexistent/images.txt"], ["--image-catalog"]),
    (["proxy", "--workers", "0"], ["--workers"]),
])
def test_bad_flags_stop_before_anything_starts(
        argv: list[str], named: list[str], capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    """Exit 2 with every bad flag named; nothing is started."""
    assert main([*argv, *(["--state-dir", str(tmp_path)] if argv[0] == "dev" else [])]) == 2
    shown = capsys.readouterr().err
    for flag in named:
        assert f"{flag}:" in shown
