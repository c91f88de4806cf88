"""`sheetsync plugins`: list installed plugins, the hooks they implement and the options they add."""

from __future__ import annotations

import argparse

from sheetsync.cli._common import add_command

DESCRIPTION = """\
List the plugins sheetsync finds: built-in ones, installed packages that
register in the entry-point group `sheetsync`, and any given with -p; for
each, where it comes from, the hooks it implements and the options it adds
to `sheetsync follow`.
"""


def register(subparsers, manager) -> None:
    parser = add_command(subparsers, "plugins", "list installed plugins", DESCRIPTION)
    parser.add_argument("-p", "--plugin", action="append", default=[], metavar="MODULE|FILE.py",
                        help="also load this plugin (repeatable)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from sheetsync.cli import current_plugin_manager

    manager = current_plugin_manager()
    origins = {id(plugin): f"{dist.project_name} {dist.version}" for plugin, dist in manager.list_plugin_distinfo()}
    for name, plugin in manager.list_name_plugin():
        hooks = sorted(caller.name for caller in manager.get_hookcallers(plugin) or [])
        origin = origins.get(id(plugin), "built in" if name in ("jsonl", "status") else "command line")
        print(f"{name}  ({origin})")
        print(f"    hooks: {', '.join(h.removeprefix('sheetsync_') for h in hooks)}")
        options = _options(plugin)
        if options:
            print(f"    options: {', '.join(options)}")
    return 0


def _options(plugin) -> list[str]:
    addoption = getattr(plugin, "sheetsync_addoption", None)
    if addoption is None:
        return []
    parser = argparse.ArgumentParser(add_help=False)
    addoption(parser=parser)
    return [" ".join(action.option_strings) for action in parser._actions]
