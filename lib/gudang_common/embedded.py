"""The embedded store: litemongo's SQLite files, plus ordered indexes that serve the lists.

litemongo keeps each collection in an SQLite file (a document per row, BSON) and plans queries
with hash indexes held in memory: an equality finds its documents at once, but a sorted page
of a long list has to read, filter and sort every document of the owner. Here every index
whose last key is `_id` (the indexes of the lists, see `pagination`) is also kept as a real
SQLite index: a table in the collection's own file with one row per document (the document's
key and its values for the index's keys) and a B-tree over those values. The row is written
in the same SQLite transaction as the document, so a crash keeps both or neither.

`find_ordered` then reads a page as one range of that B-tree: the equality keys of the
filter, the time range and the cursor go to SQLite, which walks the index in the list's
order and stops after the page; each document found is still checked against the whole
filter by litemongo's own matcher, so the index only has to be a superset in the right
order. A list the ordered indexes cannot serve (another store, another sort, a value that
is not a string, number or null) is answered as before by the ordinary query.

Every process opens these files through `open_client`: a plain litemongo client would write
documents without their index rows. An index whose rows do not match the documents when it
is opened (a different count) is rebuilt then.
"""

import hashlib
import logging
from pathlib import Path

import litemongo
from litemongo import sqlite_store
from litemongo._vendor.mongomock import filtering
from pymongo import ASCENDING

log = logging.getLogger(__name__)

INFO = sqlite_store.CollectionStore.INFO
DOCUMENTS = sqlite_store.CollectionStore.DOCUMENTS
RANGE = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
CHUNK = 500  # most index rows read at a time while filling a page


class Unkeyable(ValueError):
    """A document's value at an ordered index's key is not a string, number or null."""


def open_client(path):
    """A pymongo-like client on the SQLite files under `path`, with ordered indexes."""
    return litemongo.MongoClient(store=ServerStore(Path(path)))


def ordered_spec(spec):
    """Whether an index (mongomock's spec) is kept ordered: a list's index, `_id` last."""
    keys = spec["key"]
    return (
        keys[-1][0] == "_id" and not spec.get("sparse") and not spec.get("partialFilterExpression")
    )


def _scalar(value):
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise Unkeyable(type(value).__name__)


def _values(doc, path):
    """The values a document has at `path` for an index: one, or each element of an array on
    the way (a multikey index, as MongoDB's); null when missing."""
    return sorted(set(_walk(doc, path.split("."), False)), key=repr) or [None]


def _walk(value, parts, expanded):
    if isinstance(value, list):
        if expanded:
            raise Unkeyable("array in an array")
        return [v for item in value for v in _walk(item, parts, True)]
    if not parts:
        return [_scalar(value)]
    if isinstance(value, dict):
        return _walk(value.get(parts[0]), parts[1:], expanded)
    return [None]


class OrderedIndex:
    """One list index kept as an SQLite table and B-tree in the collection's file: a row per
    document (a row per element for an array, as a multikey index)."""

    def __init__(self, name, keys):
        self.name = name
        self.keys = [(field, direction) for field, direction in keys]
        self.table = "ordered_" + hashlib.sha1(name.encode()).hexdigest()[:16]
        self.columns = [f"c{i}" for i in range(len(self.keys))]
        cols = ", ".join(self.columns)
        self._read = f"SELECT {cols} FROM {self.table} WHERE doc_key = ?"
        self._insert = f"INSERT INTO {self.table} VALUES (?, {', '.join('?' * len(self.columns))})"

    def create(self, cur):
        directions = [
            f"{c} {'ASC' if d == ASCENDING else 'DESC'}"
            for c, (_, d) in zip(self.columns, self.keys, strict=True)
        ]
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table}(doc_key TEXT, {', '.join(self.columns)})"
        )
        cur.execute(
            f"CREATE INDEX IF NOT EXISTS {self.table}_keys ON {self.table}({', '.join(directions)})"
        )
        cur.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_doc ON {self.table}(doc_key)")

    def entries(self, doc):
        """The rows of `doc`: one per combination of its values (at most one array)."""
        rows = [()]
        multi = 0
        for field, _ in self.keys:
            values = _values(doc, field)
            multi += len(values) > 1
            if multi > 1:
                raise Unkeyable("two arrays in one index")
            rows = [row + (v,) for row in rows for v in values]
        return rows

    def put(self, cur, doc_key, doc, fresh=False):
        rows = self.entries(doc)
        if not fresh:
            held = cur.execute(self._read, (doc_key,)).fetchall()
            if sorted(held, key=repr) == sorted(rows, key=repr):
                return  # a write that leaves this index's keys alone
            if held:
                self.remove(cur, doc_key)
        if len(rows) == 1:
            cur.execute(self._insert, (doc_key, *rows[0]))
        else:
            cur.executemany(self._insert, [(doc_key, *row) for row in rows])

    def remove(self, cur, doc_key):
        cur.execute(f"DELETE FROM {self.table} WHERE doc_key = ?", (doc_key,))

    def drop(self, cur):
        cur.execute(f"DROP TABLE IF EXISTS {self.table}")

    def documents(self, cur):
        return cur.execute(f"SELECT count(DISTINCT doc_key) FROM {self.table}").fetchone()[0]


