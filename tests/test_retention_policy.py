"""Policies are validated field by field; policy files name the file, section and key of each error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import docr
from docr.retention import (
    Policy,
    PolicyFileError,
    format_duration,
    load_policy_file,
    parse_duration,
    parse_policy_file,
)

DAY = dt.timedelta(days=1)


class TestDurations:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("30d", 30 * DAY),
            ("12h", dt.timedelta(hours=12)),
            ("2w", 14 * DAY),
            ("1d12h", dt.timedelta(days=1, hours=12)),
            (" 90M ", dt.timedelta(minutes=90)),
            ("45s", dt.timedelta(seconds=45)),
            ("0d", dt.timedelta(0)),
            ("1w1d1h1m1s", dt.timedelta(days=8, seconds=3661)),
        ],
    )
    def test_valid(self, text: str, expected: dt.timedelta) -> None:
        assert parse_duration(text) == expected

    @pytest.mark.parametrize("text", ["", "30", "d", "30 d", "-1d", "1.5d", "30days", "1y", "١d", "1d 2h"])
    def test_invalid(self, text: str) -> None:
        with pytest.raises(ValueError, match="invalid duration"):
            parse_duration(text)

    def test_too_long_is_a_value_error_not_an_overflow(self) -> None:
        with pytest.raises(ValueError, match="too long"):
            parse_duration("99999999999999999w")

    @given(st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=10**6)))
    def test_format_reads_back(self, value: dt.timedelta) -> None:
        whole = dt.timedelta(days=value.days, seconds=value.seconds)
        assert parse_duration(format_duration(whole)) == whole

    def test_format_is_short(self) -> None:
        assert [format_duration(v) for v in (30 * DAY, 14 * DAY, dt.timedelta(hours=36), dt.timedelta(0))] == [
            "30d",
            "14d",
            "1d12h",
            "0s",
        ]
        with pytest.raises(ValueError, match="whole, non-negative"):
            format_duration(dt.timedelta(milliseconds=5))


class TestPolicy:
    def test_defaults(self) -> None:
        policy = Policy()
        assert (policy.keep_last, policy.keep_tags, policy.grace) == (0, ("latest",), DAY)
        assert (policy.untagged, policy.tagged_older_than) == ("delete", None)

    def test_keep_tags_accepts_any_sequence_as_a_tuple(self) -> None:
        assert Policy(keep_tags=["v*", "latest"]).keep_tags == ("v*", "latest")  # type: ignore[arg-type]
        assert Policy(keep_tags=()).keep_tags == ()

    @pytest.mark.parametrize(
        ("kwargs", "field", "message"),
        [
            ({"keep_last": -1}, "keep_last", "must be 0 or more"),
            ({"keep_last": True}, "keep_last", "must be an int, not bool"),
            ({"keep_last": "3"}, "keep_last", "must be an int, not str"),
            ({"keep_tags": "latest"}, "keep_tags", "write ('latest',) for one glob"),
            ({"keep_tags": ("ok", 3)}, "keep_tags", "each glob must be a str"),
            ({"keep_tags": ("",)}, "keep_tags", "must not be empty"),
            ({"keep_tags": None}, "keep_tags", "must be a sequence of globs"),
            ({"grace": 3600}, "grace", "must be a timedelta, not int"),
            ({"grace": -DAY}, "grace", "must not be negative"),
            ({"grace": dt.timedelta(seconds=1.5)}, "grace", "whole number of seconds"),
            ({"untagged": "purge"}, "untagged", "must be 'delete' or 'keep'"),
            ({"tagged_older_than": "30d"}, "tagged_older_than", "must be a timedelta"),
            ({"tagged_older_than": dt.timedelta(0)}, "tagged_older_than", "must be more than 0"),
        ],
    )
    def test_invalid_fields_are_named(self, kwargs: dict[str, Any], field: str, message: str) -> None:
        with pytest.raises(docr.InvalidArgument) as info:
            Policy(**kwargs)
        assert info.value.argument == field and message in str(info.value)

    def test_dict_round_trip_and_strictness(self) -> None:
        policy = Policy(keep_last=3, keep_tags=("v*",), grace=dt.timedelta(hours=36), tagged_older_than=30 * DAY)
        data = policy.to_dict()
        assert data == {
            "keep_last": 3,
            "keep_tags": ["v*"],
            "grace": "1d12h",
            "untagged": "delete",
            "tagged_older_than": "30d",
        }
        assert Policy.from_dict(data) == policy
        with pytest.raises(docr.InvalidArgument, match="keep_last: is missing"):
            Policy.from_dict({k: v for k, v in data.items() if k != "keep_last"})
        with pytest.raises(docr.InvalidArgument, match="keep_lats: is not a policy setting"):
            Policy.from_dict({**data, "keep_lats": 1})
        with pytest.raises(docr.InvalidArgument, match="grace: invalid duration '1 day'"):
            Policy.from_dict({**data, "grace": "1 day"})


GOOD_FILE = """
# Production images keep more history.
[[policy]]
repositories = ["web/*", "api"]
keep_last = 10
keep_tags = ["latest", "v*"]
grace = "2d"
untagged = "delete"
tagged_older_than = "90d"

