"""The command line's value parsers: registry, repository and image references, durations, numbers.

Each raises ``ValueError`` with a message meant for the user; ``argparse`` turns those raised by
a ``type=`` function into a usage error (exit 2). Standard library only at import, so ``docr
--help`` stays fast (durations import ``docr.retention``'s parser when one is parsed).
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import NamedTuple

__all__ = [
    "DOCR_HOST",
    "ImageRef",
    "RepositoryRef",
    "duration",
    "parse_image_ref",
    "parse_ref",
    "parse_registry",
    "per_page",
    "positive_int",
    "seconds",
]

DOCR_HOST = "registry.digitalocean.com"


class RepositoryRef(NamedTuple):
    """``registry.digitalocean.com/example/my/repo`` as ``("example", "my/repo")``."""

    registry: str
    repository: str

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}"


class ImageRef(NamedTuple):
    """``example/my/repo@sha256:...`` or ``example/my/repo:v1``: one of ``digest`` and ``tag`` is set."""

    repository: RepositoryRef
    digest: str | None = None
    tag: str | None = None

    def __str__(self) -> str:
        return f"{self.repository}@{self.digest}" if self.digest is not None else f"{self.repository}:{self.tag}"


def parse_registry(text: str) -> str:
    """``[registry.digitalocean.com/]REGISTRY`` as ``REGISTRY`` (its name is checked by the client)."""
    name = text.strip().removeprefix(f"{DOCR_HOST}/").rstrip("/")
    if not name:
        raise ValueError("the registry name is empty; expected REGISTRY, e.g. example")
    if "://" in name:
        raise ValueError(f"{text!r} is a URL; pass the registry's name, e.g. example")
    if "/" in name:
        raise ValueError(f"{text!r} is more than a registry: pass its name alone, e.g. {name.partition('/')[0]}")
    return name


def parse_image_ref(text: str) -> ImageRef:
    """Split ``[registry.digitalocean.com/]REGISTRY/REPOSITORY@DIGEST`` or ``...:TAG``.

    Only the shape is checked here; the digest and tag are validated by the OCI grammar
    (``docr._names``) before any request.

    >>> parse_image_ref("example/my/repo:v1")
    ImageRef(repository=RepositoryRef(registry='example', repository='my/repo'), digest=None, tag='v1')
    """
    ref = text.strip()
    repo, at, digest = ref.partition("@")
    last_slash = repo.rfind("/")
    colon = repo.find(":", last_slash + 1)
    if at and colon != -1:
        raise ValueError(f"{text!r} names both a tag and a digest; pass one: {repo[:colon]}@{digest}")
    if not at and colon == -1:
        raise ValueError(f"{text!r} names no manifest or tag: pass REGISTRY/REPOSITORY@sha256:... or ...:TAG")
    if not at:
        repo, digest = repo[:colon], ""
    tag = None if at else ref[colon + 1 :]
    if tag == "" or (at and not digest):
        raise ValueError(f"{text!r} ends with {'@' if at else ':'} and nothing after it")
    return ImageRef(parse_ref(repo), digest or None, tag)


def parse_ref(text: str) -> RepositoryRef:
    """Split ``[registry.digitalocean.com/]REGISTRY/REPOSITORY`` into its two names.

    Only the shape is checked here; the names themselves are validated by the client, which
    knows the service's rules. A tag or digest is refused rather than dropped: the command
    lists a whole repository, and silently ignoring ``:v1`` would look like a filter.

    >>> parse_ref("registry.digitalocean.com/example/my/repo")
    RepositoryRef(registry='example', repository='my/repo')
    """
    ref = text.strip()
    if not ref:
        raise ValueError("the repository reference is empty; expected REGISTRY/REPOSITORY, e.g. example/my/repo")
    if "://" in ref:
        raise ValueError(f"{text!r} is a URL; pass the image reference without a scheme, e.g. {DOCR_HOST}/example/repo")
    head, sep, rest = ref.partition("/")
    if head == DOCR_HOST:
        ref = rest
    elif sep and ("." in head or ":" in head or head == "localhost"):
        raise ValueError(f"{text!r} is not in DigitalOcean Container Registry ({DOCR_HOST}); docr lists DOCR only")
    if "@" in ref:
        repo, _, digest = ref.partition("@")
        raise ValueError(f"{text!r} names a digest (@{digest}); docr lists a whole repository: pass {_plain(repo)}")
    last_slash = ref.rfind("/")
    colon = ref.find(":", last_slash + 1)
    if colon != -1:
        repo, tag = ref[:colon], ref[colon + 1 :]
        raise ValueError(
            f"{text!r} names a tag (:{tag}); docr lists a whole repository: pass {_plain(repo)}"
            f" (add --tag {tag!r} to show only that tag)"
        )
    registry, sep, repository = ref.partition("/")
    if not sep or not registry or not repository:
        raise ValueError(f"{text!r} needs a registry and a repository: REGISTRY/REPOSITORY, e.g. example/my/repo")
    return RepositoryRef(registry, repository)


def _plain(repo: str) -> str:
    return repo.removeprefix(f"{DOCR_HOST}/")


def duration(text: str) -> dt.timedelta:
    """``"30d"`` as 30 days; units ``s m h d w``, combinable as in ``"1d12h"`` (``docr.retention``'s grammar)."""
    # Imported here, not at the top: `docr --help` must not load the retention package.
    from docr.retention._duration import parse_duration

    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive_int(text: str) -> int:
    """An integer of 1 or more (for ``--limit``)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}: expected a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


def per_page(text: str) -> int:
    """``--per-page``: 1 to 200, the API's bounds."""
    number = positive_int(text)
    if number > 200:
        raise argparse.ArgumentTypeError(f"must be from 1 to 200 (the API's maximum), not {number}")
    return number


def seconds(text: str) -> float:
    """A number of seconds greater than 0 (``--poll``, ``--timeout``): ``10``, ``0.5``."""
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds {text!r}: expected e.g. 10 or 0.5") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds greater than 0, not {text}")
    return number
