"""Gudang billing service."""
