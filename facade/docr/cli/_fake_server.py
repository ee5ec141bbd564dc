"""``docr fake-server``: serve a local fake of the DigitalOcean registry API until Ctrl-C.

The server and its options are ``docr.testing``'s (``python -m docr.testing`` is the same
command); this module only plugs them into ``docr``. It handles SIGINT and SIGTERM itself
and needs none of the command line's extra dependencies.
"""

from __future__ import annotations

import argparse

__all__ = ["DESCRIPTION", "EPILOG", "add_arguments", "run"]

DESCRIPTION = "Serve a local fake of the DigitalOcean registry API until Ctrl-C."
EPILOG = """\
examples:
  docr fake-server --port 8080 --manifests 500
  DIGITALOCEAN_TOKEN=any docr manifests example/my/repo --api-url http://127.0.0.1:8080
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from docr.testing._serve import add_arguments as add_server_arguments

    add_server_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from docr.testing._serve import run as serve

    return serve(args)
