"""The fast paths of ``docr._parse`` decide exactly what the careful pass decides.

``check_manifest`` first asks only whether every field is fine, and ``check_manifests`` checks a
whole page building a field's path only for the item at fault; both fall back to the careful
pass (``_check_manifest``) at the first doubt. Whatever the data, the outcome must be the careful
pass's: the same ``updated_at``, or the same ``FieldError`` (path and message).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from docr._parse import FieldError, _check_manifest, check_manifest, check_manifests

# Values of every JSON type (and bool, the int that is no size).
ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def mostly(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` three times in four, else any JSON value: most items are fine deep down, some are not."""
    return st.integers(0, 3).flatmap(lambda n: good if n else ANY)


TIMES = st.sampled_from(
    [
        "2026-05-01T09:25:19Z",
        "2026-05-01T09:25:19.123456789Z",  # Go's nanoseconds: only the careful pass reads them
        "2026-05-01T09:25:19+02:00",
        "2026-05-01T09:25:19",  # naive: UTC
        "not a date",
        "",
    ]
)
STRING, INTEGER = mostly(st.text(max_size=10)), mostly(st.integers(0, 2**40))
BLOB = mostly(st.fixed_dictionaries({}, optional={"digest": STRING, "compressed_size_bytes": INTEGER}))
MANIFEST = mostly(
    st.fixed_dictionaries(
        {},
        optional={
            "digest": STRING,
            "registry_name": STRING,
            "repository": STRING,
            "compressed_size_bytes": INTEGER,
            "size_bytes": INTEGER,
            "updated_at": mostly(TIMES),
            "tags": mostly(st.lists(STRING, max_size=3)),
            "blobs": mostly(st.lists(BLOB, max_size=6)),
            "compressed_size_byte": ANY,  # unknown keys: kept, never checked
        },
    )
)


def careful(items: list[Any]) -> list[dt.datetime | None] | tuple[str, str]:
    try:
        return [_check_manifest(item, f"manifests[{index}]") for index, item in enumerate(items)]
    except FieldError as error:
        return error.path, str(error)


def outcome(check: Any, *args: Any) -> Any:
    try:
        return check(*args)
    except FieldError as error:
        return error.path, str(error)


@settings(max_examples=800, deadline=None)
@given(st.lists(MANIFEST, max_size=5))
def test_a_page_checked_at_once_is_checked_as_item_by_item(items: list[Any]) -> None:
    assert outcome(check_manifests, items) == careful(items)


@settings(max_examples=800, deadline=None)
@given(MANIFEST)
def test_one_manifest_fast_path_agrees_with_the_careful_pass(item: Any) -> None:
    assert outcome(check_manifest, item, "manifests[0]") == outcome(_check_manifest, item, "manifests[0]")


GOOD: dict[str, Any] = {
    "digest": "sha256:a",
    "registry_name": "example",
    "repository": "my/repo",
    "compressed_size_bytes": 3,
    "size_bytes": 5,
    "updated_at": "2026-05-01T09:25:19Z",
    "tags": ["latest", "v1"],
    "blobs": [{"digest": "sha256:b", "compressed_size_bytes": 1}, {"digest": "sha256:c", "compressed_size_bytes": 2}],
}
WRONG = [True, 1.5, "1", 7, [], {}, 2**70]


def one_fault_each() -> list[tuple[str, dict[str, Any]]]:
    """GOOD with one value replaced, for every checked field, by every value of the wrong type."""
    cases = []
    for value in WRONG:
        for key in ("digest", "registry_name", "repository", "compressed_size_bytes", "size_bytes", "updated_at"):
            cases.append((key, {**GOOD, key: value}))
        cases.append(("tags", {**GOOD, "tags": value}))
        cases.append(("tags[1]", {**GOOD, "tags": ["latest", value]}))
        cases.append(("blobs", {**GOOD, "blobs": value}))
        cases.append(("blobs[1]", {**GOOD, "blobs": [GOOD["blobs"][0], value]}))
        for key in ("digest", "compressed_size_bytes"):
            cases.append((f"blobs[1].{key}", {**GOOD, "blobs": [GOOD["blobs"][0], {**GOOD["blobs"][1], key: value}]}))
    return cases


def test_every_wrong_type_of_every_field_is_caught_where_the_careful_pass_catches_it() -> None:
    caught = 0
    for _field, item in one_fault_each():
        expected = careful([GOOD, item])
        assert outcome(check_manifests, [GOOD, item]) == expected, item
        assert outcome(check_manifest, item, "manifests[1]") == outcome(_check_manifest, item, "manifests[1]")
        caught += isinstance(expected, tuple)
    assert caught > 60  # most replacements are faults (a str where a str is due is not)
    assert careful([GOOD]) == check_manifests([GOOD]) == [dt.datetime(2026, 5, 1, 9, 25, 19, tzinfo=dt.UTC)]


def test_the_first_fault_is_named_even_after_good_items() -> None:
    good = {"digest": "sha256:a", "tags": ["v1"], "blobs": [{"digest": "sha256:b", "compressed_size_bytes": 3}]}
    bad = {"digest": "sha256:c", "blobs": [{"digest": "sha256:d", "compressed_size_bytes": True}]}
    try:
        check_manifests([good, good, bad, {"digest": 1}])
    except FieldError as error:
        assert error.path == "manifests[2].blobs[0].compressed_size_bytes"
    else:
        raise AssertionError("a boolean size passed")


def test_times_are_aware_and_nanoseconds_are_read() -> None:
    times = check_manifests(
        [{"updated_at": "2026-05-01T09:25:19Z"}, {"updated_at": "2026-05-01T09:25:19.123456789Z"}, {}]
    )
    assert times == [
        dt.datetime(2026, 5, 1, 9, 25, 19, tzinfo=dt.UTC),
        dt.datetime(2026, 5, 1, 9, 25, 19, 123456, tzinfo=dt.UTC),
        None,
    ]
