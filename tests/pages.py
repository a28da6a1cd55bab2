"""Reading a whole list through its pages, as a client does."""

from gudang_common.pagination import page


def walk(collection, query, order, limit, between=lambda: None):
    """Every `_id` of the list, page by page; `between` runs after each page but the last."""
    seen, cursor = [], None
    while True:
        docs, cursor = page(collection, query, order, limit, cursor)
        seen += [d["_id"] for d in docs]
        if cursor is None:
            return seen
        between()
