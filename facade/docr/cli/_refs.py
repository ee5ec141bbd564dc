"""The names a command is given, checked before anything else (before the token is looked up,
before any request): a bad name is more useful to hear than a missing token.

The shape comes from ``_args``; the names themselves are checked by ``docr._names``, the rules
the client enforces (registry and repository names, and the OCI grammar for digests and tags).
Each failure is a usage error (exit 2) on one line.

Usage, first thing in a command's ``run``::

    registry = registry_arg(args.registry)          # "example"
    ref = repository_arg(args.ref)                  # RepositoryRef("example", "my/repo")
    image = image_arg(args.ref)                     # ImageRef(..., digest=..., tag=...)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from docr.cli._args import ImageRef, RepositoryRef, parse_image_ref, parse_ref, parse_registry
from docr.cli._errors import UsageError, explain

__all__ = ["image_arg", "registry_arg", "repository_arg"]

T = TypeVar("T")


def registry_arg(text: str) -> str:
    from docr import _names

    name = _parsed(parse_registry, text)
    _checked(lambda: _names.registry_name(name), name)
    return name


def repository_arg(text: str) -> RepositoryRef:
    from docr import _names

    ref = _parsed(parse_ref, text)
    _checked(lambda: (_names.registry_name(ref.registry), _names.repository_name(ref.repository)), str(ref))
    return ref


def image_arg(text: str) -> ImageRef:
    from docr import _names

    image = _parsed(parse_image_ref, text)
    repository = image.repository
    _checked(lambda: (_names.registry_name(repository.registry), _names.repository_name(repository.repository)), text)
    if image.digest is not None:
        _checked(lambda: _names.digest(image.digest), text)
    if image.tag is not None:
        _checked(lambda: _names.tag(image.tag), text)
    return image


def _parsed(parse: Callable[[str], T], text: str) -> T:
    try:
        return parse(text)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _checked(check: Callable[[], object], target: str) -> None:
    from docr._errors import DocrError

    try:
        check()
    except DocrError as error:
        raise explain(error, target=target) from None
