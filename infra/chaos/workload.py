"""One client process of the chaos run: a bounded, seeded mix of writes, and what it was told.

Each client owns three people (an owner, a member, a member who leaves and re-joins) and their
group, so it knows what the final state of everything it touched must be. It records every write
the stack acknowledged (``Expected``) for the end checks. Routes without an ``Idempotency-Key``
are retried unchanged too; their answer on a retry is read for what it says of the first attempt:

* registration: a 409 (handle taken) on a retry is our own first attempt if the handle and
  password log in; a group join's 409 (already a member) and a leave's 404 (not a member) on a
  retry mean the first attempt committed;
* a group creation or a broadcast is at least once: a retry whose first attempt committed writes a
  second group or broadcast (counted as ``duplicates`` at the end, not as an error).
"""

from __future__ import annotations

import base64
import json
import random
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from infra.chaos.client import Answer, Client, Stats

PASSWORD = "chaos run password"  # noqa: S105 - a throwaway local stack's test users
ASSET = "CHAOS"
ISSUED = 50_000
OPS = {  # operation -> weight
    "transfer": 30,
    "message": 14,
    "issue": 8,
    "distribute": 10,
    "group_broadcast": 8,
    "leave_or_join": 10,
    "change_role": 6,
    "register": 5,
    "login": 6,
    "platform_broadcast": 3,
}

# Shared with the orchestrator (multiprocessing.Value): operations done, and when (time.time()) a
# transfer was last acknowledged, so some kills land just after one, before its system message.
_progress: Any = None
_last_transfer: Any = None


def init_worker(progress: Any, last_transfer: Any) -> None:
    global _progress, _last_transfer  # set once per worker process, by the pool's initializer
    _progress, _last_transfer = progress, last_transfer


@dataclass
class Spec:
    index: int
    base_url: str
    seed: int
    operations: int
    run: str  # a short id making this run's handles unique
    admin_handle: str
    admin_password: str


