"""The embedded store behind `mongomock://`, made safe across threads and fast by key.

Thread safety: mongomock updates documents in place and copies them on reads without any
lock, so a read running while another thread writes the same document (the score page
while the consumer applies a backlog) fails with "dictionary changed size during
iteration". Every collection operation, and the moment a cursor materialises its
results, therefore holds one lock per process. Real MongoDB needs none of this.

Cursors: reading one costs O(n) again, not O(n²) (`_cursor_next`), and an unsorted one
gives its first documents without copying every other first (`_streamed`). Copies: documents are
copied by a copy made for them (`_document_copy`), not the general `copy.deepcopy`.
Projections: each combined once, not once per document returned (`_memo_projection`),
and read once per find, not once per document (`_projector`). Version numbers: parsed
once (`_Versions`), not on every field an update sets. Scans: a filter of plain
top-level fields is tested in Python, compiled once per query (`_compiled_filter`),
mongomock's own test deciding what it is not sure of.
Lists of scalars (a bucket's rows) copied and converted in one step (`_rows_whole`).

Keys: mongomock (the embedded store behind `mongomock://`) evaluates every query against every
document of the collection, `_id` included, so a lookup by key costs O(collection size).
Its documents already sit in a dict keyed by `_id`; for filters that pin `_id` to one
value or an `$in` list, this takes the candidates from that dict and still applies the
whole filter to each, so results are the same, only found in O(1). Real MongoDB uses its
`_id` index for the same queries; nothing here runs against it.
"""

from __future__ import annotations

import collections
import copy
import datetime
import functools
import threading
import uuid

from bson import SON, ObjectId

_SCALARS = (str, int, ObjectId, uuid.UUID, datetime.datetime)
_patched = False
ORIGINALS: dict = {}  # mongomock's own functions that are replaced (tests compare)
# One re-entrant lock for every mongomock store in the process: its operations are pure
# Python under the GIL, so a finer lock would buy no parallelism.
LOCK = threading.RLock()
_LOCKED_COLLECTION_METHODS = (
    "insert_one", "insert_many", "update_one", "update_many", "replace_one",
    "find_one_and_update", "find_one_and_replace", "find_one_and_delete", "delete_one",
    "delete_many", "count_documents", "estimated_document_count", "distinct", "aggregate",
    "bulk_write", "create_index", "create_indexes", "drop_index", "drop_indexes", "drop",
    "index_information", "list_indexes", "find_one", "rename",
)
_LOCKED_CURSOR_METHODS = ("_compute_results", "distinct")


def _candidate_ids(query) -> list | None:
    if not isinstance(query, dict) or "_id" not in query:
        return None
    value = query["_id"]
    if isinstance(value, dict):
        if set(value) == {"$eq"}:
            value = value["$eq"]
        elif set(value) == {"$in"} and isinstance(value["$in"], list | tuple):
            ids = value["$in"]
            if all(isinstance(i, _SCALARS) and not isinstance(i, bool) for i in ids):
                return list(dict.fromkeys(ids))
            return None
        else:
            return None
    if isinstance(value, _SCALARS) and not isinstance(value, bool):
        return [value]
    return None


