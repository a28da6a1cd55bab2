"""Shared plumbing of the Gudang services: event catalog, store, outbox, consumers, metrics."""
