"""The TOKEN authorizer's answers (the JWT attack cases live in test_tokens.py).

It fails closed: what it knows of a token's holder comes from the read cache, and a holder the
cache does not know is refused, never let through on the token's own claims.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest

from shared.auth.authorizer import FRESH_TOKEN_SECONDS, HolderLookup, authorize
from shared.contracts.oxygen import EntityState
from shared.contracts.oxygen_auth import SessionState
from shared.errors import NotReady, Unauthorized
from tests.support.tokens import token_for

METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/v1/entities/me"


def old() -> int:
    """An issue time well before the read side could lag, taken when the test runs: a time taken
    at import would leave the token expired in a suite that runs longer than its lifetime."""
    return int(time.time()) - FRESH_TOKEN_SECONDS - 60


def entity(entity_id: uuid.UUID, *, roles: list[str] | None = None, status: str = "active") -> EntityState:
    return EntityState.model_validate(
        {"id": entity_id, "kind": "real", "handle": "someone", "display_name": "Someone", "roles": roles or []}
        | {"status": status, "created_at": datetime.now(UTC), "version": 1}
    )


def knows(entity_state: EntityState | None, session: SessionState | None) -> HolderLookup:
    return lambda _entity_id, _session_id: (entity_state, session)


def live(entity_id: uuid.UUID, session_id: uuid.UUID, *, revoked: bool = False) -> SessionState:
    return SessionState(id=session_id, entity_id=entity_id, revoked=revoked, version=2 if revoked else 1)


def event(token: str) -> dict[str, str]:
    return {"authorizationToken": f"Bearer {token}", "methodArn": METHOD_ARN}


def test_a_known_holder_is_allowed_for_the_whole_api_with_its_current_roles_in_context() -> None:
    # Given a token claiming no role, for an entity the read side knows as an admin in a live session
    who, sid = uuid.uuid4(), uuid.uuid4()
    token = token_for(who, "legal", [], session_id=sid)
    # When the authorizer answers
    holder = entity(who, roles=["admin"])
    answer = authorize(event(token), knows(holder, live(who, sid)))
    # Then it allows the whole stage, with the entity's current roles, the session and when it registered in context
    assert answer["principalId"] == str(who)
    assert answer["policyDocument"]["Statement"] == [
        {
            "Action": "execute-api:Invoke",
            "Effect": "Allow",
            "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/*/*"],
        }
    ]
    assert answer["context"] == {
        "entity_id": str(who),
        "kind": "legal",
        "roles": "admin",
        "session_id": str(sid),
        "registered_at": holder.created_at.isoformat(),
    }


def test_a_token_claiming_admin_gets_only_the_roles_the_read_side_knows() -> None:
    who, sid = uuid.uuid4(), uuid.uuid4()
    answer = authorize(event(token_for(who, roles=["admin"], session_id=sid)), knows(entity(who), live(who, sid)))
    assert answer["context"]["roles"] == ""


@pytest.mark.parametrize("missing", ["entity", "session", "both"])
def test_an_old_token_whose_holder_the_read_side_does_not_know_is_refused(missing: str) -> None:
    # Given a read cache that lost the entity, the session or both (a recreated table, a parked record)
    who, sid = uuid.uuid4(), uuid.uuid4()
    known_entity = None if missing in ("entity", "both") else entity(who, roles=["admin"])
    known_session = None if missing in ("session", "both") else live(who, sid)
    token = token_for(who, roles=["admin"], session_id=sid, issued_at=old())
    # When / Then: refused, never allowed on the token's own claims
    with pytest.raises(Unauthorized):
        authorize(event(token), knows(known_entity, known_session))


def test_a_fresh_token_whose_holder_the_read_side_does_not_know_yet_is_not_ready() -> None:
    who, sid = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(NotReady) as lagging:
        authorize(event(token_for(who, session_id=sid)), knows(None, None))
    assert lagging.value.headers == {"Retry-After": "1"}


def test_a_holder_unknown_seconds_after_login_is_repaired_once_and_decided_on_the_truth() -> None:
    # Given a read cache that lost a holder the truth knows, and a token issued 10 s ago
    who, sid = uuid.uuid4(), uuid.uuid4()
    truth = (entity(who, roles=["issuer"]), live(who, sid))
    cache: list[tuple[EntityState | None, SessionState | None]] = [(None, None)]
    asked: list[list[str]] = []

    def repair(aggregates: list[str]) -> bool:
        asked.append(aggregates)
        cache[0] = truth
        return True

    token = token_for(who, session_id=sid, issued_at=int(time.time()) - 10)
    # When the authorizer answers
    answer = authorize(event(token), lambda _e, _s: cache[0], repair=repair)
    # Then it asked once for exactly the two aggregates, and allowed with the truth's roles
    assert asked == [[f"entity#{who}", f"session#{sid}"]]
    assert answer["context"]["roles"] == "issuer"


def test_no_repair_for_lag_and_a_failed_repair_decides_as_before() -> None:
    who, sid = uuid.uuid4(), uuid.uuid4()
    asked: list[list[str]] = []

    def failing(aggregates: list[str]) -> bool:
        asked.append(aggregates)
        return False

    # A token a second old: lag after a login, not a loss; nobody is asked
    with pytest.raises(NotReady):
        authorize(event(token_for(who, session_id=sid)), knows(None, None), repair=failing)
    assert asked == []
    # An old one whose repair could not be made: refused, never allowed on its claims
    with pytest.raises(Unauthorized):
        authorize(event(token_for(who, session_id=sid, issued_at=old())), knows(None, None), repair=failing)
    assert len(asked) == 1


@pytest.mark.parametrize("case", ["deactivated", "revoked", "someone else's session"])
def test_a_deactivated_entity_or_a_revoked_or_foreign_session_is_refused(case: str) -> None:
    who, sid = uuid.uuid4(), uuid.uuid4()
    holder = entity(who, status="deactivated" if case == "deactivated" else "active")
    session = live(uuid.uuid4() if case == "someone else's session" else who, sid, revoked=case == "revoked")
    with pytest.raises(Unauthorized):
        authorize(event(token_for(who, session_id=sid)), knows(holder, session))


def test_a_token_that_names_no_login_session_is_refused() -> None:
    from shared.auth.tokens import issue_access_token

    who = uuid.uuid4()
    token, _ = issue_access_token(who, "real", [])
    with pytest.raises(Unauthorized):
        authorize(event(token), knows(entity(who), live(who, uuid.uuid4())))


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "token-without-scheme"]
)
def test_a_missing_or_malformed_header_is_unauthorized(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        authorize({"authorizationToken": header, "methodArn": METHOD_ARN}, knows(None, None))  # type: ignore[dict-item]


def test_request_authorizer_events_read_the_authorization_header() -> None:
    who, sid = uuid.uuid4(), uuid.uuid4()
    request = {"headers": {"authorization": f"Bearer {token_for(who, session_id=sid)}"}, "methodArn": METHOD_ARN}
    assert authorize(request, knows(entity(who), live(who, sid)))["principalId"] == str(who)