def _locked(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with LOCK:
            return method(*args, **kwargs)

    return wrapper


def install() -> None:
    """Patch mongomock once per process (idempotent): the lock, and the `_id` fast path."""
    global _patched
    if _patched:
        return
    from mongomock import collection as mc

    for name in _LOCKED_COLLECTION_METHODS:
        if hasattr(mc.Collection, name):
            setattr(mc.Collection, name, _locked(getattr(mc.Collection, name)))
    for name in _LOCKED_CURSOR_METHODS:
        if hasattr(mc.Cursor, name):
            setattr(mc.Cursor, name, _locked(getattr(mc.Cursor, name)))
    from mongomock.filtering import filter_applies

    original = mc.Collection._iter_documents

    def _iter_documents(self, filter):
        ids = _candidate_ids(filter)
        if ids is None:
            matches = _compiled_filter(filter)
            if matches is None:
                return original(self, filter)
            if self._store.is_empty:  # as mongomock: the filter is checked all the same
                filter_applies(filter, {})
            return (doc for doc in list(self._store.documents) if matches(doc))
        store = self._store
        found = []
        for key in ids:
            try:
                found.append(store[key])
            except KeyError:
                continue
        if not found:  # as mongomock, a filter no document is tested against is checked
            filter_applies(filter, {})
        return (doc for doc in found if filter_applies(filter, doc))

    mc.Collection._iter_documents = _iter_documents
    ORIGINALS["get_dataset"] = mc.Collection._get_dataset
    mc.Collection._get_dataset = _get_dataset
    mc.version = _Versions(mc.version)
    mc.Cursor.__next__ = mc.Cursor.next = _cursor_next
    mc.copy = _Copy()  # the module's `copy.deepcopy`, for its collections alone
    mc._combine_projection_spec = _memo_projection(mc._combine_projection_spec)
    mc._copy_field = _rows_whole(mc._copy_field, _IMMUTABLE, lambda v, *_: v[:])
    from mongomock import helpers

    for name in ("make_datetime_timezone_aware_in_document",
                 "patch_datetime_awareness_in_document"):
        setattr(helpers, name, _rows_whole(getattr(helpers, name), _PLAIN, lambda v: list(v)))
    _patched = True


# Values a document holds that are never changed in place: shared by a copy, not copied.
_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes, datetime.datetime,
                        datetime.date, ObjectId, uuid.UUID})


_ORDERED = frozenset({collections.OrderedDict, SON})


def _document_copy(value, memo=None):
    """`copy.deepcopy` for documents: dicts and lists copied, immutable values shared,
    anything else by `copy.deepcopy`. mongomock copies a whole document before every
    update (to tell whether it changed) and into every result; a unit's bucket of a busy
    day holds thousands of rows, and the standard deepcopy, with its memo of every
    object, spent most of scoring's time at 200 ratings a second."""
    kind = type(value)
    if kind is dict:
        return {k: _document_copy(v) for k, v in value.items()}
    if kind is list:
        if _IMMUTABLE.issuperset(map(type, value)):  # a row of scalars: its copy is shallow
            return value[:]
        return [_document_copy(v) for v in value]
    if kind in _ORDERED:  # mongomock keeps some documents in these
        return kind((k, _document_copy(v)) for k, v in value.items())
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value, memo)


class _Copy:
    """What mongomock's collection module sees as `copy`."""

    deepcopy = staticmethod(_document_copy)
    copy = staticmethod(copy.copy)


# Scalars that no conversion of mongomock's changes (no datetime, no timestamp).
_PLAIN = frozenset({str, int, float, bool, type(None), bytes, ObjectId, uuid.UUID})


def _rows_whole(walk, scalars: frozenset, whole):
    """mongomock walks every value of a document, one call each, to copy it into a result
    (`_copy_field`) and to convert its datetimes on the way in and out (the `helpers`
    functions); a bucket of a month holds thousands of rows of a few numbers each. A list
    of such scalars is taken `whole` (what the walk gives for it, in one step); anything
    else is walked as before, the walk's own calls coming back here."""

    def walked(value, *args):
        if type(value) in (list, tuple) and scalars.issuperset(map(type, value)):
            return whole(value, *args)
        return walk(value, *args)

    return walked


def _memo_projection(combine):
    """mongomock combines a find's projection into a nested spec again for every document
    it returns; scoring's batch reads its buckets with a projection of every rating it
    brings (hundreds of keys), so that took a fifth of its time. The combined spec of the
    last projections, kept by their items (the spec is only read, never changed)."""
    cached = functools.lru_cache(maxsize=32)(lambda items: combine(dict(items)))

    def combined(spec):
        try:
            return cached(tuple(spec.items()))
        except TypeError:  # a value that is not hashable (an operator's): not kept
            return combine(spec)

    return combined


def _cursor_next(self):
    """mongomock's `Cursor.__next__` slices its whole result list (skip, limit) for every
    document it returns, so reading a cursor of n documents copies n² references: a
    replay of 100,000 ratings spent most of its time there. The same document, by index."""
    if self._limit and self._emitted >= abs(self._limit):
        raise StopIteration
    index = self._skip + self._emitted
    stream = self.__dict__.get("_congso_stream")
    if stream is not None and stream.factory is self._factory:
        results = _streamed(self, index)  # a stream begun serves the cursor to its end
    elif self._sort or (self._results is not None
                        and self._factory_last_generated_results is self._factory):
        results = self._compute_results()  # every result, computed once (under the lock)
    else:
        results = _streamed(self, index)
    if index >= len(results):
        raise StopIteration
    self._emitted += 1
    return results[index]


