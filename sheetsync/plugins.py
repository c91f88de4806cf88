"""Finding plugins and calling them so that a failing one never stops a performance.

Plugins come from the entry-point group `sheetsync` (installed packages),
from `-p MODULE|FILE.py` on the command line, and from sheetsync itself (the
built-in JSONL writer and status line are plugins too). pluggy stops at the
first implementation that raises, so the hot-path hooks are called one
implementation at a time: a failure is logged once with the plugin's name,
and a plugin that keeps failing is switched off.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from pathlib import Path

import pluggy

from sheetsync import hookspecs
from sheetsync.errors import SheetsyncError

log = logging.getLogger(__name__)
BUILTIN = ("sheetsync.outputs.jsonl", "sheetsync.outputs.status")
MAX_FAILURES = 3


def plugin_manager(extra: list[str] = (), entry_points: bool = True) -> pluggy.PluginManager:
    """A plugin manager with the hook specs, the built-in plugins, installed plugins and `extra` ones."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for name in BUILTIN:
        manager.register(importlib.import_module(name), name=name.rsplit(".", 1)[-1])
    if entry_points:
        manager.load_setuptools_entrypoints(hookspecs.PROJECT)
    for spec in extra:
        manager.register(load_plugin(spec), name=spec)
    return manager


def load_plugin(spec: str):
    """A plugin module from a .py file path or an importable module name."""
    path = Path(spec)
    if spec.endswith(".py"):
        if not path.is_file():
            raise SheetsyncError(f"plugin file '{spec}' does not exist")
        module_spec = importlib.util.spec_from_file_location(f"sheetsync_user_plugin_{path.stem}", path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_spec.name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as error:
            raise SheetsyncError(f"plugin '{spec}' failed to load: {type(error).__name__}: {error}") from error
        return module
    try:
        return importlib.import_module(spec)
    except ImportError as error:
        raise SheetsyncError(f"cannot import plugin module '{spec}': {error}") from error


class HookCaller:
    """Calls one hook implementation at a time, isolating and counting failures."""

    def __init__(self, manager: pluggy.PluginManager):
        self.manager = manager
        self.failures: dict[str, int] = {}

    def call(self, hook_name: str, **kwargs) -> None:
        hook = getattr(self.manager.hook, hook_name)
        for impl in hook.get_hookimpls():
            if self.manager.is_blocked(impl.plugin_name):
                continue
            try:
                impl.function(**{name: kwargs[name] for name in impl.argnames})
            except Exception as error:  # a plugin's bug must not stop the performance
                self._failed(impl.plugin_name, hook_name, error)

    def _failed(self, plugin: str, hook_name: str, error: Exception) -> None:
        count = self.failures.get(plugin, 0) + 1
        self.failures[plugin] = count
        if count == 1:
            log.error("plugin %s failed in %s: %s: %s", plugin, hook_name, type(error).__name__, error)
        if count >= MAX_FAILURES:
            log.error("plugin %s failed %d times; switching it off", plugin, count)
            self.manager.set_blocked(plugin)
