"""Francium: the readable data provider; projects the change feed into the read cache and serves reads."""
