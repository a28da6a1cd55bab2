"""Gudang inventory service."""
