-- Nickel: holds (two-phase transfers) and reversals, enforced by the database.
--
-- A hold reserves part of a holder's balance for a payee: the value stays the payer's (the
-- balance does not move) but ``held`` grows, and what the holder may spend is
-- ``available = balance - held``, never below zero (a CHECK). ``held`` is moved only by the
-- holds' triggers, as ``balance`` is only by the journal's, so it always equals the sum of the
-- account's pending holds. A hold resolves once: pending -> captured | voided | expired, guarded
-- by a trigger under the row's lock (whichever commits first wins, the others see it resolved);
-- a capture or a void after ``expires_at`` is refused by the same trigger, before the sweeper
-- marks the hold expired. A capture is a journal row of kind ``capture`` linked to its hold
-- (at most one per hold) and posting exactly what the hold captured; a reversal is a journal row
-- of kind ``reversal`` linked to the transfer it mirrors (at most one per transfer, never of a
-- reversal). Old code keeps working on this schema: its rows have no hold and no link.

ALTER TABLE ledger_accounts
    ADD COLUMN held bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT held_not_negative CHECK (held >= 0),
    ADD CONSTRAINT issuer_side_never_held CHECK (owner_id IS NOT NULL OR held = 0),
    ADD CONSTRAINT available_not_negative CHECK (owner_id IS NULL OR held <= balance),
    ADD CONSTRAINT ledger_accounts_owned UNIQUE (id, asset, owner_id);  -- a hold's account is its payer's

CREATE TABLE holds (
    id            uuid        PRIMARY KEY,
    asset         text        NOT NULL REFERENCES assets (code),
    debit_account bigint      NOT NULL,  -- the payer's account, whose ``held`` the hold counts in
    from_entity   uuid        NOT NULL REFERENCES entities (id),
    to_entity     uuid        NOT NULL REFERENCES entities (id),
    amount        bigint      NOT NULL CHECK (amount > 0),
    captured      bigint      NOT NULL DEFAULT 0 CHECK (captured BETWEEN 0 AND amount),
    memo          text        CHECK (char_length(memo) <= 280),
    status        text        NOT NULL DEFAULT 'pending'
                              CHECK (status IN ('pending', 'captured', 'voided', 'expired')),
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    resolved_at   timestamptz,
    version       integer     NOT NULL DEFAULT 1,
    CHECK (from_entity <> to_entity),
    CHECK (expires_at > created_at),
    CHECK ((status = 'captured') = (captured > 0)),
    CHECK ((status = 'pending') = (resolved_at IS NULL)),
    FOREIGN KEY (debit_account, asset, from_entity) REFERENCES ledger_accounts (id, asset, owner_id)
);
-- The sweeper's expiry step reads only pending holds, by due time.
CREATE INDEX holds_due ON holds (expires_at) WHERE status = 'pending';

-- Placing: a hold starts pending, and its amount is held on the payer's account in the same statement.
CREATE FUNCTION nickel_hold_placed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'pending' OR NEW.captured <> 0 OR NEW.version <> 1 THEN
        RAISE EXCEPTION 'a hold is placed pending' USING ERRCODE = 'restrict_violation';
    END IF;
    UPDATE ledger_accounts SET held = held + NEW.amount, version = version + 1 WHERE id = NEW.debit_account;
    RETURN NULL;
END $$;
CREATE TRIGGER holds_place AFTER INSERT ON holds FOR EACH ROW EXECUTE FUNCTION nickel_hold_placed();

