"""`python -m docr.testing` (and `docr fake-server`): serve a fake registry until Ctrl-C.

    python -m docr.testing --port 8080 --manifests 500 --registry example --repository my/repo --seed 1
    python -m docr.testing --demo --manifests 0      # the seeded demo registry (see docr.testing._demo)

prints one line with its URLs (the DO API's, then the registry API's) to stderr and serves until
interrupted. Ctrl-C (SIGINT) or SIGTERM
stop it cleanly (open connections closed, threads joined) and the command exits 0: stopping is
how a server's run normally ends, not an error. A port already in use exits 1 with a message.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from docr.testing._fake import FakeRegistry

__all__ = ["add_arguments", "main", "run"]

_SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


def _bounded(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an int within [low, high], else a usage error naming the range."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
            raise argparse.ArgumentTypeError(f"{value} is out of range: must be {bounds}")
        return value

    return parse


def _latency(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text} must be 0 or more seconds")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the fake server's options to `parser` (for `python -m docr.testing` and `docr fake-server`)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--port", type=_bounded(0, 65535), default=8080, help="port to bind, 0 for any free one (default: %(default)s)"
    )
    parser.add_argument(
        "--manifests", type=_bounded(0), default=500, help="manifests to generate (default: %(default)s)"
    )
    parser.add_argument("--registry", default="example", help="registry name (default: %(default)s)")
    parser.add_argument("--repository", default="my/repo", help="repository name (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated manifests (default: %(default)s)")
    parser.add_argument("--latency", type=_latency, default=0.0, help="seconds added to each request (default: 0)")
    parser.add_argument("--token", default=None, help="accept only this bearer token (default: any non-empty one)")
    parser.add_argument(
        "--oci-port", type=_bounded(0, 65535), default=0, help="port of the registry API (default: any free one)"
    )
    parser.add_argument(
        "--demo", action="store_true", help="also fill the registry with the demo mix of multi-arch images"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """The whole `python -m docr.testing` command."""
    parser = argparse.ArgumentParser(
        prog="python -m docr.testing", description="Serve a local fake of DOCR's API and registry."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status (0, or 1 when it cannot start)."""
    fake = FakeRegistry(host=args.host, port=args.port, oci_port=args.oci_port, latency=args.latency, token=args.token)
    if args.manifests or not args.demo:
        fake.generate(args.registry, args.repository, count=args.manifests, seed=args.seed)
    if args.demo:
        fake.seed_demo(args.registry)
    try:
        fake.start()
    except OSError as error:
        where = f"{args.host}:{args.port} (registry API: port {args.oci_port})"
        print(f"docr fake registry: cannot listen on {where}: {error}", file=sys.stderr)
        return 1
    stop = threading.Event()
    previous = _on_sigterm(stop)
    try:
        serving = f"{args.manifests} manifests of {args.registry}/{args.repository}"
        if args.demo:
            serving = f"the demo registry {args.registry}" + (f" and {serving}" if args.manifests else "")
        print(
            f"docr fake registry serving {serving} on {fake.url} (registry API on {fake.oci_url}; Ctrl-C to stop)",
            file=sys.stderr,
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how this is meant to end
            stop.wait()
    finally:
        fake.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _on_sigterm(stop: threading.Event) -> _SignalHandler:
    # Signal handlers can only be set from the main thread; elsewhere Ctrl-C is the caller's affair.
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    return signal.signal(signal.SIGTERM, handler)
