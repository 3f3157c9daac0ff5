"""The `_id` fast path gives the same answers as mongomock's full scan."""

from datetime import datetime

import mongomock
import pytest
from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import mongomock_speedups


@pytest.fixture
def coll():
    mongomock_speedups.install()
    c = mongomock.MongoClient()["db"]["c"]
    c.insert_many([{"_id": f"k{i}", "n": i, "tag": "odd" if i % 2 else "even"}
                   for i in range(50)])
    c.insert_one({"_id": ObjectId(), "n": 99})
    return c


@pytest.mark.parametrize("query", [
    {"_id": "k3"},
    {"_id": "missing"},
    {"_id": {"$eq": "k4"}},
    {"_id": {"$in": ["k1", "k2", "nope", "k1"]}},
    {"_id": "k3", "tag": "even"},
    {"_id": {"$in": ["k1", "k2"]}, "tag": "odd"},
    {"_id": {"$gt": "k47"}},
    {"_id": {"$in": []}},
])
def test_fast_path_matches_a_full_scan(coll, query):
    fast = sorted(d["n"] for d in coll.find(query))
    scan = sorted(d["n"] for d in coll.find({"$and": [query, {}]}))  # bypasses the fast path
    assert fast == scan


def test_updates_and_counts_use_the_same_answers(coll):
    assert coll.count_documents({"_id": {"$in": ["k1", "k2"]}}) == 2
    r = coll.update_many({"_id": {"$in": ["k1", "k2"]}, "tag": "odd"}, {"$set": {"x": 1}})
    assert r.matched_count == 1
    assert coll.find_one({"_id": "k1"})["x"] == 1


def test_reads_while_another_thread_writes_the_same_document_never_fail():
    """The score page reads a bucket while the consumer adds to it: without the lock,
    mongomock copies the document as it grows and fails ("dictionary changed size")."""
    import threading

    mongomock_speedups.install()
    c = mongomock.MongoClient()["db"]["buckets"]
    c.insert_one({"_id": "b", "r": {}})
    errors: list[BaseException] = []
    stop = threading.Event()

    def write():
        for i in range(1000):
            c.update_one({"_id": "b"}, {"$set": {f"r.k{i}": [5, 4, None]}})
        stop.set()

    def read():
        try:
            while not stop.is_set():
                assert c.find_one({"_id": "b"}) is not None
                list(c.find({"r": {"$exists": True}}))
                c.count_documents({"r": {"$exists": True}})
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    write()
    for t in readers:
        t.join()
    assert errors == []
    assert len(c.find_one({"_id": "b"})["r"]) == 1000


@pytest.mark.parametrize("skip,limit", [(0, 0), (0, 7), (5, 0), (5, 10), (45, 10), (60, 0),
                                        (3, -4)])
def test_a_cursor_returns_the_documents_of_its_skip_and_limit_in_order(coll, skip, limit):
    """Read one document at a time by index (not a slice of every result per document)."""
    every = [d["n"] for d in coll.find({}, sort=[("n", -1)])]
    cursor = coll.find({}, sort=[("n", -1)], skip=skip, limit=limit)
    expected = every[skip:][:abs(limit)] if limit else every[skip:]
    assert [d["n"] for d in cursor] == expected
    with pytest.raises(StopIteration):
        next(cursor)
    cursor.rewind()
    assert [d["n"] for d in cursor] == expected


def test_reading_a_large_cursor_costs_linear_time_not_quadratic():
    """A cursor of n documents reads each once: with mongomock's own `__next__`, which
    slices the whole result list for each document, 20,000 documents copied 200 million
    references (about 4 s here); the count of list elements touched is bounded instead."""
    mongomock_speedups.install()
    c = mongomock.MongoClient()["db"]["big"]
    c.insert_many([{"_id": i} for i in range(20_000)])
    cursor = c.find({})
    touched = []

    class Counting(list):
        def __getitem__(self, key):
            touched.append(key)
            return list.__getitem__(self, key)

    cursor._compute_results()
    cursor._results = Counting(cursor._results)
    assert sum(1 for _ in cursor) == 20_000
    assert all(isinstance(k, int) for k in touched)  # never a slice of the whole list


