"""Every ``docr`` command, in one place: its name, one line of help, and the module that does it.

A command's module is imported only when that command runs or its ``--help`` is asked for, so
``docr --help`` imports none of them. Each module provides::

    DESCRIPTION: str                                    # what `docr NAME --help` says first
    EPILOG: str                                         # notes and examples after the options
    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...       # the exit code; CommandError for failures

To add a command, write ``docr/cli/_NAME.py`` with those four (the shared options are in
``_options``) and add one ``Command`` to ``COMMANDS``.
"""

from __future__ import annotations

import importlib
import importlib.util

# Neither typing nor dataclasses at run time: `docr --help` imports this module, and each of them
# costs about as much as argparse (typing ~5 ms, dataclasses with inspect ~8 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Protocol

    class CommandModule(Protocol):
        DESCRIPTION: str
        EPILOG: str

        def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...
        def run(self, args: argparse.Namespace) -> int: ...


__all__ = ["COMMANDS", "EXTRA_MESSAGE", "EXTRA_MODULES", "Command", "CommandModule", "extra_installed"]

# The 'cli' extra: rich draws tables and progress bars, PyYAML reads doctl's config.
EXTRA_MODULES = ("rich", "yaml")
EXTRA_MESSAGE = "the command line needs the 'cli' extra: pip install 'docr[cli]'"


class Command:
    """One command. ``needs_extra``: it cannot run without ``EXTRA_MODULES``."""

    __slots__ = ("help", "module", "name", "needs_extra")

    def __init__(self, name: str, help: str, module: str, *, needs_extra: bool = True) -> None:
        self.name = name
        self.help = help
        self.module = module
        self.needs_extra = needs_extra

    def __repr__(self) -> str:
        return f"Command({self.name!r}, module={self.module!r})"

    def load(self) -> CommandModule:
        return importlib.import_module(self.module)


COMMANDS: dict[str, Command] = {
    command.name: command
    for command in (
        Command("manifests", "list the manifests of a repository", "docr.cli._manifests"),
        Command("repos", "list the repositories of a registry", "docr.cli._repos"),
        Command("tags", "list the tags of a repository", "docr.cli._tags"),
        Command("delete", "delete a manifest (with its tags) or a tag", "docr.cli._delete"),
        Command("gc", "start, watch, list or cancel garbage collections", "docr.cli._gc"),
        Command("registry", "show a registry's storage against the plan's", "docr.cli._registry"),
        Command("prune", "delete what a retention policy does not keep (a dry run unless --apply)", "docr.cli._prune"),
        Command("usage", "show where a registry's storage goes, repository by repository", "docr.cli._usage"),
        Command(
            "fake-server",
            "serve a local fake of the DigitalOcean registry API (for tests and demos)",
            "docr.cli._fake_server",
            needs_extra=False,
        ),
    )
}


def extra_installed() -> bool:
    """Whether every module of the 'cli' extra can be imported (found, not imported: cheap)."""
    return all(_found(name) for name in EXTRA_MODULES)


def _found(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
