"""Gudang gateway: the HTTP edge."""
