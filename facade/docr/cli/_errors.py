"""The command line's errors: one line for the user and an exit code.

Exit codes: 0 success, 1 the API or the network failed, 2 a usage error (bad flag, bad name,
no token), 130 interrupted (Ctrl-C). ``explain`` turns docr's exceptions into messages such as
``repository example/my/repo not found (404 not_found)``; it never includes a token (docr's
exceptions carry none) and names the token's source instead when authentication fails.

What the server wrote (its ``message``, ``id`` and ``request_id``, an exception's text) is cut
to ``MESSAGE_LIMIT`` characters on one line here, so docr's own words around it survive; ``say`` and ``warn``
then write any message as one safe line of at most ``LINE_LIMIT`` characters.
"""

from __future__ import annotations

from docr.cli._sanitize import LINE_LIMIT, one_line

TYPE_CHECKING = False  # not typing's: `docr --help` does not import typing (~5 ms)
if TYPE_CHECKING:
    from typing import TextIO

__all__ = [
    "EXIT_API",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CommandError",
    "UsageError",
    "explain",
    "say",
    "warn",
]

EXIT_OK = 0
EXIT_API = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_ID_LIMIT = 100  # an error id or request id is a word or a UUID; more is noise

_ARGUMENT_NAMES = {
    "registry_name": "registry name",
    "repository_name": "repository name",
    "per_page": "--per-page",
    "max_items": "--limit",
    "base_url": "--api-url",
    "uuid": "--uuid",
}


class CommandError(Exception):
    """A failure to report as ``docr: MESSAGE`` on stderr, exiting with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_API) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class UsageError(CommandError):
    """The command line cannot work as given (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


def explain(
    error: Exception,
    *,
    target: str,
    token_source: str | None = None,
    api_url: str | None = None,
    what: str = "repository",
    needs: str = "the registry:read scope",
) -> CommandError:
    """The ``CommandError`` for one of docr's exceptions, raised while working on ``target`` (a
    ``what``: a 404 says ``{what} {target} not found``) from ``api_url`` with a token from
    ``token_source``; a 403 says the token needs ``needs``."""
    from docr import _errors

    if isinstance(error, _errors.InvalidArgument):
        text = str(error).removeprefix(f"{error.argument}: ")
        name = _ARGUMENT_NAMES.get(error.argument, error.argument)
        return UsageError(f"invalid {name}: {text}")
    if isinstance(error, _errors.ConfigurationError):
        source = f" (the token came from {token_source})" if token_source else ""
        return UsageError(f"{error}{source}")
    if isinstance(error, _errors.APIError):
        return CommandError(_api_message(error, target=target, token_source=token_source, what=what, needs=needs))
    where = f" {api_url}" if api_url else " the API"
    text = one_line(str(error))  # may quote the server (a reason phrase, a total)
    if isinstance(error, _errors.TimeoutError):
        return CommandError(f"timed out waiting for{where}: {text}{_attempts(error.attempts)}")
    if isinstance(error, _errors.TransportError):
        return CommandError(f"cannot reach{where}: {text}{_attempts(error.attempts)}")
    if isinstance(error, _errors.ListingChangedError):
        return CommandError(f"listing {target} failed: {text}")
    return CommandError(f"{type(error).__name__}: {text}")


def _api_message(error: object, *, target: str, token_source: str | None, what: str, needs: str) -> str:
    from docr import _errors

    assert isinstance(error, _errors.APIError)
    status = f"{error.status_code} {one_line(error.error_id or 'error', _ID_LIMIT)}"
    detail = one_line(error.message)
    if error.request_id:
        detail += f" (request_id={one_line(error.request_id, _ID_LIMIT)})"
    if isinstance(error, _errors.RateLimitError) and error.retry_after:
        detail += f"; the API asks to wait {error.retry_after:g}s"
    detail += _attempts(error.attempts)
    if isinstance(error, _errors.NotFoundError):
        return f"{what} {target} not found ({status})"
    if isinstance(error, _errors.ConflictError):
        return f"conflict ({status}): {detail}"
    if isinstance(error, _errors.AuthenticationError):
        source = f"; the token came from {token_source}" if token_source else ""
        return f"authentication failed ({status}): {detail}{source}"
    if isinstance(error, _errors.PermissionDenied):
        return f"permission denied ({status}): {detail}; the token needs {needs}"
    if isinstance(error, _errors.RateLimitError):
        return f"rate limited ({status}): {detail}"
    if isinstance(error, _errors.ServerError):
        return f"server error ({status}): {detail}"
    if isinstance(error, _errors.InvalidResponse):
        return f"unexpected response from the API ({status}): {detail}"
    return f"API error ({status}): {detail}"


def _attempts(attempts: int) -> str:
    return f" [gave up after {attempts} attempts]" if attempts > 1 else ""


def say(message: str, stream: TextIO) -> None:
    """Write ``docr: MESSAGE`` on ``stream`` as one line, whatever ``message`` holds."""
    print(f"docr: {one_line(message, LINE_LIMIT)}", file=stream)


def warn(message: str, stream: TextIO) -> None:
    """``docr: warning: MESSAGE``, one line."""
    say(f"warning: {message}", stream)
