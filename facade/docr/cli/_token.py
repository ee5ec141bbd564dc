"""Where the command line finds the API token: the environment, then doctl's config file.

Order, first found wins:

1. ``--context NAME``: that context of doctl's config file, and nothing else (asked for by name);
2. ``DIGITALOCEAN_TOKEN``, then ``DIGITALOCEAN_ACCESS_TOKEN``;
3. doctl's config file (``$XDG_CONFIG_HOME/doctl/config.yaml``, by default
   ``~/.config/doctl/config.yaml``): the context named by ``DIGITALOCEAN_CONTEXT``, else by the
   file's ``context:`` key, else ``default``. The ``default`` context's token is the top-level
   ``access-token``; any other is ``auth-contexts: {NAME: TOKEN}``.

There is deliberately no ``--token`` flag: a token on the command line lands in shell history
and in ``ps``. No message here ever includes a token or the config file's content (a YAML
error's excerpt of the file could).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ENV_VARS", "Token", "TokenError", "doctl_config_paths", "find_token"]

ENV_VARS = ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN")
DEFAULT_CONTEXT = "default"


class TokenError(Exception):
    """A token source was asked for (or configured) but cannot give a token; a usage error."""


@dataclass(frozen=True)
class Token:
    """A token and where it came from (``source`` is safe to print; ``value`` never is)."""

    value: str = field(repr=False)
    source: str

    def __str__(self) -> str:
        return f"<token from {self.source}>"


def doctl_config_paths(environ: Mapping[str, str]) -> list[Path]:
    """Where doctl keeps its config, most specific first."""
    xdg = environ.get("XDG_CONFIG_HOME")
    if xdg:
        return [Path(xdg) / "doctl" / "config.yaml"]
    home = Path(environ.get("HOME") or Path.home())
    paths = [home / ".config" / "doctl" / "config.yaml"]
    if sys.platform == "darwin":  # Go's os.UserConfigDir() there
        paths.insert(0, home / "Library" / "Application Support" / "doctl" / "config.yaml")
    return paths


def find_token(context: str | None = None, environ: Mapping[str, str] | None = None) -> Token | None:
    """The token to use, or ``None`` when no source has one. Raises ``TokenError`` when a
    context is named (by flag, environment or config file) but has no token."""
    env = os.environ if environ is None else environ
    if context is None:
        for name in ENV_VARS:
            value = env.get(name, "").strip()
            if value:
                return Token(value, name)
    path = next((p for p in doctl_config_paths(env) if p.is_file()), None)
    if path is None:
        if context is not None:
            raise TokenError(f"--context {context}: no doctl config file at {doctl_config_paths(env)[0]}")
        return None
    config = _load(path)
    if context is not None:
        return _context_token(config, context, path, origin="--context")
    if env.get("DIGITALOCEAN_CONTEXT"):
        return _context_token(config, env["DIGITALOCEAN_CONTEXT"], path, origin="DIGITALOCEAN_CONTEXT")
    current = config.get("context")
    if isinstance(current, str) and current and current != DEFAULT_CONTEXT:
        return _context_token(config, current, path, origin=f"the 'context' key of {path}")
    token = _text(config.get("access-token"))
    return Token(token, f"{path} (context {DEFAULT_CONTEXT})") if token else None


def _load(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TokenError(f"cannot read doctl config {path}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError):
        raise TokenError(f"doctl config {path} is not valid YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TokenError(f"doctl config {path} is not a YAML mapping")
    return data


def _context_token(config: Mapping[str, Any], name: str, path: Path, *, origin: str) -> Token:
    if name == DEFAULT_CONTEXT:
        token = _text(config.get("access-token"))
    else:
        contexts = config.get("auth-contexts")
        token = _text(contexts.get(name)) if isinstance(contexts, dict) else None
    if not token:
        known = _context_names(config)
        hint = f"; contexts there: {', '.join(known)}" if known else ""
        raise TokenError(f"doctl context {name!r} (from {origin}) has no token in {path}{hint}")
    return Token(token, f"{path} (context {name})")


def _context_names(config: Mapping[str, Any]) -> list[str]:
    names = [DEFAULT_CONTEXT] if _text(config.get("access-token")) else []
    contexts = config.get("auth-contexts")
    if isinstance(contexts, dict):
        names += sorted(str(name) for name, token in contexts.items() if _text(token))
    return names


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
