"""The command line's pure parts over plain data: REF parsing, durations, filters and order,
humanised values, the output writers and where the token comes from. No server, no network."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docr import Manifest
from docr.cli import main
from docr.cli._args import RepositoryRef, duration, parse_ref, per_page, positive_int
from docr.cli._commands import COMMANDS
from docr.cli._filters import Selection, sort_manifests
from docr.cli._humanize import human_age, human_size, short_digest
from docr.cli._output import Summary, make_writer
from docr.cli._table import summary_line
from docr.cli._token import Token, TokenError, find_token

NOW = dt.datetime(2026, 5, 2, 12, 0, tzinfo=dt.UTC)
SECRET = "dop_v1_" + "s3cr3t" * 10


def manifest(
    n: int, *, tags: list[str] | None = None, age: dt.timedelta | None = None, size: int | None = None, **extra: Any
) -> Manifest:
    data: dict[str, Any] = {"digest": f"sha256:{n:064x}", "registry_name": "example", "repository": "my/repo"}
    if size is not None:
        data["compressed_size_bytes"] = size
    if age is not None:
        data["updated_at"] = (NOW - age).isoformat().replace("+00:00", "Z")
    if tags is not None:
        data["tags"] = tags
    data.update(extra)
    return Manifest.from_dict(data)


def digests(manifests: Iterator[Manifest] | list[Manifest]) -> list[int]:
    return [int((m.digest or "").removeprefix("sha256:"), 16) for m in manifests]


# -- REF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("registry.digitalocean.com/example/my/repo", RepositoryRef("example", "my/repo")),
        ("example/my/repo", RepositoryRef("example", "my/repo")),
        ("example/repo", RepositoryRef("example", "repo")),
        ("  example/a/b/c ", RepositoryRef("example", "a/b/c")),
    ],
)
def test_ref_splits_registry_and_repository(text: str, expected: RepositoryRef) -> None:
    assert parse_ref(text) == expected
    assert str(parse_ref(text)) == f"{expected.registry}/{expected.repository}"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("registry.digitalocean.com/example/my/repo:v1", ["names a tag (:v1)", "pass example/my/repo", "--tag 'v1'"]),
        ("example/repo:latest", ["names a tag (:latest)", "pass example/repo"]),
        ("example/my/repo@sha256:abcd", ["names a digest (@sha256:abcd)", "pass example/my/repo"]),
        ("example", ["needs a registry and a repository"]),
        ("registry.digitalocean.com/example", ["needs a registry and a repository"]),
        ("example/", ["needs a registry and a repository"]),
        ("", ["empty"]),
        ("ghcr.io/owner/repo", ["not in DigitalOcean Container Registry"]),
        ("localhost:5000/example/repo", ["not in DigitalOcean Container Registry"]),
        ("https://registry.digitalocean.com/example/repo", ["is a URL"]),
    ],
)
def test_ref_refuses_what_is_not_a_repository(text: str, words: list[str]) -> None:
    with pytest.raises(ValueError, match=r".") as caught:
        parse_ref(text)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45s", 45), ("90m", 5400), ("12h", 43200), ("30d", 30 * 86400), ("2w", 14 * 86400), ("1d12h", 129600)],
)
def test_durations(text: str, seconds: int) -> None:
    assert duration(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["30", "d", "3y", "-1d", "1.5d", "", "30 d"])
def test_bad_durations_say_what_a_duration_is(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="use a number and a unit s, m, h, d or w"):
        duration(text)


def test_integer_flags() -> None:
    assert positive_int("3") == 3
    assert per_page("200") == 200
    for bad, match in [("0", "1 or more"), ("x", "whole number")]:
        with pytest.raises(argparse.ArgumentTypeError, match=match):
            positive_int(bad)
    with pytest.raises(argparse.ArgumentTypeError, match="1 to 200"):
        per_page("201")


# -- filters and order ----------------------------------------------------------------------------


def test_untagged_keeps_manifests_with_no_tags_or_no_tags_key() -> None:
    items = [manifest(1, tags=["v1"]), manifest(2, tags=[]), manifest(3)]
    assert digests(Selection(now=NOW, untagged=True).apply(items)) == [2, 3]


def test_tag_globs_match_any_tag_and_any_glob_case_sensitively() -> None:
    items = [
        manifest(1, tags=["v1.2.0", "abc1234"]),
        manifest(2, tags=["pr-7"]),
        manifest(3, tags=["V1.3.0"]),
        manifest(4, tags=[]),
        manifest(5, tags=["latest"]),
    ]
    assert digests(Selection(now=NOW, tag_globs=["v1.*"]).apply(items)) == [1]
    assert digests(Selection(now=NOW, tag_globs=["v1.*", "pr-*"]).apply(items)) == [1, 2]
    assert digests(Selection(now=NOW, tag_globs=["latest"]).apply(items)) == [5]


def test_age_filters_compare_updated_at_with_now_and_skip_unknown_dates() -> None:
    items = [
        manifest(1, age=dt.timedelta(days=40)),
        manifest(2, age=dt.timedelta(days=10)),
        manifest(3, age=dt.timedelta(hours=2)),
        manifest(4),  # no updated_at: its age is unknown
    ]
    assert digests(Selection(now=NOW, older_than=dt.timedelta(days=30)).apply(items)) == [1]
    assert digests(Selection(now=NOW, newer_than=dt.timedelta(hours=12)).apply(items)) == [3]
    between = Selection(now=NOW, older_than=dt.timedelta(days=1), newer_than=dt.timedelta(days=30))
    assert digests(between.apply(items)) == [2]


def test_filters_combine_with_and() -> None:
    items = [
        manifest(1, tags=[], age=dt.timedelta(days=40)),
        manifest(2, tags=[], age=dt.timedelta(days=1)),
        manifest(3, tags=["v1"], age=dt.timedelta(days=40)),
    ]
    assert digests(Selection(now=NOW, untagged=True, older_than=dt.timedelta(days=30)).apply(items)) == [1]


def test_sort_updated_is_newest_first_with_unknown_dates_last() -> None:
    items = [manifest(1, age=dt.timedelta(days=3)), manifest(2), manifest(3, age=dt.timedelta(hours=1))]
    assert digests(sort_manifests(items, "updated")) == [3, 1, 2]


def test_sort_size_is_largest_first_and_stable() -> None:
    items = [manifest(1, size=10), manifest(2, size=30), manifest(3), manifest(4, size=10), manifest(5, size=30)]
    assert digests(sort_manifests(items, "size")) == [2, 5, 1, 4, 3]


def test_sort_digest_is_ascending() -> None:
    assert digests(sort_manifests([manifest(3), manifest(1), manifest(2)], "digest")) == [1, 2, 3]


def test_unknown_sort_key_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown sort key 'name'"):
        Selection(now=NOW, sort="name")


def test_limit_applies_after_filter_and_sort() -> None:
    items = [manifest(n, size=n, tags=[] if n % 2 else ["t"]) for n in range(1, 9)]
    chosen = Selection(now=NOW, untagged=True, sort="size", limit=2).apply(items)
    assert digests(chosen) == [7, 5]


def test_unsorted_limit_stops_pulling_from_the_listing() -> None:
    pulled: list[int] = []

    def listing() -> Iterator[Manifest]:
        for n in range(1, 100):
            pulled.append(n)
            yield manifest(n, tags=[] if n % 3 == 0 else ["t"])

    assert digests(Selection(now=NOW, untagged=True, limit=2).apply(listing())) == [3, 6]
    assert pulled == [1, 2, 3, 4, 5, 6]


def test_fetch_limit_only_when_every_listed_manifest_is_shown_in_order() -> None:
    assert Selection(now=NOW, limit=5).fetch_limit == 5
    assert Selection(now=NOW).fetch_limit is None
    assert Selection(now=NOW, limit=5, sort="size").fetch_limit is None
    assert Selection(now=NOW, limit=5, untagged=True).fetch_limit is None
    assert Selection(now=NOW, limit=5, tag_globs=["v*"]).fetch_limit is None
    assert Selection(now=NOW, limit=5, older_than=dt.timedelta(days=1)).fetch_limit is None


# -- humanised values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (None, "-"),
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.00 KiB"),
        (2_816_445, "2.69 MiB"),
        (1_000_000_000, "953.67 MiB"),
        (5 * 1024**3, "5.00 GiB"),
        (3 * 1024**4, "3.00 TiB"),
        (2048 * 1024**5, "2048.00 PiB"),
    ],
)
def test_human_size_uses_binary_units_like_doctl(size: int | None, text: str) -> None:
    assert human_size(size) == text


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (dt.timedelta(seconds=-30), "just now"),
        (dt.timedelta(seconds=59), "just now"),
        (dt.timedelta(minutes=1), "1 minute ago"),
        (dt.timedelta(minutes=59), "59 minutes ago"),
        (dt.timedelta(hours=1), "1 hour ago"),
        (dt.timedelta(hours=23, minutes=59), "23 hours ago"),
        (dt.timedelta(days=1), "1 day ago"),
        (dt.timedelta(days=3, hours=5), "3 days ago"),
        (dt.timedelta(days=13), "13 days ago"),
        (dt.timedelta(days=14), "2 weeks ago"),
        (dt.timedelta(days=59), "8 weeks ago"),
        (dt.timedelta(days=60), "2 months ago"),
        (dt.timedelta(days=364), "12 months ago"),
        (dt.timedelta(days=365), "1 year ago"),
        (dt.timedelta(days=800), "2 years ago"),
    ],
)
def test_human_age(age: dt.timedelta, text: str) -> None:
    assert human_age(NOW - age, NOW) == text


def test_human_age_of_unknown_and_future_dates() -> None:
    assert human_age(None, NOW) == "-"
    assert human_age(NOW + dt.timedelta(days=2), NOW) == "2026-05-04"


def test_short_digest() -> None:
    digest = "sha256:cb8a924afdf0229ef7515d9e5b3024e23b3eb03ddbba287f4a19c6ac90b8d221"
    assert short_digest(digest) == "sha256:cb8a924afdf0"
    assert short_digest(digest, full=True) == digest
    assert short_digest(None) == "-"


def test_summary_line() -> None:
    assert summary_line(Summary(shown=1, compressed_bytes=1024)) == "1 manifest, 1.00 KiB compressed"
    assert summary_line(Summary(shown=3, compressed_bytes=0, total=3)) == "3 manifests, 0 B compressed"
    assert summary_line(Summary(shown=2, compressed_bytes=10, total=60)) == "2 of 60 manifests, 10 B compressed"


# -- writers ------------------------------------------------------------------------------------

ODD = Manifest.from_dict(
    {
        "digest": "sha256:" + "ab" * 32,
        "registry_name": "example",
        "repository": "my/repo",
        "compressed_size_bytes": 1972332,
        "size_bytes": 2816445,
        "updated_at": "2026-04-09T23:54:25Z",
        "tags": ["v1", "v2"],
        "blobs": [{"digest": "sha256:" + "cd" * 32, "compressed_size_byte": 2814446}],
        "future_field": {"kept": True},
    }
)
BARE = Manifest.from_dict({"digest": "sha256:" + "ef" * 32})


def test_json_is_one_array_of_the_apis_objects_unknown_keys_included() -> None:
    out = io.StringIO()
    writer = make_writer("json", out, now=NOW)
    writer.add(ODD)
    writer.add(BARE)
    assert out.getvalue() == ""  # written once the listing is complete
    writer.finish(Summary(2, 0))
    data = json.loads(out.getvalue())
    assert data == [ODD.to_dict(), {"digest": "sha256:" + "ef" * 32}]
    assert data[0]["future_field"] == {"kept": True}
    assert data[0]["blobs"][0]["compressed_size_byte"] == 2814446
    assert data[0]["updated_at"] == "2026-04-09T23:54:25Z"
    assert out.getvalue().startswith("[\n  {")


def test_empty_json_is_an_empty_array() -> None:
    out = io.StringIO()
    make_writer("json", out, now=NOW).finish(Summary(0, 0))
    assert out.getvalue() == "[]\n"


def test_jsonl_writes_each_manifest_as_it_arrives() -> None:
    out = io.StringIO()
    writer = make_writer("jsonl", out, now=NOW)
    writer.add(ODD)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [ODD.to_dict()]
    writer.add(BARE)
    writer.finish(Summary(2, 0))
    assert len(out.getvalue().splitlines()) == 2


def test_csv_rows() -> None:
    out = io.StringIO()
    writer = make_writer("csv", out, now=NOW)
    writer.add(ODD)
    writer.add(BARE)
    writer.finish(Summary(2, 0))
    assert out.getvalue().splitlines() == [
        "digest,compressed_size_bytes,size_bytes,updated_at,tags",
        f"sha256:{'ab' * 32},1972332,2816445,2026-04-09T23:54:25Z,v1;v2",
        f"sha256:{'ef' * 32},,,,",
    ]


def test_csv_without_header() -> None:
    out = io.StringIO()
    writer = make_writer("csv", out, now=NOW, header=False)
    writer.add(BARE)
    assert out.getvalue() == f"sha256:{'ef' * 32},,,,\n"


def test_quiet_prints_full_digests_only() -> None:
    out = io.StringIO()
    writer = make_writer("table", out, now=NOW, quiet=True)
    writer.add(ODD)
    writer.add(BARE)
    writer.finish(Summary(2, 0))
    assert out.getvalue() == f"sha256:{'ab' * 32}\nsha256:{'ef' * 32}\n"


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown output format 'yaml'"):
        make_writer("yaml", io.StringIO(), now=NOW)


# -- token sources ------------------------------------------------------------------------------


def write_config(root: Path, text: str) -> Path:
    path = root / "doctl" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


CONFIG = f"""\
access-token: default-{SECRET}
auth-contexts:
  prod: prod-{SECRET}
  staging: staging-{SECRET}
