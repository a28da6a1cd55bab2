"""Packing use cases: take allocated orders in, hand out pick lists, confirm picks, pack."""

import uuid

from gudang_common.clock import iso, utcnow
from gudang_common.errors import Conflict, NotFound
from gudang_common.events import new_event

from .domain import CANCELLABLE, pick_walk
from .walk import DEFAULT_LAYOUT, walking_distance_m


def accept_allocation(repo, event):
    """order_allocated: the order becomes a pack task waiting to be picked (once)."""
    repo.add_task(
        {
            "_id": event["order_id"],
            "merchant_id": event["merchant_id"],
            "external_id": event["external_id"],
            "status": "waiting",
            "lines": event["lines"],
            "allocated_at": event["occurred_at"],
        }
    )


def pick_list_view(doc, tasks, layout=DEFAULT_LAYOUT):
    stops = pick_walk([t for t in tasks if t["status"] != "cancelled"], layout)
    return {
        "pick_list_id": doc["_id"],
        "packer_id": doc["packer_id"],
        "status": doc["status"],
        "created_at": doc["created_at"],
        "orders": [
            {"order_id": t["_id"], "external_id": t.get("external_id"), "status": t["status"]}
            for t in sorted(tasks, key=lambda t: t["allocated_at"])
        ],
        "stops": stops,
        "walking_distance_m": walking_distance_m(stops, layout),
    }


def _finish_building(repo, doc, layout):
    tasks = repo.tasks_of_list(doc["_id"])
    if not tasks:
        repo.set_list(doc["_id"], {"status": "empty"})
        return None
    doc = repo.set_list(doc["_id"], {"status": "open", "order_ids": [t["_id"] for t in tasks]})
    return pick_list_view(doc, tasks, layout)


def next_pick_list(repo, packer_id, size, layout=DEFAULT_LAYOUT):
    """The packer's open pick list, or a new one of up to `size` oldest waiting orders."""
    current = repo.open_list_of(packer_id)
    if current is not None:
        if current["status"] == "building":  # a crash interrupted building it
            view = _finish_building(repo, current, layout)
            if view:
                return view
        else:
            return pick_list_view(current, repo.tasks_of_list(current["_id"]), layout)
    pick_list_id = f"pl_{uuid.uuid4().hex[:20]}"
    # the list exists before any order points to it, so a crash leaves nothing orphaned
    repo.add_list(
        {
            "_id": pick_list_id,
            "packer_id": packer_id,
            "status": "building",
            "created_at": iso(utcnow()),
        }
    )
    claimed = 0
    for order_id in repo.waiting_tasks(size):
        if claimed >= size:
            break
        if repo.claim(order_id, pick_list_id, packer_id) is not None:
            claimed += 1
    return _finish_building(repo, repo.get_list(pick_list_id), layout)


def confirm_picked(repo, pick_list_id, packer_id, layout=DEFAULT_LAYOUT):
    doc = repo.get_list(pick_list_id)
    if doc is None or doc["packer_id"] != packer_id:
        raise NotFound(
            f"pick list {pick_list_id} not found", {"pick_list_id": ["Not one of your pick lists."]}
        )
    for task in repo.tasks_of_list(pick_list_id):
        if task["status"] != "picking":
            continue
        event = new_event(
            "order_picked",
            merchant_id=task["merchant_id"],
            order_id=task["_id"],
            pick_list_id=pick_list_id,
            packer_id=packer_id,
        )
        repo.move_task(
            task["_id"],
            ["picking"],
            "picked",
            {"picked_at": event["occurred_at"]},
            "order_picked",
            event,
            extra_filter={"pick_list_id": pick_list_id},
        )
    if doc["status"] != "picked":
        doc = repo.set_list(pick_list_id, {"status": "picked", "picked_at": iso(utcnow())})
    return pick_list_view(doc, repo.tasks_of_list(pick_list_id), layout)


def task_view(task):
    return {
        "order_id": task["_id"],
        "merchant_id": task["merchant_id"],
        "status": task["status"],
        "package": task.get("package"),
        "packer_id": task.get("packer_id"),
        "packed_at": task.get("packed_at"),
    }


def pack(repo, order_id, packer_id, package):
    task = repo.get_task(order_id)
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
    done = repo.move_task(order_id, ["picked"], "packed", fields, "order_packed", event)
    if done is None:  # changed meanwhile: answer from its state now
        return pack(repo, order_id, packer_id, package)
    return task_view(done)


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
    if done is None:
        return cancel(repo, merchant_id, order_id, reason)
    return {"order_id": order_id, "status": "cancelled"}