class OrderedTable(sqlite_store.TableDict):
    """The documents table; each write also writes the document's ordered index rows."""

    ordered = None  # index name -> OrderedIndex, set by the collection
    on_unkeyable = None

    def __setitem__(self, key, val):
        if not self.ordered:
            return super().__setitem__(key, val)
        doc = self._decode_doc(val) if isinstance(val, bytes) else val
        blob = val if isinstance(val, bytes) else self._encode_doc(val)
        doc_key = self.encode_key(key)
        with self._connection:
            self._cur.execute(
                f"INSERT INTO {DOCUMENTS} VALUES(?, ?) "
                "ON CONFLICT(_id) DO UPDATE SET doc=excluded.doc",
                (doc_key, blob),
            )
            for index in list(self.ordered.values()):
                try:
                    index.put(self._cur, doc_key, doc)
                except Unkeyable as unkeyable:
                    self.on_unkeyable(index, unkeyable)

    def __delitem__(self, key):
        if not self.ordered:
            return super().__delitem__(key)
        doc_key = self.encode_key(key)
        with self._connection:
            gone = self._cur.execute(f"DELETE FROM {DOCUMENTS} WHERE _id=?", (doc_key,))
            for index in self.ordered.values():
                index.remove(self._cur, doc_key)
        if gone.rowcount <= 0:
            raise KeyError(doc_key)