@dataclass
class Expected:
    """Every write the stack acknowledged to this client, and the final state it must have left."""

    entities: list[str] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    distributions: list[dict[str, Any]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    broadcasts: list[str] = field(default_factory=list)  # bodies (unique per run)
    groups: list[str] = field(default_factory=list)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # "<group>:<entity>" -> {"active", "role"}
    group_names: list[str] = field(default_factory=list)


@dataclass
class Person:
    id: str
    handle: str
    token: str


def subject(token: str) -> str:
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


class Workload:
    def __init__(self, spec: Spec) -> None:
        self.spec, self.rng = spec, random.Random(spec.seed)  # noqa: S311 - a repeatable workload
        self.stats, self.expected = Stats(), Expected()
        self.client = Client(spec.base_url, self.stats)
        self.people: list[Person] = []
        self.admin = ""
        self.group = ""
        self.c_member = True
        self.b_role = "member"
        self.replays: list[tuple[str, str, dict[str, Any], str]] = []  # (token, key, body, transfer id)
        self.names = 0

    # -- requests --------------------------------------------------------------------------------

    def send(self, method: str, path: str, token: str | None = None, body: Any = None, keyed: bool = False) -> Answer:
        answer = self.client.send(method, path, token=token, body=body, key=str(uuid.uuid4()) if keyed else None)
        return answer or Answer(0, None, 0)  # lost: counted in the stats, and nothing expected of it

    def unexpected(self, what: str, answer: Answer) -> None:
        self.stats.unexpected.append(f"{what}: {answer.status} {str(answer.body)[:200]}")

    def login(self, handle: str, password: str = PASSWORD) -> str | None:
        answer = self.send("POST", "/v1/auth/token", body={"login": handle, "password": password})
        return str(answer.body["access_token"]) if answer.status == 200 else None

    def register(self) -> Person | None:
        self.names += 1
        handle = f"c{self.spec.run}_{self.spec.index}_{self.names}"
        body = {"kind": "real", "handle": handle, "display_name": f"Chaos {handle}", "password": PASSWORD}
        answer = self.send("POST", "/v1/entities", body=body)
        if answer.status == 201:
            entity = str(answer.body["id"])
        elif answer.status == 409 and answer.attempts > 1 and (token := self.login(handle)):
            entity = subject(token)  # our own first attempt committed before the stack died
        else:
            self.unexpected(f"register {handle}", answer)
            return None
        self.expected.entities.append(entity)
        token = self.login(handle)
        return Person(entity, handle, token) if token else None

    # -- set-up ----------------------------------------------------------------------------------

    def set_up(self) -> None:
        self.admin = self.login(self.spec.admin_handle, self.spec.admin_password) or ""
        for _ in range(6):
            person = self.register() if len(self.people) < 3 else None
            if person:
                self.people.append(person)
        if len(self.people) < 3 or not self.admin:
            raise RuntimeError(f"client {self.spec.index} could not set up: {self.stats.unexpected}")
        for person in self.people:
            self.issue_to(person)
        name = f"chaos {self.spec.run} {self.spec.index}"
        answer = self.send("POST", "/v1/groups", self.people[0].token, {"name": name, "visibility": "public"})
        if answer.status != 201:
            raise RuntimeError(f"client {self.spec.index} could not create its group: {answer}")
        self.group = str(answer.body["id"])
        self.expected.groups.append(self.group)
        self.expected.group_names.append(name)
        self.member(self.people[0], True, "owner")
        for person in self.people[1:]:
            self.join(person)

    def member(self, person: Person, active: bool, role: str) -> None:
        self.expected.members[f"{self.group}:{person.id}"] = {"active": active, "role": role}

    # -- operations ------------------------------------------------------------------------------

    def issue_to(self, person: Person, amount: int = ISSUED) -> None:
        body = {"to": person.id, "amount": amount}
        answer = self.send("POST", f"/v1/assets/{ASSET}/issue", self.admin, body, keyed=True)
        self.posted("issue", answer, person.id, amount)

    def posted(self, what: str, answer: Answer, to: str, amount: int) -> None:
        if answer.status == 201:
            self.expected.transfers.append({"id": answer.body["id"], "to": to, "amount": amount})
            if _last_transfer is not None:
                _last_transfer.value = time.time()
        elif answer.status != 422:  # 422: not enough balance, a refusal (nothing to expect)
            self.unexpected(what, answer)

    def transfer(self, n: int) -> None:
        payer, payee = self.rng.sample(self.people, 2)
        amount = self.rng.randint(1, 50)
        body = {"to": payee.id, "asset": ASSET, "amount": amount, "memo": f"op {n}"}
        key = str(uuid.uuid4())
        answer = self.client.send("POST", "/v1/transfers", token=payer.token, body=body, key=key)
        answer = answer or Answer(0, None, 0)
        self.posted("transfer", answer, payee.id, amount)
        if answer.status == 201 and len(self.replays) < 2:
            self.replays.append((payer.token, key, body, answer.body["id"]))

    def issue(self, n: int) -> None:
        self.issue_to(self.rng.choice(self.people), self.rng.randint(1, 500))

    def message(self, n: int) -> None:
        sender, recipient = self.rng.sample(self.people, 2)
        body = {"to_entity": recipient.id, "body": f"chaos {self.spec.run} message {self.spec.index}.{n}"}
        answer = self.send("POST", "/v1/messages", sender.token, body, keyed=True)
        if answer.status == 201:
            self.expected.messages.append(str(answer.body["id"]))
        else:
            self.unexpected("message", answer)

    def distribute(self, n: int) -> None:
        body = {"asset": ASSET, "amount_each": 1_000 + n}  # unique per client and op: findable in the ledger
        answer = self.send("POST", f"/v1/groups/{self.group}/distribute", self.people[0].token, body, keyed=True)
        if answer.status == 201:
            payer = self.people[0].id
            self.expected.distributions.append({"payer": payer, **body, "transfers": answer.body["transfers"]})
        elif answer.status != 422:
            self.unexpected("distribute", answer)

    def group_broadcast(self, n: int) -> None:
        text = f"chaos {self.spec.run} group broadcast {self.spec.index}.{n}"
        answer = self.send("POST", f"/v1/groups/{self.group}/broadcast", self.people[0].token, {"body": text})
        self.broadcast_answered(text, answer)

    def platform_broadcast(self, n: int) -> None:
        text = f"chaos {self.spec.run} platform broadcast {self.spec.index}.{n}"
        self.broadcast_answered(text, self.send("POST", "/v1/broadcasts", self.admin, {"body": text}))

    def broadcast_answered(self, text: str, answer: Answer) -> None:
        if answer.status == 202:
            self.expected.broadcasts.append(text)
        else:
            self.unexpected("broadcast", answer)

    def join(self, person: Person) -> None:
        answer = self.send("POST", f"/v1/groups/{self.group}/join", person.token)
        if answer.status == 201 or (answer.status == 409 and answer.attempts > 1):
            self.member(person, True, "member")
            if person is self.people[1]:
                self.b_role = "member"
        else:
            self.unexpected("join", answer)

    def leave_or_join(self, n: int) -> None:
        leaver = self.people[2]
        if not self.c_member:
            self.join(leaver)
            self.c_member = True
            return
        answer = self.send("DELETE", f"/v1/groups/{self.group}/members/{leaver.id}", leaver.token)
        if answer.status == 204 or (answer.status == 404 and answer.attempts > 1):
            self.member(leaver, False, "member")
            self.c_member = False
        else:
            self.unexpected("leave", answer)

    def change_role(self, n: int) -> None:
        role = "admin" if self.b_role == "member" else "member"
        member = self.people[1]
        path = f"/v1/groups/{self.group}/members/{member.id}"
        answer = self.send("PATCH", path, self.people[0].token, {"role": role})
        if answer.status == 200:
            self.b_role = role
            self.member(member, True, role)
        else:
            self.unexpected("change role", answer)

    def register_op(self, n: int) -> None:
        self.register()

    def login_op(self, n: int) -> None:
        person = self.people[1]
        person.token = self.login(person.handle) or person.token

    # -- the run ---------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        self.set_up()
        names, weights = list(OPS), list(OPS.values())
        actions = {"register": self.register_op, "login": self.login_op}
        for n in range(self.spec.operations):
            op = self.rng.choices(names, weights)[0]
            (actions.get(op) or getattr(self, op))(n)
            if _progress is not None:
                with _progress.get_lock():
                    _progress.value += 1
        self.replay_check()
        self.client.close()
        people = {p.id: p.token for p in self.people}
        return {"stats": asdict(self.stats), "expected": asdict(self.expected), "people": people}

    def replay_check(self) -> None:
        """Keys outlive restarts: a repeat of an acknowledged transfer answers the first transfer."""
        for token, key, body, transfer in self.replays:
            answer = self.client.send("POST", "/v1/transfers", token=token, body=body, key=key)
            if answer is None or answer.status != 201 or answer.body["id"] != transfer:
                self.stats.unexpected.append(f"replay of {key} answered {answer}")


def run_client(spec: Spec) -> dict[str, Any]:
    return Workload(spec).run()