class _Versions:
    """What mongomock's collection module sees as `packaging.version`: `parse` kept per
    text. It compares pymongo's version with a constant on every field an update sets
    (`_set_updater`) and every document a find projects: a tenth of a bucket write."""

    def __init__(self, module):
        self.parse = functools.lru_cache(maxsize=64)(module.parse)
        self.Version = module.Version


def _get_dataset(self, spec, sort, fields, as_class):
    """mongomock's `Collection._get_dataset` (the documents of a find, sorted, each
    projected), with the projection read once for the find (`_projector`)."""
    from mongomock import filtering

    dataset = self._iter_documents(spec)
    if sort:
        if isinstance(sort, dict):
            sort = sort.items()
        for sort_key, sort_direction in reversed(sort):
            if sort_key == "$natural":
                if sort_direction < 0:
                    dataset = iter(reversed(list(dataset)))
                continue
            if sort_key.startswith("$"):
                raise NotImplementedError(
                    f"Sorting by {sort_key} is not implemented in mongomock yet")
            dataset = iter(sorted(
                dataset, key=lambda x, k=sort_key: filtering.resolve_sort_key(k, x),
                reverse=sort_direction < 0))
    project = _projector(self, fields, as_class)
    for document in dataset:
        yield project(document)


def _projector(collection, fields, container):
    """A function copying a document as `collection._copy_only_fields(doc, fields,
    container)` does, the projection read once: mongomock reads it again for every
    document (five passes over its keys), and scoring's batch read projects a thousand
    keys (each rating it brings) out of every bucket it reads. A projection with an
    operator, or one mongomock refuses, takes mongomock's own way (which says why)."""
    from mongomock import collection as mc

    if not fields or not isinstance(fields, dict):  # the whole document, or a list
        return lambda doc: collection._copy_only_fields(doc, fields, container)
    rest = {k: v for k, v in fields.items() if k != "_id"}
    if not rest or any(isinstance(v, dict) for v in rest.values()) \
            or len({bool(v) for v in rest.values()}) > 1 or len(set(rest.values())) > 1:
        return lambda doc: collection._copy_only_fields(doc, fields, container)
    id_value = fields.get("_id", 1)
    combined = mc._combine_projection_spec(rest)
    is_include = next(iter(rest.values()))

    def project(doc):
        doc_copy = mc._project_by_spec(doc, combined, is_include=is_include,
                                       container=container)
        if id_value == 0:
            doc_copy.pop("_id", None)
        elif "_id" in doc:
            doc_copy["_id"] = doc["_id"]
        return doc_copy

    return project


# --- filters tested in Python ----------------------------------------------------------
# mongomock tests a filter against every document of a collection for any query that is
# not by `_id`, through its general machinery (about 8 µs a document for the dashboards'
# latest comments: 40 ms of a month page's 95). A filter of plain top-level fields, each
# compared with a string, a number or a datetime, is compiled into a Python test once per
# query; a document the test is not certain of (an array, a sub-document, another type,
# a missing field where missing matters) is tested by mongomock's own `filter_applies`.

_MISSING = object()


class _Unsure(Exception):
    """The compiled test cannot tell: mongomock's own decides."""


def _family(value) -> str | None:
    """The comparison family of a plain value (MongoDB compares within a type bracket); a
    NaN, which MongoDB orders apart, is none."""
    kind = type(value)
    if kind is str:
        return "str"
    if kind is int or (kind is float and value == value):
        return "num"
    if kind is datetime.datetime:
        return "date"
    return None


