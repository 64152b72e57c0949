"""docs/api.md, the API reference for its users, rendered from the OpenAPI document.

The conventions are written here once; every route's section (what it does, who may call it, its
headers, parameters, body, answer and errors, with an example request and answer) is generated
from schema/openapi.json, so the reference cannot drift from what the API serves: ``make schemas``
writes it, and a test fails when the committed file differs.
"""

from __future__ import annotations

import json
from typing import Any

SECTIONS = [
    ("Oxygen: entities and auth", ("/v1/entities", "/v1/auth", "/.well-known")),
    ("Nickel: assets and wallets", ("/v1/assets", "/v1/wallets", "/v1/transfers", "/v1/holds")),
    ("Carbon: groups", ("/v1/groups", "/v1/entities/me/groups")),
    ("Rhenium: messages", ("/v1/messages", "/v1/broadcasts", "/v1/realtime")),
    ("Francium: GraphQL and self-description", ("/v1/graphql", "/v1/health", "/v1/openapi.json")),
]
METHOD_ORDER = ["get", "post", "put", "patch", "delete"]
# Examples by field name (the schema alone would give "string"): what a client would really send.
EXAMPLES: dict[str, Any] = {
    "handle": "ada",
    "display_name": "Ada Lovelace",
    "email": "ada@example.com",
    "password": "correct horse battery staple",
    "current_password": "correct horse battery staple",
    "login": "ada",
    "access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2ln",
    "refresh_token": "Qm9yZWFsaXMgaXMgYSBuaWNlIHRva2Vu",
    "token_type": "Bearer",
    "expires_in": 900,
    "code": "EUR",
    "asset": "EUR",
    "name": "Euro",
    "scale": 2,
    "amount": 2500,
    "amount_each": 100,
    "memo": "Lunch",
    "body": "See you at noon!",
    "description": "We climb on Saturdays.",
    "visibility": "public",
    "role": "member",
    "roles": ["issuer"],
    "status": "active",
    "member_count": 2,
    "transfers": 2,
    "total": 200,
    "read": False,
    "captured": 0,
    "reverses": None,
    "next_cursor": None,
    "query": "{ me { handle } }",
}
IDS = {
    "id": "0b6f3c1e-7d2a-4c8e-9f1a-2b3c4d5e6f70",
    "entity_id": "5c1f8e2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b",
    "to": "5c1f8e2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b",
    "to_entity": "5c1f8e2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b",
    "from": "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918",
    "owner_id": "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918",
    "group_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
    "hold_id": "3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b",
    "transfer_id": "0b6f3c1e-7d2a-4c8e-9f1a-2b3c4d5e6f70",
}
WHEN = "2026-12-02T10:15:30.123456Z"
PREFERRED = ("transfer", "real", "member", "public", "active", "pending")  # the everyday value of an enum

