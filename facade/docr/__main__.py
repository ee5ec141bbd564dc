"""``python -m docr``: the same as the ``docr`` command."""

from docr.cli import main

raise SystemExit(main())
