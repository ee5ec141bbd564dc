"""Validation of names and paging arguments, before any request is sent.

The generated client quotes each path parameter once with ``quote(..., safe="")``, so a
valid ``my/repo`` travels as ``my%2Frepo``. What it cannot do is refuse names that change
*which* resource is asked for: ``..`` passes through quoting untouched and httpx then drops
path segments, and a pre-encoded ``my%2Frepo`` would go out double-encoded. So every name is
checked here against the rules of the service:

- registry names as DigitalOcean defines them: lowercase letters, digits and ``-``, at most
  63 characters;
- repository names by the OCI distribution grammar: lowercase path components of
  ``[a-z0-9]`` runs joined by ``.``, ``_``, ``__`` or dashes, separated by single ``/``.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from docr._errors import InvalidArgument

MAX_PER_PAGE = 200
MAX_REPOSITORY_LENGTH = 255  # the OCI distribution spec's practical limit, enforced by registries

_REGISTRY = re.compile(r"[a-z0-9-]{1,63}")
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")


def _common_checks(argument: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(argument, f"must be a str, not {type(value).__name__}")
    if not value:
        raise InvalidArgument(argument, "must not be empty")
    if "%" in value:
        plain = unquote(value)
        hint = f" {plain!r}" if plain != value else ""
        raise InvalidArgument(
            argument,
            f"{value!r} looks URL-encoded ('%'); pass the plain name{hint}: docr encodes it for you",
        )
    for char in value:
        if char.isspace():
            raise InvalidArgument(argument, f"{value!r} contains whitespace")
        if unicodedata.category(char).startswith("C"):
            raise InvalidArgument(argument, f"{value!r} contains a control character")
        if not char.isascii():
            raise InvalidArgument(argument, f"{value!r} contains a non-ASCII character {char!r}")
    if value != value.lower():
        raise InvalidArgument(argument, f"{value!r} must be lowercase")
    return value


def registry_name(value: object, argument: str = "registry_name") -> str:
    """Return ``value`` if it is a valid DigitalOcean registry name, else raise InvalidArgument."""
    name = _common_checks(argument, value)
    if "/" in name:
        raise InvalidArgument(
            argument, f"{name!r} contains '/': a registry name is one word, the rest belongs to the repository"
        )
    if not _REGISTRY.fullmatch(name):
        raise InvalidArgument(argument, f"{name!r} must be 1-63 lowercase letters, digits or '-'")
    return name


def repository_name(value: object, argument: str = "repository_name") -> str:
    """Return ``value`` if it is a valid OCI repository name (``my/repo``), else raise InvalidArgument."""
    name = _common_checks(argument, value)
    if len(name) > MAX_REPOSITORY_LENGTH:
        raise InvalidArgument(argument, f"is {len(name)} characters long; the limit is {MAX_REPOSITORY_LENGTH}")
    if name.startswith("/") or name.endswith("/"):
        raise InvalidArgument(argument, f"{name!r} must not start or end with '/'")
    if "//" in name:
        raise InvalidArgument(argument, f"{name!r} contains an empty path component ('//')")
    for component in name.split("/"):
        if component in (".", ".."):
            raise InvalidArgument(argument, f"{name!r} contains a {component!r} path component")
        if not _COMPONENT.fullmatch(component):
            raise InvalidArgument(
                argument,
                f"{name!r}: component {component!r} must be lowercase letters and digits,"
                " joined by '.', '_', '__' or dashes",
            )
    return name


def _integer(argument: str, value: object) -> int:
    # bool is an int subclass; page=True is a bug, not page 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(argument, f"must be an int, not {type(value).__name__}")
    return value


def per_page(value: object) -> int:
    number = _integer("per_page", value)
    if not 1 <= number <= MAX_PER_PAGE:
        raise InvalidArgument("per_page", f"must be from 1 to {MAX_PER_PAGE}, not {number}")
    return number


def page(value: object, argument: str = "page") -> int:
    number = _integer(argument, value)
    if number < 1:
        raise InvalidArgument(argument, f"must be 1 or more, not {number}")
    return number


def max_items(value: object) -> int | None:
    if value is None:
        return None
    number = _integer("max_items", value)
    if number < 0:
        raise InvalidArgument("max_items", f"must be 0 or more (or None for all), not {number}")
    return number


# Digests and tags, for the registry's manifest paths (``/v2/<name>/manifests/<reference>``).
# A digest is ``algorithm:encoded`` by the OCI image spec's grammar; docr accepts the two
# algorithms registries use (sha256, sha512), each as lowercase hex of its exact length, because
# a digest is also what docr hashes a manifest body with to check it.
_DIGEST = re.compile(r"([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)")
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_LOWER_HEX = re.compile(r"[0-9a-f]+")  # a regex, not a loop over characters: planners check every digest
_TAG = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")


def _short(value: str, limit: int = 80) -> str:
    # Long garbage is quoted by its start: an error message must stay one readable line.
    return repr(value) if len(value) <= limit else repr(value[:limit]) + "..."


def digest(value: object, argument: str = "digest") -> str:
    """Return ``value`` if it is a sha256 or sha512 digest (``sha256:<64 lowercase hex>``), else raise
    InvalidArgument.

    >>> digest("sha256:" + "a" * 64) == "sha256:" + "a" * 64
    True
    """
    if not isinstance(value, str):
        raise InvalidArgument(argument, f"must be a str, not {type(value).__name__}")
    if not value:
        raise InvalidArgument(argument, "must not be empty")
    match = _DIGEST.fullmatch(value)
    if match is None:
        raise InvalidArgument(
            argument, f"{_short(value)} is not a digest: expected ALGORITHM:HEX, e.g. sha256:<64 lowercase hex digits>"
        )
    algorithm, encoded = match.groups()
    length = _DIGEST_HEX_LENGTH.get(algorithm)
    if length is None:
        raise InvalidArgument(
            argument, f"{_short(value)} uses the algorithm {algorithm!r}; docr accepts sha256 and sha512 digests only"
        )
    if len(encoded) != length or not _LOWER_HEX.fullmatch(encoded):
        raise InvalidArgument(
            argument, f"{_short(value)}: a {algorithm} digest is {length} lowercase hex digits after '{algorithm}:'"
        )
    return value


def tag(value: object, argument: str = "tag") -> str:
    """Return ``value`` if it is a valid tag (``[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}``), else raise InvalidArgument."""
    if not isinstance(value, str):
        raise InvalidArgument(argument, f"must be a str, not {type(value).__name__}")
    if not value:
        raise InvalidArgument(argument, "must not be empty")
    if len(value) > 128:
        raise InvalidArgument(argument, f"{_short(value)} is {len(value)} characters long; the limit is 128")
    if not _TAG.fullmatch(value):
        raise InvalidArgument(
            argument,
            f"{_short(value)} must start with a letter, digit or '_' and contain only letters, digits, '.', '_' or '-'",
        )
    return value