[[policy]]
repositories = "*"
"""


class TestPolicyFile:
    def test_the_first_matching_section_applies(self) -> None:
        policies = parse_policy_file(GOOD_FILE, source="retention.toml")
        web = Policy(keep_last=10, keep_tags=("latest", "v*"), grace=2 * DAY, tagged_older_than=90 * DAY)
        assert policies.for_repository("web/frontend") == web
        assert policies.for_repository("api") == web
        assert policies.for_repository("apis") == Policy()
        assert policies.for_repository("web") == Policy()  # "web/*" needs a component after the slash
        section = policies.section_for("web/x")
        assert section is not None and section.number == 1 and section.repositories == ("web/*", "api")

    def test_no_matching_section_means_no_policy(self) -> None:
        policies = parse_policy_file('[[policy]]\nrepositories = "web/*"\n')
        assert policies.for_repository("db/main") is None

    def test_load_from_a_file(self, tmp_path: Path) -> None:
        path = tmp_path / "retention.toml"
        path.write_text(GOOD_FILE, encoding="utf-8")
        assert load_policy_file(path).for_repository("web/a") is not None
        assert load_policy_file(str(path)).source == str(path)

    @pytest.mark.parametrize(
        ("text", "where", "message"),
        [
            ("", "policy.toml: ", "has no [[policy]] section"),
            ("[policy]\nrepositories = '*'\n", "policy.toml: ", "has no [[policy]] section"),
            ("keep_last = 3\n", "policy.toml: ", "unknown top-level key 'keep_last'"),
            ("[[policy]\n", "policy.toml: ", "is not valid TOML"),
            ("[[policy]]\nkeep_last = 3\n", "policy.toml: [[policy]] #1: repositories: ", "is required"),
            ("[[policy]]\nrepositories = []\n", "[[policy]] #1: repositories: ", "non-empty glob"),
            ("[[policy]]\nrepositories = [1]\n", "[[policy]] #1: repositories: ", "non-empty glob"),
            (
                "[[policy]]\nrepositories='a'\n[[policy]]\nrepositories = 'web/*'\nkeep_last = -1\n",
                "policy.toml: [[policy]] #2 (web/*): keep_last: ",
                "must be 0 or more, not -1",
            ),
            ("[[policy]]\nrepositories = '*'\nkeep_lats = 3\n", "#1 (*): keep_lats: ", "is not a policy setting"),
            ("[[policy]]\nrepositories = '*'\ngrace = 1\n", "#1 (*): grace: ", "must be a duration such as '30d'"),
            ("[[policy]]\nrepositories = '*'\ngrace = '1 day'\n", "#1 (*): grace: ", "invalid duration '1 day'"),
            (
                "[[policy]]\nrepositories = '*'\ntagged_older_than = '0d'\n",
                "#1 (*): tagged_older_than: ",
                "must be more than 0",
            ),
            ("[[policy]]\nrepositories = '*'\nkeep_tags = 'latest'\n", "#1 (*): keep_tags: ", "must be a list"),
            ("[[policy]]\nrepositories = '*'\nuntagged = 'purge'\n", "#1 (*): untagged: ", "'delete' or 'keep'"),
            ("[[policy]]\nrepositories = '*'\nkeep_last = 2.5\n", "#1 (*): keep_last: ", "must be an int, not float"),
        ],
    )
    def test_errors_name_the_file_section_and_key(self, text: str, where: str, message: str) -> None:
        with pytest.raises(PolicyFileError) as info:
            parse_policy_file(text, source="policy.toml")
        error = info.value
        assert isinstance(error, docr.InvalidArgument) and error.argument == "policy file"
        assert where in str(error) and message in str(error)
        assert error.source == "policy.toml"

    def test_section_and_key_are_attributes(self) -> None:
        with pytest.raises(PolicyFileError) as info:
            parse_policy_file("[[policy]]\nrepositories = '*'\n[[policy]]\nrepositories = 'x'\ngrace = 'soon'\n")
        assert (info.value.section, info.value.key) == (2, "grace")

    def test_unreadable_files(self, tmp_path: Path) -> None:
        with pytest.raises(PolicyFileError, match=r"missing\.toml: cannot be read"):
            load_policy_file(tmp_path / "missing.toml")
        binary = tmp_path / "binary.toml"
        binary.write_bytes(b"\xff\xfe[[policy]]")
        with pytest.raises(PolicyFileError, match="is not UTF-8"):
            load_policy_file(binary)