context: default
"""


def test_environment_tokens_come_first_in_order(tmp_path: Path) -> None:
    write_config(tmp_path, CONFIG)
    env = {"XDG_CONFIG_HOME": str(tmp_path), "DIGITALOCEAN_TOKEN": "one", "DIGITALOCEAN_ACCESS_TOKEN": "two"}
    assert find_token(environ=env) == Token("one", "DIGITALOCEAN_TOKEN")
    env["DIGITALOCEAN_TOKEN"] = "  "
    assert find_token(environ=env) == Token("two", "DIGITALOCEAN_ACCESS_TOKEN")


def test_doctl_default_context_is_the_top_level_access_token(tmp_path: Path) -> None:
    path = write_config(tmp_path, CONFIG)
    token = find_token(environ={"XDG_CONFIG_HOME": str(tmp_path)})
    assert token == Token(f"default-{SECRET}", f"{path} (context default)")


def test_doctl_current_context_key_is_honoured(tmp_path: Path) -> None:
    write_config(tmp_path, CONFIG.replace("context: default", "context: staging"))
    token = find_token(environ={"XDG_CONFIG_HOME": str(tmp_path)})
    assert token is not None
    assert token.value == f"staging-{SECRET}"


def test_digitalocean_context_variable_picks_a_context(tmp_path: Path) -> None:
    write_config(tmp_path, CONFIG)
    token = find_token(environ={"XDG_CONFIG_HOME": str(tmp_path), "DIGITALOCEAN_CONTEXT": "prod"})
    assert token is not None
    assert token.value == f"prod-{SECRET}"


def test_explicit_context_wins_over_environment_tokens(tmp_path: Path) -> None:
    write_config(tmp_path, CONFIG)
    env = {"XDG_CONFIG_HOME": str(tmp_path), "DIGITALOCEAN_TOKEN": "env"}
    assert find_token("prod", environ=env) is not None
    assert find_token("prod", environ=env).value == f"prod-{SECRET}"  # type: ignore[union-attr]
    assert find_token("default", environ=env).value == f"default-{SECRET}"  # type: ignore[union-attr]


def test_unknown_context_names_the_known_ones_and_no_token(tmp_path: Path) -> None:
    write_config(tmp_path, CONFIG)
    with pytest.raises(TokenError) as caught:
        find_token("qa", environ={"XDG_CONFIG_HOME": str(tmp_path)})
    message = str(caught.value)
    assert "doctl context 'qa' (from --context) has no token" in message
    assert "contexts there: default, prod, staging" in message
    assert SECRET not in message


def test_context_without_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(TokenError, match="--context prod: no doctl config file at"):
        find_token("prod", environ={"XDG_CONFIG_HOME": str(tmp_path)})


def test_broken_config_is_reported_without_its_content(tmp_path: Path) -> None:
    path = write_config(tmp_path, f"access-token: {SECRET}\n  bad: [indent\n")
    with pytest.raises(TokenError) as caught:
        find_token(environ={"XDG_CONFIG_HOME": str(tmp_path)})
    assert str(caught.value) == f"doctl config {path} is not valid YAML"


def test_no_source_at_all_gives_none(tmp_path: Path) -> None:
    assert find_token(environ={"XDG_CONFIG_HOME": str(tmp_path)}) is None
    write_config(tmp_path, "context: default\n")
    assert find_token(environ={"XDG_CONFIG_HOME": str(tmp_path)}) is None


def test_config_defaults_to_home_dot_config(tmp_path: Path) -> None:
    write_config(tmp_path / ".config", f"access-token: {SECRET}\n")
    token = find_token(environ={"HOME": str(tmp_path)})
    assert token is not None
    assert token.value == SECRET


def test_a_token_never_shows_in_its_repr_or_str() -> None:
    token = Token(SECRET, "DIGITALOCEAN_TOKEN")
    assert SECRET not in repr(token)
    assert SECRET not in str(token)
    assert "DIGITALOCEAN_TOKEN" in str(token)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_registered_command_plugs_in(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    module = COMMANDS[name].load()
    assert callable(module.add_arguments)
    assert callable(module.run)
    assert main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: docr {name} ")
    assert module.DESCRIPTION in out
    assert module.EPILOG.strip() in out
    assert main(["--help"]) == 0
    assert COMMANDS[name].help in " ".join(capsys.readouterr().out.split())
