"""Shared test helpers: data locations, servers, facts, cases. Not tests."""
