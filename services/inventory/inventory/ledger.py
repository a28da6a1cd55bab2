"""The second half of a move: moved units land in their destination, and what a crash left
pending is finished before anyone reads the ledger."""


def land_moves(repo, sid):
    """Land the moves still in flight from stock document `sid`, each once (its movement id
    is the apply key), then let the source forget them."""
    doc, moves = repo.moves_in_flight(sid)
    for mv in moves:
        transfer = mv["transfer"]
        repo.add_units(
            doc["merchant_id"],
            doc["sku"],
            {"_id": transfer["bin"], "pick_sequence": transfer["pick_sequence"]},
            -mv["qty"],
            mv["movement_id"],
            mv["type"],
            lot=doc.get("lot"),
            expiry=transfer.get("expiry"),
            ref=mv["movement_id"],
            reason=mv.get("reason"),
            by=mv.get("by"),
        )
        repo.transfer_landed(sid, mv["movement_id"])
    return len(moves)


def finish_pending(repo, merchant_id=None):
    """Copy movements a crash left uncopied and land moves it left in flight."""
    return sum(land_moves(repo, sid) for sid in repo.flush_pending_movements(merchant_id))
