"""Gudang shipping service."""