INTRO = """# Elements API reference

The REST API of Elements, for its users. The machine-readable form is the OpenAPI 3.1 document
served at `GET /v1/openapi.json` (and committed as `schema/openapi.json`); the GraphQL schema is
`schema/graphql/schema.graphql`. This page is generated from them (`make schemas`): every route
below is exactly what the API serves.

## Conventions

- **Base URL.** Deployed: the stack output `ApiUrl`. Locally (`make run`): `http://127.0.0.1:3000`
  (`PORT` changes the port). Requests and answers are JSON (`application/json`), errors
  `application/problem+json`. Bodies over 1 MiB are refused (413).
- **Auth.** `Authorization: Bearer <access token>` on every route but those marked *public*. Get a
  token pair from `POST /v1/auth/token`; access tokens live 15 minutes, refresh them with
  `POST /v1/auth/refresh`. Tokens are ES256 JWTs; their keys are at `GET /.well-known/jwks.json`.
- **IDs** are UUIDs; **times** RFC 3339 UTC. **Amounts** are JSON integers in the asset's minor
  units, 1 to 9223372036854775807 (a string or a fraction is 400); the asset's `scale` says how many
  digits are decimals (2500 with scale 2 is 25.00).
- **Lists** take `?limit=` (1..100, default 20) and `?cursor=` (opaque, from the previous page's
  `next_cursor`) and answer `{"items": [...], "next_cursor": "..." | null}`, in the order each
  route states.
- **`X-Request-Id`.** Every answer carries one (a valid incoming one is echoed); quote it when
  reporting a problem.
- **`Idempotency-Key`** (1..128 printable ASCII), where a route takes it: a repeat of the same key
  with the same body answers the first answer again (same status and body) and changes nothing;
  the same key with another body is 409 `conflict`. Keys are kept at least 24 hours.
- **Read your writes.** Every successful write answers `X-Write-Version`. Send it back as
  `X-Min-Version` on a read (REST GET or GraphQL) and the read reflects that write, waiting for the
  read side if needed (up to 5 s, then 503 `not_ready` with `Retry-After`). Without it, reads are
  eventually consistent (typically well under a second behind). A token works only for the caller it
  was issued to: another caller's, or a malformed one, is 400 at once.

## Errors

Every error, the gateway's own included, is an RFC 9457 problem:

```json
{"type": "https://errors.elements.dev/invalid_request", "title": "Invalid request", "status": 400,
 "detail": "The request is not valid.", "code": "invalid_request", "request_id": "c0ffee00-...",
 "errors": [{"loc": ["body", "amount"], "msg": "Input should be a valid integer", "type": "int_type"}]}
```

| code | status | when |
| --- | --- | --- |
| `invalid_request` | 400 | malformed JSON, wrong types, failed validation (`errors` lists each field) |
| `unauthorized` | 401 | missing, malformed, expired or revoked token; wrong credentials |
| `forbidden` | 403 | authenticated but not allowed |
| `endpoint_not_found` | 404 | no route for this method and path |
| `not_found` | 404 | the resource does not exist, or the caller may not know it exists |
| `conflict` | 409 | uniqueness violated; an idempotency key reused with another body |
| `payload_too_large` | 413 | the body is over 1 MiB |
| `operation_failed` | 422 | refused by a business rule (not enough balance, the owner leaving, ...) |
| `rate_limited` | 429 | too many attempts; wait `Retry-After` seconds |
| `not_ready` | 503 | the read side is behind: `X-Min-Version` not reached, a login moments old; retry |
| `internal_error` | 500 | anything unexpected: only `request_id`, no internals |

Login throttling: 5 failed logins for one entity from one address within 15 minutes make that
address wait (429) until the window passes; 100 from all addresses together make every address
wait. Other addresses are not refused because of one address's failures.

## GraphQL

`POST /v1/graphql` with `{"query": ..., "variables"?: {...}, "operationName"?: ...}` answers
GraphQL over the read side: `me`, `entity(id)`, `entityByHandle(handle)`, `assets`, `asset(code)`,
`wallet { balances transfers(first, after) holds(first, after) }`, `group(id) { members(first, after) }`, `myGroups`,
`inbox(first, after, unread)`. Fields are camelCase; connections are Relay-style (`edges { node
cursor }`, `pageInfo { hasNextPage endCursor }`); the visibility rules are REST's. A field that
fails comes in `errors` with `extensions.code` from the table above (HTTP 200, `data` keeps the
rest). A request that cannot run is 400 before anything is read: not JSON, no query, a syntax or
validation error, variables of the wrong type, several operations without `operationName`, or over
a limit (depth 8, 20 aliases, 2,000 tokens, and a cost of 10,000 objects: for every object field,
the product of the `first` arguments along its path, summed). A query that runs past 2 s stops
resolving fields (`operation_failed`).

```sh
curl -s "$API/v1/graphql" -H "Authorization: Bearer $TOKEN" \\
  -d '{"query": "{ me { handle } wallet { balances { asset amount } } inbox(first: 5) { edges { node { body } } } }"}'
```

## Live delivery

New messages are pushed over a WebSocket as they enter the caller's inbox (direct messages, group
and platform broadcasts, system messages). Ask `POST /v1/realtime/tickets` for a single-use ticket
(valid 60 s; the access token never goes in a URL), then connect to the answer's `url` with
`?ticket=<ticket>`. An unknown, used or expired ticket, or one of an entity deactivated since, is
refused at the handshake (401). The server sends JSON text frames
`{"type": "message", "message": <the message as the inbox shows it>}`, at least once while you are
connected (dedupe by `message.id`); anything missed while disconnected is in the inbox. Clients send
nothing: a frame from the client closes the connection (policy violation). Deployed, `url` is the
stack's WebSocket API (`wss://…`); locally `ws://127.0.0.1:<port>/v1/realtime`.

```sh
URL=$(curl -s -X POST "$API/v1/realtime/tickets" -H "Authorization: Bearer $TOKEN" \\
  | python3 -c 'import json, sys; t = json.load(sys.stdin); print(t["url"] + "?ticket=" + t["ticket"])')
python -m websockets "$URL"   # prints each message as it arrives
```

## Routes
"""


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def example(schema: dict[str, Any], document: dict[str, Any], name: str = "") -> Any:
    """An example value of ``schema`` (field-name examples first, then the schema's own shape)."""
    schema = _resolve(schema, document)
    if name in EXAMPLES and EXAMPLES[name] in schema.get("enum", [EXAMPLES[name]]):
        return EXAMPLES[name]
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        return example(options[0], document, name) if options else None
    if "enum" in schema:
        return next((v for v in PREFERRED if v in schema["enum"]), schema["enum"][0])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {key: example(value, document, key) for key, value in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(schema.get("items", {}), document, name.rstrip("s"))]
    if schema.get("format") == "uuid":
        return IDS.get(name, IDS["id"])
    if schema.get("format") == "date-time":
        return WHEN
    return {"integer": 1, "number": 1, "boolean": True}.get(str(kind), name or "text")


