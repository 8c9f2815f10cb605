"""Stores: the embedded Oxigraph store, the HTTP client for remote stores, loading, sync of
export folders, and serving an endpoint."""
