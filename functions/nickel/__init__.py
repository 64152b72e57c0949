"""Nickel: assets and wallets — issue, transfer and redeem on a double-entry ledger."""