def _constraints(schema: dict[str, Any]) -> str:
    parts = []
    for key, text in (
        ("minLength", "≥ {} chars"),
        ("maxLength", "≤ {} chars"),
        ("minimum", "≥ {}"),
        ("maximum", "≤ {}"),
    ):
        if key in schema:
            parts.append(text.format(schema[key]))
    if "pattern" in schema:
        parts.append(f"`{schema['pattern']}`")
    if "enum" in schema:
        parts.append(" \\| ".join(f"`{v}`" for v in schema["enum"]))
    if "format" in schema:
        parts.append(schema["format"])
    return ", ".join(parts)


def _type(schema: dict[str, Any], document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    schema = _resolve(schema, document)
    if "anyOf" in schema:
        options = [_resolve(o, document) for o in schema["anyOf"] if o.get("type") != "null"]
        nullable = len(options) < len(schema["anyOf"])
        kind, inner = _type(options[0], document) if options else ("null", {})
        return (f"{kind} or null" if nullable else kind), inner
    kind = schema.get("type", "object")
    if kind == "array":
        item, _ = _type(schema.get("items", {}), document)
        return f"array of {item}", schema
    return str(kind), schema


def _fields_table(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    schema = _resolve(schema, document)
    if "anyOf" in schema:  # an optional body: the object it is when sent
        schema = _resolve(next(o for o in schema["anyOf"] if o.get("type") != "null"), document)
    required = set(schema.get("required", []))
    rows = ["| field | type | required | constraints |", "| --- | --- | --- | --- |"]
    for name, field in schema.get("properties", {}).items():
        kind, inner = _type(field, document)
        rows.append(f"| `{name}` | {kind} | {'yes' if name in required else 'no'} | {_constraints(inner)} |")
    return rows


def _json(value: Any) -> list[str]:
    return ["```json", json.dumps(value, indent=2, ensure_ascii=False), "```"]


def _request(
    method: str, path: str, operation: dict[str, Any], body: dict[str, Any] | None, document: dict[str, Any]
) -> list[str]:
    """The request as it goes on the wire: path parameters filled in, headers, the example body."""
    target = path
    for name, value in IDS.items():
        target = target.replace(f"{{{name}}}", value)
    target = target.replace("{message_id}", IDS["id"]).replace("{code}", EXAMPLES["code"])
    head = [f"{method.upper()} {target}"]
    if operation.get("security") != []:
        head.append("Authorization: Bearer <access token>")
    if any(p["name"] == "idempotency-key" for p in operation.get("parameters", [])):
        head.append("Idempotency-Key: 4f1c9a7e-payout-2026-12")
    if body:
        head += ["Content-Type: application/json", "", json.dumps(example(body, document), ensure_ascii=False)]
    return ["```http", *head, "```"]


def _route(method: str, path: str, operation: dict[str, Any], document: dict[str, Any]) -> list[str]:
    lines = [f"#### `{method.upper()} {path}`", "", operation.get("summary", "")]
    if operation.get("description"):
        lines += ["", operation["description"]]
    public = operation.get("security") == []
    lines += ["", "*Public.*" if public else "Needs `Authorization: Bearer <access token>`."]
    params = operation.get("parameters", [])
    if params:
        lines += ["", "| parameter | in | required | type | constraints |", "| --- | --- | --- | --- | --- |"]
        for param in params:
            kind, inner = _type(param.get("schema", {}), document)
            name = "Idempotency-Key" if param["name"] == "idempotency-key" else param["name"]
            flag = "yes" if param.get("required") else "no"
            lines.append(f"| `{name}` | {param['in']} | {flag} | {kind} | {_constraints(inner)} |")
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body:
        title = "Request body:" if operation["requestBody"].get("required") else "Request body (may be left out):"
        lines += ["", title, "", *_fields_table(body, document)]
    lines += ["", "Example request:", "", *_request(method, path, operation, body, document)]
    for status, answer in operation.get("responses", {}).items():
        if not status.startswith("2"):
            continue
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        lines += ["", f"Example answer: **{status}** {answer.get('description', '')}".rstrip()]
        if schema and path != "/v1/openapi.json":
            lines += ["", *_json(example(schema, document))]
    errors = [s for s in operation.get("responses", {}) if not s.startswith("2")]
    lines += ["", "Errors: " + ", ".join(sorted(errors)) + " (see the table above)."]
    return lines


def section_of(path: str) -> str:
    """The section a path belongs to: the one with its longest matching prefix."""
    matches = [
        (len(p), title) for title, prefixes in SECTIONS for p in prefixes if path == p or path.startswith(p + "/")
    ]
    if not matches:
        raise ValueError(f"{path} belongs to no section of docs/api.md: add it to infra/api_docs.SECTIONS")
    return max(matches)[1]


def render(document: dict[str, Any]) -> str:
    """docs/api.md for this OpenAPI document."""
    lines = [INTRO.rstrip()]
    for title, _ in SECTIONS:
        lines += ["", f"### {title}"]
        for path, item in document["paths"].items():
            if section_of(path) != title:
                continue
            for method in sorted(item, key=METHOD_ORDER.index):
                lines += ["", *_route(method, path, item[method], document)]
    return "\n".join(lines).rstrip() + "\n"
