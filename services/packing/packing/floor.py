"""What the floor sees beyond one scan: a packer's unfinished work after a reload or on
another tablet, and the supervisor's view of open lists, totes and packers, with the
right to hand a list to another packer or release it."""

from gudang_common.errors import NotFound

from .pick_rules import refuse
from .picking import order_view, view_of


def my_work(repo, packer_id):
    """The packer's open pick list (with its scans) and every order they picked and have
    not packed yet, in its tote."""
    current = repo.open_list_of(packer_id)
    open_list = view_of(repo, current) if current and current["status"] == "open" else None
    picked = sorted(repo.picked_of(packer_id), key=lambda t: t.get("picked_at") or "")
    return {
        "packer_id": packer_id,
        "pick_list": open_list,
        "picked": [order_view(t) for t in picked],
    }


def list_summary(repo, doc):
    view = view_of(repo, doc)
    return {k: view[k] for k in ("pick_list_id", "packer_id", "status", "created_at", "units")} | {
        "units_scanned": view["units_scanned"],
        "orders": [
            {k: o[k] for k in ("order_id", "external_id", "status", "tote")} for o in view["orders"]
        ],
    }


def floor(repo):
    """Every open pick list with its progress and totes, and every picked, unpacked order
    per packer."""
    lists = sorted(repo.open_lists(), key=lambda d: d["created_at"])
    packers = {}
    for task in repo.all_picked():
        packers.setdefault(task.get("packer_id"), []).append(order_view(task))
    return {
        "pick_lists": [list_summary(repo, d) for d in lists if d["status"] == "open"],
        "picked_not_packed": [
            {"packer_id": p, "orders": orders} for p, orders in sorted(packers.items(), key=str)
        ],
    }


def _open_list(repo, pick_list_id):
    doc = repo.get_list(pick_list_id)
    if doc is None:
        raise NotFound(
            f"pick list {pick_list_id} not found", {"pick_list_id": ["Unknown pick list."]}
        )
    if doc["status"] != "open":
        refuse("PICK_LIST_CLOSED", "pick_list_id", f"Pick list is {doc['status']}.")
    return doc


def reassign(repo, pick_list_id, to_packer):
    """Hand an open list (its scans and totes go with it) to another packer."""
    doc = _open_list(repo, pick_list_id)
    if doc["packer_id"] == to_packer:
        return view_of(repo, doc)
    if repo.open_list_of(to_packer) is not None:
        refuse("PACKER_BUSY", "packer_id", f"{to_packer} has an open pick list already.")
    done = repo.hand_list_to(pick_list_id, doc["packer_id"], to_packer)
    if done is None:  # changed meanwhile: decide again on what is stored now
        return reassign(repo, pick_list_id, to_packer)
    return view_of(repo, done)


def release(repo, pick_list_id):
    """Close an open list: its unpicked orders wait for the next list, their totes free."""
    doc = repo.get_list(pick_list_id)
    if doc is None:
        raise NotFound(
            f"pick list {pick_list_id} not found", {"pick_list_id": ["Unknown pick list."]}
        )
    if doc["status"] not in ("open", "released"):
        refuse("PICK_LIST_CLOSED", "pick_list_id", f"Pick list is {doc['status']}.")
    if doc["status"] == "open":
        doc = repo.set_list(pick_list_id, {"status": "released"})
    repo.release_tasks(pick_list_id)  # again on a repeat: finishes a release a crash cut short
    return {"pick_list_id": pick_list_id, "status": "released"}