def test_documents_are_copied_whole_on_reads_and_updates_tell_changes(coll):
    """The document copy: what a caller gets is its own (nested dicts and lists too), and
    an update counts as a modification exactly when it changes the document."""
    coll.insert_one({"_id": "nested", "r": {"a": [1, 2, {"x": 1}]}, "tags": ["t"]})
    got = coll.find_one({"_id": "nested"})
    got["r"]["a"][2]["x"] = 99
    got["tags"].append("u")
    assert coll.find_one({"_id": "nested"}) == {"_id": "nested", "r": {"a": [1, 2, {"x": 1}]},
                                                "tags": ["t"]}
    assert coll.update_one({"_id": "nested"}, {"$set": {"r.a": [1, 2, {"x": 1}]}}
                           ).modified_count == 0
    assert coll.update_one({"_id": "nested"}, {"$set": {"r.b": [3]}}).modified_count == 1
    assert coll.update_one({"_id": "nested"}, {"$push": {"tags": "v"}}).modified_count == 1
    assert coll.update_one({"_id": "nested"}, {"$inc": {"r.b.0": 1}}).modified_count == 1
    assert coll.find_one({"_id": "nested"}) == {
        "_id": "nested", "r": {"a": [1, 2, {"x": 1}], "b": [4]}, "tags": ["t", "v"]}


def test_the_document_copy_keeps_ordered_documents_ordered_and_their_own():
    from collections import OrderedDict

    from bson import SON

    original = OrderedDict([("b", SON([("x", [1, {"y": 2}])])), ("a", 1)])
    copied = mongomock_speedups._document_copy(original)
    assert copied == original and list(copied) == ["b", "a"]
    assert type(copied) is OrderedDict and type(copied["b"]) is SON
    copied["b"]["x"][1]["y"] = 3
    assert original["b"]["x"][1]["y"] == 2


def test_rows_of_scalars_are_read_and_stored_as_mongomock_would():
    """Lists of scalars taken whole (`_rows_whole`): still each caller's own copy, datetimes
    in them still made aware on the way out and cut to the millisecond on the way in, and
    tuples still stored as lists; a projection still picks its rows."""
    from datetime import UTC, datetime

    mongomock_speedups.install()
    c = mongomock.MongoClient(tz_aware=True)["db"]["rows"]
    at = datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)
    c.insert_one({"_id": "b", "r": {"k1": [5, 4, None, "counted", 0], "k2": (3, 2.5)},
                  "times": [at, at], "mixed": [1, {"at": at}]})
    c.update_one({"_id": "b"}, {"$set": {"r.k3": (1, True), "more": [at]}})
    doc = c.find_one({"_id": "b"})
    ms = at.replace(microsecond=123000)
    assert doc == {"_id": "b", "r": {"k1": [5, 4, None, "counted", 0], "k2": [3, 2.5],
                                     "k3": [1, True]},
                   "times": [ms, ms], "mixed": [1, {"at": ms}], "more": [ms]}
    assert all(t.tzinfo is not None for t in [*doc["times"], doc["mixed"][1]["at"]])
    doc["r"]["k1"].append(9)
    assert c.find_one({"_id": "b"}, {"r.k1": 1}) == {"_id": "b",
                                                      "r": {"k1": [5, 4, None, "counted", 0]}}


def _as_mongomock_reads(coll, query, projection, skip, limit) -> list:
    """What mongomock's own find gives (its `_get_dataset`, not this module's), sliced as
    its cursor slices it."""
    every = list(mongomock_speedups.ORIGINALS["get_dataset"](coll, query, None, projection,
                                                            dict))
    return every[skip:][:abs(limit)] if limit else every[skip:]


@pytest.mark.parametrize("query,projection,skip,limit", [
    ({}, None, 0, 0), ({"tag": "odd"}, {"n": 1}, 0, 0), ({}, {"tag": 0}, 5, 10),
    ({"n": {"$gte": 10}}, None, 45, 0), ({}, None, 3, -4), ({"n": {"$lt": 30}}, {"_id": 0},
                                                            6, 13),
    ({"_id": {"$in": ["k1", "k9"]}}, {"_id": 0}, 0, 0), ({}, None, 60, 0)])
