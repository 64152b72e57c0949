"""Carbon over HTTP against the local stack: a group's life from creation to a broadcast."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.contract_support import entity, settled


def test_a_private_group_is_created_joined_by_invitation_and_hidden_from_outsiders(client: httpx.Client) -> None:
    owner_id, owner = entity(client)
    member_id, member = entity(client)
    _, outsider = entity(client)
    created = client.post("/v1/groups", json={"name": "Night owls", "visibility": "private"}, headers=owner)
    assert created.status_code == 201, created.text
    group = created.json()
    assert (group["owner_id"], group["member_count"]) == (owner_id, 1)
    path = f"/v1/groups/{group['id']}"
    assert client.post(f"{path}/join", headers=member).status_code == 403
    added = client.post(f"{path}/members", json={"entity_id": member_id}, headers=owner)
    assert added.status_code == 201, added.text
    settled(client, owner, added)
    members = client.get(f"{path}/members", headers=member)
    assert members.status_code == 200, members.text
    assert [m["role"] for m in members.json()["items"]] == ["owner", "member"]
    hidden = client.get(path, headers=outsider)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")
    mine = client.get("/v1/entities/me/groups", headers=member).json()["items"]
    assert [(g["id"], g["role"], g["member_count"]) for g in mine] == [(group["id"], "member", 2)]


def test_an_admin_broadcast_reaches_a_members_inbox_and_the_owner_cannot_leave(client: httpx.Client) -> None:
    owner_id, owner = entity(client)
    member_id, member = entity(client)
    group = client.post("/v1/groups", json={"name": "Choir"}, headers=owner).json()
    path = f"/v1/groups/{group['id']}"
    assert client.post(f"{path}/join", headers=member).status_code == 201
    sent = client.post(f"{path}/broadcast", json={"body": "rehearsal moved"}, headers=owner)
    assert sent.status_code == 202, sent.text
    settled(client, owner, sent)
    inbox = client.get("/v1/messages/inbox", headers=member)
    assert [m["id"] for m in inbox.json()["items"]] == [sent.json()["id"]]
    assert client.post(f"{path}/broadcast", json={"body": "mine"}, headers=member).status_code == 403
    leaving = client.delete(f"{path}/members/{owner_id}", headers=owner)
    assert (leaving.status_code, leaving.json()["code"]) == (422, "operation_failed")
    assert client.delete(f"{path}/members/{member_id}", headers=member).status_code == 204


def test_a_distribution_pays_every_other_member_once_per_key(client: httpx.Client) -> None:
    login = client.post("/v1/auth/token", json={"login": "root_admin", "password": "root-admin-password"})
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    owner_id, owner = entity(client)
    _, first = entity(client)
    _, second = entity(client)
    code = f"C{uuid.uuid4().hex[:8].upper()}"
    assert (
        client.post("/v1/assets", json={"code": code, "name": "Points", "scale": 0}, headers=admin).status_code == 201
    )
    issued = client.post(f"/v1/assets/{code}/issue", json={"to": owner_id, "amount": 100}, headers=admin)
    assert issued.status_code == 201, issued.text
    group = client.post("/v1/groups", json={"name": "Team"}, headers=owner).json()
    for member in (first, second):
        assert client.post(f"/v1/groups/{group['id']}/join", headers=member).status_code == 201
    body = {"asset": code, "amount_each": 30}
    headers = {**owner, "Idempotency-Key": "dist-1", "X-Min-Version": issued.headers["X-Write-Version"]}
    paid = client.post(f"/v1/groups/{group['id']}/distribute", json=body, headers=headers)
    assert (paid.status_code, paid.json()) == (201, {"transfers": 2, "total": 60})
    again = client.post(f"/v1/groups/{group['id']}/distribute", json=body, headers=headers)
    assert (again.status_code, again.json()) == (201, {"transfers": 2, "total": 60})
    too_much = client.post(
        f"/v1/groups/{group['id']}/distribute",
        json={**body, "amount_each": 30},
        headers={**owner, "Idempotency-Key": "dist-2"},
    )
    assert (too_much.status_code, too_much.json()["code"]) == (422, "operation_failed")  # 40 left, 60 needed
    wallet = client.get("/v1/wallets/me", headers={**owner, "X-Min-Version": paid.headers["X-Write-Version"]}).json()
    assert [b["amount"] for b in wallet["balances"] if b["asset"] == code] == [40]
