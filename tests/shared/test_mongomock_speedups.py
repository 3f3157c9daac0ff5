"""The `_id` fast path gives the same answers as mongomock's full scan."""

import mongomock
import pytest
from bson import ObjectId

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