def test_an_unsorted_cursor_streams_the_same_documents_in_the_same_order(
        coll, monkeypatch, query, projection, skip, limit):
    monkeypatch.setattr(mongomock_speedups, "STREAM_CHUNK", 7)  # chunks within 51 documents
    streamed = list(coll.find(query, projection, skip=skip, limit=limit))
    assert streamed == _as_mongomock_reads(coll, query, projection, skip, limit)
    cursor = coll.find(query, projection, skip=skip, limit=limit)
    head = [d for _, d in zip(range(1), cursor, strict=False)]
    cursor.rewind()  # read again from the start, after one chunk was read
    assert head == streamed[:1] and list(cursor) == streamed


def test_a_stream_begun_serves_its_cursor_to_the_end(coll, monkeypatch):
    """`alive` and `distinct` compute every result of the cursor again; the documents
    still to come are the stream's, not a new snapshot's (one was lost between the two)."""
    monkeypatch.setattr(mongomock_speedups, "STREAM_CHUNK", 7)
    cursor = coll.find({"tag": {"$exists": True}})
    assert [next(cursor)["n"], next(cursor)["n"]] == [0, 1]
    coll.delete_one({"_id": "k0"})
    assert cursor.alive and sorted(cursor.distinct("tag")) == ["even", "odd"]
    assert [d["n"] for d in cursor] == list(range(2, 50))


def test_a_document_id_that_is_a_document_is_streamed(monkeypatch):
    mongomock_speedups.install()
    c = mongomock.MongoClient()["db"]["ids"]
    c.insert_many([{"_id": {"a": i}, "n": i} for i in range(3)])
    assert [d["_id"] for d in c.find({})] == [{"a": 0}, {"a": 1}, {"a": 2}]


def test_an_unsorted_cursor_gives_its_first_document_before_copying_the_rest(monkeypatch):
    mongomock_speedups.install()
    c = mongomock.MongoClient()["db"]["stream"]
    c.insert_many([{"_id": i, "v": [i, i]} for i in range(5 * mongomock_speedups.STREAM_CHUNK)])
    copies = []
    original = mongomock.collection.Collection._copy_only_fields

    def counting(self, doc, *args):
        copies.append(doc["_id"])
        return original(self, doc, *args)

    monkeypatch.setattr(mongomock.collection.Collection, "_copy_only_fields", counting)
    cursor = c.find({})
    assert next(cursor)["_id"] == 0
    assert len(copies) == mongomock_speedups.STREAM_CHUNK  # one chunk, not 5,000
    assert [d["_id"] for d in cursor] == list(range(1, 5 * mongomock_speedups.STREAM_CHUNK))
    assert len(copies) == 5 * mongomock_speedups.STREAM_CHUNK  # each copied once


def test_a_streamed_cursor_reads_each_chunk_as_the_documents_stand_then():
    """As a MongoDB cursor reads each batch when it gets there: changed documents come
    changed, removed ones or ones that no longer match do not come at all."""
    mongomock_speedups.install()
    chunk = mongomock_speedups.STREAM_CHUNK
    c = mongomock.MongoClient()["db"]["live"]
    c.insert_many([{"_id": i, "kept": True} for i in range(2 * chunk)])
    cursor = c.find({"kept": True})
    assert next(cursor)["_id"] == 0
    c.update_one({"_id": 1}, {"$set": {"n": "first chunk: already copied"}})
    c.update_one({"_id": chunk}, {"$set": {"n": "changed"}})
    c.delete_one({"_id": chunk + 1})
    c.update_one({"_id": chunk + 2}, {"$set": {"kept": False}})
    c.replace_one({"_id": chunk + 3}, {"kept": True, "n": "replaced"})
    rest = {d["_id"]: d for d in cursor}
    assert "n" not in rest[1]
    assert rest[chunk]["n"] == "changed" and rest[chunk + 3]["n"] == "replaced"
    assert chunk + 1 not in rest and chunk + 2 not in rest
    assert len(rest) == 2 * chunk - 1 - 2


@pytest.mark.parametrize("projection", [
    None, {}, {"n": 1}, {"n": 0}, {"_id": 0}, {"_id": 0, "n": 1}, {"r.a": 1, "r.c": 1},
    {"r.a": 0}, {"r": 1, "_id": 0}, {"n": True, "tag": 1}, ["n", "tag"],
    {"v": {"$slice": 1}}, {"n": 1, "tag": 0}])
