"""``python -m docr``: the same as the ``docr`` command."""

from docr._cli import main

raise SystemExit(main())
