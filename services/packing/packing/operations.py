"""Packing use cases: take allocated orders in, hand out pick lists, confirm picks, pack."""

import uuid

from gudang_common.clock import iso, utcnow
from gudang_common.errors import Conflict, NotFound
from gudang_common.events import new_event

from .domain import CANCELLABLE
from .pick_rules import EMPTY_PROGRESS
from .picking import view_of
from .walk import DEFAULT_LAYOUT


def accept_allocation(repo, event):
    """order_allocated: the order becomes a pack task waiting to be picked (once). A new
    allocation after a short pick (another event id) puts it back in the queue."""
    added = repo.add_task(
        {
            "_id": event["order_id"],
            "merchant_id": event["merchant_id"],
            "external_id": event["external_id"],
            "status": "waiting",
            "lines": event["lines"],
            "allocated_at": event["occurred_at"],
            "allocations": [event["event_id"]],
        }
    )
    if not added:
        repo.reallocate_task(event)


def _finish_building(repo, doc, layout):
    tasks = repo.tasks_of_list(doc["_id"])
    if not tasks:
        repo.set_list(doc["_id"], {"status": "empty"})
        return None
    doc = repo.set_list(doc["_id"], {"status": "open", "order_ids": [t["_id"] for t in tasks]})
    return view_of(repo, doc, layout)


def next_pick_list(repo, packer_id, size, layout=DEFAULT_LAYOUT):
    """The packer's open pick list, or a new one of up to `size` oldest waiting orders."""
    current = repo.open_list_of(packer_id)
    if current is not None:
        if current["status"] == "building":  # a crash interrupted building it
            view = _finish_building(repo, current, layout)
            if view:
                return view
        else:
            return view_of(repo, current, layout)
    waiting = repo.waiting_tasks(size)
    if not waiting:  # an idle packer asking again: nothing to write
        return None
    pick_list_id = f"pl_{uuid.uuid4().hex[:20]}"
    # the list exists before any order points to it, so a crash leaves nothing orphaned
    repo.add_list(
        {
            "_id": pick_list_id,
            "packer_id": packer_id,
            "status": "building",
            "created_at": iso(utcnow()),
            "progress": EMPTY_PROGRESS,
            "version": 0,
        }
    )
    claimed = 0
    for order_id in waiting:
        if claimed >= size:
            break
        if repo.claim(order_id, pick_list_id, packer_id):
            claimed += 1
    return _finish_building(repo, repo.get_list(pick_list_id), layout)


def task_view(task):
    return {
        "order_id": task["_id"],
        "merchant_id": task["merchant_id"],
        "status": task["status"],
        "package": task.get("package"),
        "packer_id": task.get("packer_id"),
        "packed_at": task.get("packed_at"),
    }


def pack(repo, order_id, packer_id, package, task=None):
    """Pack a picked order; `task` is the pack task as just read, if the caller has it."""
    task = task or repo.get_task(order_id)
    if task is None:
        raise NotFound(f"order {order_id} is not in packing", {"order_id": ["Unknown order."]})
    if task["status"] == "packed":
        return task_view(task)  # a repeated tap on the tablet
    if task["status"] != "picked":
        raise Conflict(
            f"order {order_id} is {task['status']}, not picked",
            {"order_id": [f"Order is {task['status']}."]},
        )
    dims = {k: package[k] for k in ("weight_g", "length_cm", "width_cm", "height_cm")}
    # the carton and its fee travel with the event: billing charges the fee the box had
    dims.update(box=package.get("box"), packaging_fee=package.get("packaging_fee", 0))
    event = new_event(
        "order_packed",
        merchant_id=task["merchant_id"],
        order_id=order_id,
        packer_id=packer_id,
        package=dims,
        lines=task["lines"],
    )
    fields = {
        "package": dims,
        "packer_id": packer_id,
        "packed_at": event["occurred_at"],
    }
    if not repo.move_task(order_id, ["picked"], "packed", fields, "order_packed", event):
        return pack(repo, order_id, packer_id, package)  # changed meanwhile: read it again
    return task_view(dict(task, **fields, status="packed"))


def cancel(repo, merchant_id, order_id, reason):
    """Cancel until packed. An order packing has not seen yet gets a tombstone."""
    event = new_event("order_cancelled", merchant_id=merchant_id, order_id=order_id, reason=reason)
    task = repo.get_task(order_id)
    if task is None:
        if repo.add_cancelled_tombstone(order_id, merchant_id, event):
            return {"order_id": order_id, "status": "cancelled"}
        task = repo.get_task(order_id)
    if task["merchant_id"] != merchant_id:
        raise NotFound(f"order {order_id} not found", {"order_id": ["Unknown order."]})
    if task["status"] == "cancelled":
        return {"order_id": order_id, "status": "cancelled"}
    if task["status"] not in CANCELLABLE:
        raise Conflict(
            f"order {order_id} is already {task['status']}",
            {"order_id": ["Packed orders cannot be cancelled."]},
        )
    done = repo.move_task(
        order_id, CANCELLABLE, "cancelled", {"cancel_reason": reason}, "order_cancelled", event
    )
    if not done:
        return cancel(repo, merchant_id, order_id, reason)
    return {"order_id": order_id, "status": "cancelled"}