def test_a_find_projects_each_document_as_mongomock_would(projection):
    mongomock_speedups.install()
    c = mongomock.MongoClient()["db"]["proj"]
    c.insert_many([{"_id": i, "n": i, "tag": "t", "v": [1, 2, 3],
                    "r": {"a": [i, 1], "b": [2], "c": {"d": 1}}} for i in range(5)])
    own = mongomock.collection.Collection._copy_only_fields
    try:
        expected = [own(c, doc, projection, dict) for doc in c._store.documents]
    except ValueError as exc:  # mixed includes and excludes: refused, with the same words
        with pytest.raises(ValueError, match=str(exc)):
            list(c.find({}, projection, sort=[("_id", 1)]))
        return
    for cursor in (c.find({}, projection, sort=[("_id", 1)]),  # the find's own projection
                   c.find({}, projection)):                    # streamed
        assert list(cursor) == expected


_VALUES = st.one_of(
    st.sampled_from(["a", "b", "", "B", None, True, False, 0, 1, -1, 1.0, 2.5, float("nan"),
                     datetime(2026, 1, 1), datetime(2026, 6, 1, 12), [1, "a"], ["a"], [],
                     {"x": 1}, ObjectId("5f0000000000000000000000")]),
    st.integers(-3, 3), st.text(alphabet="ab", max_size=2))
_PLAIN = st.one_of(st.sampled_from(["a", "b", "", 0, 1, 1.0, 2.5, datetime(2026, 1, 1),
                                    datetime(2026, 6, 1, 12), float("nan"), None, True]),
                   st.integers(-3, 3))
_CONDITIONS = st.one_of(
    _PLAIN,
    st.dictionaries(st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]), _PLAIN,
                    min_size=1, max_size=2),
    st.dictionaries(st.sampled_from(["$in", "$nin"]), st.lists(_PLAIN, max_size=4),
                    min_size=1, max_size=1),
    st.dictionaries(st.just("$exists"), st.booleans(), min_size=1, max_size=1))


@settings(max_examples=400, deadline=None)
@given(doc=st.dictionaries(st.sampled_from(["f", "g", "h", ""]), _VALUES, max_size=3),
       query=st.dictionaries(st.sampled_from(["f", "g", ""]), _CONDITIONS, min_size=1,
                             max_size=2))
def test_a_compiled_filter_answers_as_mongomock_does(doc, query):
    from mongomock.filtering import filter_applies

    matches = mongomock_speedups._compiled_filter(query)
    if matches is not None:
        assert matches(doc) == filter_applies(query, doc)


def test_the_usual_queries_are_compiled_and_the_rest_are_not():
    compiled = mongomock_speedups._compiled_filter
    at = datetime(2026, 1, 1)
    assert compiled({"at": {"$gte": at, "$lt": at}, "status": {"$nin": ["held"]},
                     "unit": {"$in": ["U1", "U2"]}}) is not None
    assert compiled({"kind": "o", "dirty_since": {"$exists": True}}) is not None
    for query in ({}, {"$or": [{"a": 1}]}, {"a.b": 1}, {"a": {"b": 1}}, {"a": [1]}, {"": 1},
                  {"a": {"$regex": "x"}}, {"a": {"$in": [[1]]}}, {"a": True},
                  {"a": {"$exists": 1}}, {"a": float("nan")}):
        assert compiled(query) is None, query


def test_a_scan_gives_what_mongomock_gives(coll):
    coll.insert_many([{"_id": f"x{i}", "n": i % 7, "tag": ["odd", "even"] if i % 5 else None}
                      for i in range(40)])
    for query in ({"n": {"$gte": 3}}, {"tag": "odd"}, {"tag": {"$in": ["even"]}},
                  {"tag": {"$exists": False}}, {"n": {"$nin": [1, 2]}, "tag": {"$ne": "odd"}}):
        fast = [d["_id"] for d in coll.find(query)]
        every = mongomock_speedups.ORIGINALS["get_dataset"](coll, {"$and": [query]}, None,
                                                            None, dict)
        assert fast == [d["_id"] for d in every], query


def test_a_bad_operator_is_refused_even_when_no_document_has_the_key(coll):
    from mongomock import OperationFailure

    with pytest.raises(OperationFailure):
        list(coll.find({"n": {"$foo": 1}, "_id": "nobody"}))
