"""The ``docr`` command line.

Usage::

    from docr.cli import main

    raise SystemExit(main(["manifests", "example/my/repo", "--demo", "-q"]))
"""

from docr.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
