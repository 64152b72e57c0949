"""Francium's GraphQL read API: one strawberry schema over the same read views as REST.

Imported only by the ``POST /v1/graphql`` route, on its first call (see routes/graphql.py).
"""
