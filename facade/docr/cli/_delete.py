"""``docr delete REF@DIGEST`` and ``docr delete REF:TAG``: show what goes, ask, delete.

The steps, in order: parse and validate REF, its digest or tag (the OCI grammar), and refuse
when nobody can confirm (no terminal, no ``--yes``): all before the token is looked up or any
request is sent. Then read the listing to show what goes (for a manifest: the tags that go with
it; for a tag: the manifest it names, which stays), ask on the terminal unless ``--yes``, and
delete. The plan and the question go to stderr (seen even when stdout is piped), the result to
stdout.

The listing cannot tell an untagged manifest that is garbage from the platform or attestation
manifest of a multi-arch image: deleting one of those breaks the image. Deleting an untagged
manifest is allowed with a warning; ``docr prune`` reads the image indexes before it deletes.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from docr.cli import _client, _filters
from docr.cli._args import DOCR_HOST, ImageRef
from docr.cli._errors import EXIT_OK, CommandError, warn
from docr.cli._humanize import human_age, human_size
from docr.cli._options import add_api_options
from docr.cli._prompt import confirm, require_confirmation_source
from docr.cli._refs import image_arg
from docr.cli._sanitize import LINE_LIMIT, one_line

if TYPE_CHECKING:
    import datetime as dt

    import docr

__all__ = ["DESCRIPTION", "EPILOG", "add_arguments", "run"]

DESCRIPTION = "Delete a manifest (its tags go with it) or a tag (its manifest stays), after showing what goes."
EPILOG = f"""\
REF is [{DOCR_HOST}/]REGISTRY/REPOSITORY.
With @sha256:... the manifest goes, with every tag naming it; with :TAG only the tag goes, and
its manifest stays (untagged, if that was its last tag, until a garbage collection of untagged
manifests). The space is freed by a garbage collection: `docr gc start REGISTRY`.

On a terminal docr asks before deleting; --yes skips the question (scripts). Without a terminal
and without --yes it refuses. An untagged manifest may belong to a multi-arch image, which the
listing cannot tell: docr warns, and `docr prune` checks image indexes before deleting.

The token comes from DIGITALOCEAN_TOKEN, then DIGITALOCEAN_ACCESS_TOKEN, then doctl's config
file (the current context, or the one --context names). There is no --token flag.

Exit codes: 0 deleted, 1 API or network error, not found, or not confirmed, 2 usage error (bad
reference, no token, no terminal without --yes), 130 interrupted.

examples:
  docr delete example/tools/migrate@sha256:<64 hex digits>
  docr delete {DOCR_HOST}/example/web/frontend:main
  docr delete example/web/frontend:pr-118 --yes
"""

MULTI_ARCH_WARNING = (
    "an untagged manifest may be the platform or attestation manifest of a multi-arch image, which"
    " the listing cannot tell; deleting one breaks that image (`docr prune` checks image indexes first)"
)


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "ref", metavar="REF@DIGEST|REF:TAG", help=f"[{DOCR_HOST}/]REGISTRY/REPOSITORY@sha256:... or ...:TAG"
    )
    cmd.add_argument("-y", "--yes", action="store_true", help="delete without asking (for scripts)")
    add_api_options(
        cmd,
        items="manifests",
        paged=False,
        demo_help="delete from an embedded fake registry holding sample data (no token needed)",
    )


def run(args: argparse.Namespace) -> int:
    from docr.cli._demo import demo_registry

    image = image_arg(args.ref)
    _client.check_demo(args)
    stdin, stdout, stderr = sys.stdin, sys.stdout, sys.stderr
    require_confirmation_source(args.yes, stdin)
    ref = image.repository
    clock = _filters.now()
    with contextlib.ExitStack() as stack:
        connection = _client.connect(args, stack, stderr, demo=lambda: demo_registry(ref, now=clock))
        with _client.api_errors(connection, target=str(ref)):
            client = _client.open_client(args, stack, connection)
            if image.digest is not None:
                done = _manifest_plan(client, image, clock, stderr)
            else:
                done = _tag_plan(client, image, clock, stderr)
        if not args.yes and not confirm(f"Delete {image}?", stdin, stderr):
            raise CommandError("nothing deleted")
        with _delete_errors(connection, image):
            if image.digest is not None:
                client.delete_manifest(ref.registry, ref.repository, image.digest)
            else:
                assert image.tag is not None
                client.delete_tag(ref.registry, ref.repository, image.tag)
        demo = " (demo: in the embedded fake registry only)" if args.demo else ""
        print(one_line(f"deleted {done}{demo}", LINE_LIMIT), file=stdout)
    return EXIT_OK


def _manifest_plan(client: docr.Client, image: ImageRef, now: dt.datetime, stderr: TextIO) -> str:
    """Show the manifest and the tags that go with it; return what the result line says."""
    ref = image.repository
    with client.iter_manifests(ref.registry, ref.repository) as listing:
        manifest = next((m for m in listing if m.digest == image.digest), None)
    if manifest is None:
        raise CommandError(f"manifest {image} not found: the listing of {ref} does not have it")
    tags = ", ".join(manifest.tags)
    _plan(
        stderr,
        f"Delete manifest {image}",
        f"pushed {human_age(manifest.updated_at, now)}, {human_size(manifest.compressed_size_bytes)} compressed",
        f"its tags go with it: {tags}" if tags else "it has no tags",
    )
    if not tags:
        warn(MULTI_ARCH_WARNING, stderr)
        return f"manifest {image}"
    return f"manifest {image} and its tags {tags}"


def _tag_plan(client: docr.Client, image: ImageRef, now: dt.datetime, stderr: TextIO) -> str:
    """Show the tag, its manifest and what stays of it; return what the result line says."""
    ref = image.repository
    tags = list(client.iter_tags(ref.registry, ref.repository))
    found = next((tag for tag in tags if tag.tag == image.tag), None)
    if found is None:
        raise CommandError(f"tag {image} not found: the listing of {ref} does not have it")
    others = ", ".join(
        tag.tag or "" for tag in tags if tag.manifest_digest == found.manifest_digest and tag is not found
    )
    _plan(
        stderr,
        f"Delete tag {image}",
        f"of manifest {found.manifest_digest} (pushed {human_age(found.updated_at, now)})",
        f"the manifest stays, tagged {others}"
        if others
        else "the manifest stays, untagged: this is its last tag"
        " (a garbage collection of untagged manifests would delete it)",
    )
    return f"tag {image}"


def _plan(stderr: TextIO, headline: str, *details: str) -> None:
    """What goes, on stderr: a headline, then indented details (each one safe line)."""
    print(one_line(headline, LINE_LIMIT), file=stderr)
    for detail in details:
        print("  " + one_line(detail, LINE_LIMIT), file=stderr)
    stderr.flush()


@contextlib.contextmanager
def _delete_errors(connection: _client.Connection, image: ImageRef) -> Iterator[None]:
    """API errors of the DELETE: a 404 names the manifest or tag; a 409 (a garbage collection
    makes the registry read-only) says what to do."""
    from docr._errors import ConflictError

    what = "manifest" if image.digest is not None else "tag"
    try:
        with _client.api_errors(connection, target=str(image), what=what, needs="the registry:delete scope"):
            yield
    except CommandError as error:
        if isinstance(error.__cause__, ConflictError):
            registry = image.repository.registry
            raise CommandError(f"{error.message}; wait for it (`docr gc wait {registry}`), then retry") from error
        raise
