"""Gudang packing service."""