-- Resolving: once, from pending, nothing but the outcome changes; no capture or void from
-- ``expires_at`` on, no expiry before it. The version and the time of resolution are set here.
-- The moment is the resolving statement's start (statement_timestamp(), one value for the whole
-- statement), so a resolving UPDATE can filter on it (``expires_at > statement_timestamp()``) and
-- never be refused here for the microseconds between its WHERE and this trigger.
CREATE FUNCTION nickel_hold_resolving() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'pending' THEN
        RAISE EXCEPTION 'hold % is already %', OLD.id, OLD.status USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status = 'pending'
       OR (NEW.id, NEW.asset, NEW.debit_account, NEW.from_entity, NEW.to_entity, NEW.amount, NEW.memo,
           NEW.expires_at, NEW.created_at)
          IS DISTINCT FROM (OLD.id, OLD.asset, OLD.debit_account, OLD.from_entity, OLD.to_entity, OLD.amount,
           OLD.memo, OLD.expires_at, OLD.created_at) THEN
        RAISE EXCEPTION 'a hold changes only by resolving it' USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status IN ('captured', 'voided') AND statement_timestamp() >= OLD.expires_at THEN
        RAISE EXCEPTION 'hold % expired at %', OLD.id, OLD.expires_at USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status = 'expired' AND statement_timestamp() < OLD.expires_at THEN
        RAISE EXCEPTION 'hold % is not due before %', OLD.id, OLD.expires_at USING ERRCODE = 'restrict_violation';
    END IF;
    NEW.version := OLD.version + 1;
    NEW.resolved_at := statement_timestamp();
    RETURN NEW;
END $$;
CREATE TRIGGER holds_resolve BEFORE UPDATE ON holds FOR EACH ROW EXECUTE FUNCTION nickel_hold_resolving();

-- Resolved: the whole hold is released (a capture then posts what it takes, in the same transaction).
CREATE FUNCTION nickel_hold_released() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_accounts SET held = held - OLD.amount, version = version + 1 WHERE id = OLD.debit_account;
    RETURN NULL;
END $$;
CREATE TRIGGER holds_release AFTER UPDATE ON holds FOR EACH ROW EXECUTE FUNCTION nickel_hold_released();

-- Holds are kept, like the journal.
CREATE TRIGGER holds_kept BEFORE DELETE ON holds FOR EACH ROW EXECUTE FUNCTION nickel_immutable();

-- ``held`` changes only through the holds' triggers, as ``balance`` only through the journal's.
CREATE OR REPLACE FUNCTION nickel_balance_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.balance IS DISTINCT FROM OLD.balance OR NEW.held IS DISTINCT FROM OLD.held) AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'balances change only by posting a transfer or a hold' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;

-- Captures and reversals: journal rows linked to what they settle or undo, at most one each.
ALTER TABLE transfers
    ADD COLUMN hold_id uuid UNIQUE REFERENCES holds (id),
    ADD COLUMN reverses uuid UNIQUE REFERENCES transfers (id),
    DROP CONSTRAINT transfers_kind_check,
    ADD CONSTRAINT transfers_kind_check
        CHECK (kind IN ('issue', 'transfer', 'redeem', 'distribution', 'capture', 'reversal')),
    ADD CONSTRAINT capture_has_its_hold CHECK ((kind = 'capture') = (hold_id IS NOT NULL)),
    ADD CONSTRAINT reversal_names_its_transfer CHECK ((kind = 'reversal') = (reverses IS NOT NULL));

-- A capture posts exactly what its (now captured) hold captured, from the payer's account to the
-- payee's; a reversal mirrors its transfer (same amount, accounts swapped) and is never of a reversal.
CREATE FUNCTION nickel_link_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    hold holds%ROWTYPE;
    original transfers%ROWTYPE;
BEGIN
    IF NEW.hold_id IS NOT NULL THEN
        SELECT * INTO hold FROM holds WHERE id = NEW.hold_id;
        IF hold.status IS DISTINCT FROM 'captured' OR hold.captured <> NEW.amount OR hold.asset <> NEW.asset
           OR hold.debit_account <> NEW.debit_account
           OR (SELECT owner_id FROM ledger_accounts WHERE id = NEW.credit_account) IS DISTINCT FROM hold.to_entity THEN
            RAISE EXCEPTION 'a capture posts what its hold captured, to its payee' USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    IF NEW.reverses IS NOT NULL THEN
        SELECT * INTO original FROM transfers WHERE id = NEW.reverses;
        IF original.kind = 'reversal' OR original.amount <> NEW.amount OR original.asset <> NEW.asset
           OR original.debit_account <> NEW.credit_account OR original.credit_account <> NEW.debit_account THEN
            RAISE EXCEPTION 'a reversal mirrors a transfer that is not a reversal' USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER transfers_links BEFORE INSERT ON transfers FOR EACH ROW
    WHEN (NEW.hold_id IS NOT NULL OR NEW.reverses IS NOT NULL) EXECUTE FUNCTION nickel_link_guard();
