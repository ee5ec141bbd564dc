"""Lines the reliability suite records, printed after the run by conftest.pytest_terminal_summary.

(A module of its own: pytest loads conftest.py under another name than `tests.conftest`.)
"""

RELIABILITY_TALLY: list[str] = []