class CollectionStore(sqlite_store.CollectionStore):
    """litemongo's collection file with its lists' indexes kept ordered in SQLite."""

    def open(self):
        super().open()
        plain = self._documents
        self._documents = OrderedTable(
            DOCUMENTS,
            self._connection,
            self._cur,
            codec_options=self._codec_options,
            key_format=plain.key_format,
        )
        self._documents.ordered = {}
        self._documents.on_unkeyable = self._give_up
        for name, spec in self.indexes.items():
            self._keep_ordered(name, spec)

    def create_index(self, index_name, index_dict):
        super().create_index(index_name, index_dict)
        self._keep_ordered(index_name, index_dict)

    def drop_index(self, index_name):
        super().drop_index(index_name)
        index = self._documents.ordered.pop(index_name, None)
        if index is not None:
            with self._connection:
                index.drop(self._cur)

    def drop(self):
        with self._connection:
            for index in self._documents.ordered.values():
                index.drop(self._cur)
        self._documents.ordered = {}
        super().drop()

    def copy_from(self, source):
        super().copy_from(source)
        for index in list(self._documents.ordered.values()):
            self._rebuild(index)

    def _keep_ordered(self, name, spec):
        if not ordered_spec(spec) or name in self._documents.ordered:
            return
        broken = self._connection.execute(
            f"SELECT 1 FROM {INFO} WHERE key = ?", (f"unordered:{name}",)
        ).fetchone()
        if broken:
            return
        index = OrderedIndex(name, spec["key"])
        with self._connection:
            index.create(self._cur)
        if index.documents(self._cur) != len(self._documents):
            self._rebuild(index)
        self._documents.ordered[name] = index

    def _rebuild(self, index):
        try:
            with self._connection:
                self._cur.execute(f"DELETE FROM {index.table}")
                for doc_key, doc in self._documents.items():
                    index.put(self._cur, doc_key, doc, fresh=True)
        except Unkeyable as unkeyable:
            with self._connection:
                self._give_up(index, unkeyable)

    def _give_up(self, index, why):
        """A value the ordered index cannot hold: the list is served by the ordinary query."""
        log.warning(
            "index %s of %s no longer kept ordered: a %s value", index.name, self._path, why
        )
        index.drop(self._cur)
        self._cur.execute(
            f"INSERT OR REPLACE INTO {INFO} VALUES (?, 1)", (f"unordered:{index.name}",)
        )
        self._documents.ordered.pop(index.name, None)

    def serving(self, query, order):
        """The ordered index that serves `query` in `order`: every key before the sort is
        an equality of the query, the rest is the sort; the one with most such keys."""
        best = None
        for index in self._documents.ordered.values():
            head = index.keys[: len(index.keys) - len(order)]
            tail = index.keys[len(head) :]
            if [f for f, _ in tail] != [f for f, _ in order]:
                continue
            if all(_equality(query.get(f)) for f, _ in head):
                if best is None or len(index.keys) > len(best.keys):
                    best = index
        return best

    def keys_in_order(self, index, query, order, after):
        """The document keys of `index`'s range for `query` after `after`, in `order`."""
        where, params = [], []
        for column, (field, _) in zip(index.columns, index.keys, strict=True):
            for op, value in _conditions(query.get(field)):
                where.append(f"{column} {op} ?")
                params.append(value)
        sort = index.columns[len(index.keys) - len(order) :]
        if after is not None:
            op = "<" if order[0][1] != ASCENDING else ">"
            where.append(f"({', '.join(sort)}) {op} ({', '.join('?' * len(sort))})")
            params.extend(after)
        word = "ASC" if order[0][1] == ASCENDING else "DESC"
        sql = (
            f"SELECT doc_key FROM {index.table}"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + f" ORDER BY {', '.join(f'{c} {word}' for c in sort)}"
        )
        return self._connection.execute(sql, params)

    def documents_by_key(self, doc_keys):
        """The documents of these (encoded) keys, in that order."""
        return self._documents.get_many_encoded(doc_keys)


class DatabaseStore(sqlite_store.DatabaseStore):
    def __getitem__(self, col_name):
        if col_name not in self._collections:
            self._collections[col_name] = CollectionStore(
                self._dirpath / col_name, codec_options=self._codec_options
            )
        return self._collections[col_name]


class ServerStore(sqlite_store.ServerStore):
    def __getitem__(self, db_name):
        if db_name not in self._databases:
            self._databases[db_name] = DatabaseStore(self._dirpath / db_name)
        return self._databases[db_name]


def _equality(condition):
    return isinstance(condition, (str, int, float)) and not isinstance(condition, bool)


def _conditions(condition):
    """The SQL comparisons a query's condition on a field gives (a superset is enough)."""
    if _equality(condition):
        return [("=", condition)]
    if isinstance(condition, dict):
        return [
            (RANGE[op], value)
            for op, value in condition.items()
            if op in RANGE and _equality(value)
        ]
    return []


def _uniform(order):
    return len({direction for _, direction in order}) == 1


def find_ordered(collection, query, order, after, count, projection=None):
    """Up to `count` documents matching `query` in `order` after the sort key `after`, read
    by an ordered index; None when the collection is not one of ours or no index serves."""
    store = getattr(collection, "_store", None)
    if not isinstance(store, CollectionStore) or not _uniform(order):
        return None
    if after is not None and any(v is None or isinstance(v, bool) for v in after):
        return None
    index = store.serving(query, order)
    if index is None:
        return None
    rows = store.keys_in_order(index, query, order, after)
    found, seen = [], set()
    while len(found) < count:
        fetched = rows.fetchmany(min(max(count - len(found), 1), CHUNK))
        if not fetched:
            break
        chunk = [key for (key,) in fetched if key not in seen]
        seen.update(chunk)
        for doc in store.documents_by_key(chunk):
            if filtering.filter_applies(query, doc):
                found.append(doc)
    rows.close()
    found = found[:count]
    if projection is None or not found:
        return found
    ids = [doc["_id"] for doc in found]
    shown = {doc["_id"]: doc for doc in collection.find({"_id": {"$in": ids}}, projection)}
    return [shown[i] for i in ids if i in shown]