def _operand_check(op: str, operand):
    """A test of one field's value for `{op: operand}`: True or False when certain, raises
    _Unsure otherwise; None if the operator or operand is not one compiled."""
    if op in ("$eq", "$ne"):
        family = _family(operand)
        if family is None:
            return None
        negate = op == "$ne"

        def eq(value):
            if value is _MISSING or value is None:
                return negate
            if _family(value) is None:
                raise _Unsure
            return (_family(value) == family and value == operand) != negate

        return eq
    if op in ("$in", "$nin"):
        if not isinstance(operand, list | tuple) or \
                any(_family(v) is None for v in operand):
            return None
        choices = frozenset(operand)
        inside = op == "$in"

        def member(value):
            if value is _MISSING or value is None:
                return not inside
            family = _family(value)
            if family is None:
                raise _Unsure
            # plain values of different families are never equal in Python either
            return (value in choices) == inside

        return member
    if op in ("$gt", "$gte", "$lt", "$lte"):
        family = _family(operand)
        if family is None:
            return None
        compare = {"$gt": lambda a: a > operand, "$gte": lambda a: a >= operand,
                   "$lt": lambda a: a < operand, "$lte": lambda a: a <= operand}[op]

        def ordered(value):
            if value is _MISSING or value is None or _family(value) != family:
                raise _Unsure  # MongoDB's type brackets: mongomock's own rules decide
            try:
                return compare(value)
            except TypeError:  # a datetime with a zone against one without
                raise _Unsure from None

        return ordered
    if op == "$exists" and type(operand) is bool:
        return lambda value: (value is not _MISSING) == operand
    return None


def _compiled_filter(filter):
    """A Python test of documents against `filter`, or None if it is not one compiled."""
    if not isinstance(filter, dict) or not filter:
        return None
    checks = []
    for field, condition in filter.items():
        # "" names the whole document in mongomock's filters, not a field
        if not isinstance(field, str) or not field or field.startswith("$") or "." in field:
            return None
        if isinstance(condition, dict):
            if not condition or not all(isinstance(k, str) and k.startswith("$")
                                        for k in condition):
                return None  # a sub-document compared whole
            operators = condition.items()
        else:
            operators = (("$eq", condition),)
        for op, operand in operators:
            check = _operand_check(op, operand)
            if check is None:
                return None
            checks.append((field, check))
    from mongomock.filtering import filter_applies

    def matches(doc) -> bool:
        try:
            return all(check(doc.get(field, _MISSING)) for field, check in checks)
        except _Unsure:
            return filter_applies(filter, doc)

    return matches


STREAM_CHUNK = 1000


class _Stream:
    """An unsorted cursor's results as they are read: the keys of the documents that
    matched when it began, the test a document still matches by, how many keys are read,
    the results so far."""

    def __init__(self, factory, keys: list, matches):
        self.factory = factory
        self.keys = keys
        self.matches = matches
        self.read = 0
        self.rows: list = []


def _streamed(cursor, index: int) -> list:
    """An unsorted cursor's results up to `index` at least, copied a chunk at a time (as a
    MongoDB cursor returns batches): mongomock copies every result before it returns the
    first, which made a replay of 100,000 ratings wait 1.5 s for its first event.

    Where this differs from mongomock, it does as MongoDB does: the documents that match
    are found when the cursor begins, and each is read as it stands when its chunk is
    (changed, replaced, or skipped if removed or no longer matching), where mongomock
    copies them all at the first read; and a cursor that found nothing stays empty, where
    mongomock looks again at every read. Once begun, a stream serves the cursor to its end
    (whatever else reads the cursor meanwhile, as `alive` or `distinct` do)."""
    stream = cursor.__dict__.get("_congso_stream")
    if stream is not None and stream.factory is cursor._factory \
            and index < len(stream.rows):
        return stream.rows  # read already: the common case, one call per document
    from mongomock import helpers
    from mongomock.filtering import filter_applies

    if stream is None or stream.factory is not cursor._factory:  # new, or changed since
        spec = cursor._spec
        with LOCK:
            keys = [helpers.hashdict(key) if isinstance(key, dict) else key  # as stored
                    for key in (doc["_id"] for doc in
                                cursor.collection._iter_documents(spec))]
        matches = _compiled_filter(spec) or (lambda doc: filter_applies(spec, doc))
        stream = cursor._congso_stream = _Stream(cursor._factory, keys, matches)
    collection = cursor.collection
    while index >= len(stream.rows) and stream.read < len(stream.keys):
        chunk = stream.keys[stream.read:stream.read + STREAM_CHUNK]
        stream.read += len(chunk)
        with LOCK:
            stored = collection._store._documents
            current = [stored.get(key) for key in chunk]
            project = _projector(collection, cursor._projection, dict)
            copied = [project(doc) for doc in current
                      if doc is not None and stream.matches(doc)]
            if collection.codec_options.tz_aware:
                copied = [helpers.make_datetime_timezone_aware_in_document(x) for x in copied]
        stream.rows.extend(copied)
    return stream.rows

