"""Fluorine: the writable data provider; every write runs here in one PostgreSQL transaction."""
