-- Nickel: assets and a double-entry ledger.
--
-- Every asset has one issuer account (owner_id NULL) and one account per holder. A transfer is an
-- immutable journal row moving ``amount`` from one account to another of the same asset; the
-- balances are changed only by the journal's trigger, in the same statement, so the journal and
-- the balances never disagree and every asset's balances sum to zero: the issuer account holds
-- -(issued - redeemed), and the holders' balances add up to issued - redeemed. A holder's
-- balance below zero is refused by a CHECK constraint, whatever code posts.

CREATE TABLE assets (
    code       text        PRIMARY KEY CHECK (code ~ '^[A-Z0-9][A-Z0-9_.-]{0,31}$'),
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    scale      smallint    NOT NULL CHECK (scale BETWEEN 0 AND 18),
    version    integer     NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger_accounts (
    id       bigserial PRIMARY KEY,
    asset    text      NOT NULL REFERENCES assets (code),
    owner_id uuid      REFERENCES entities (id),  -- NULL: the asset's issuer side
    balance  bigint    NOT NULL DEFAULT 0,
    version  integer   NOT NULL DEFAULT 0,  -- bumped by every posting (the wallet aggregate's version)
    -- Holders never go below zero; the issuer side never below -(2^63 - 1): supply fits a bigint.
    CONSTRAINT balance_not_negative CHECK (owner_id IS NULL OR balance >= 0),
    CONSTRAINT issuer_side_bounded CHECK (owner_id IS NOT NULL OR balance BETWEEN -9223372036854775807 AND 0),
    UNIQUE (id, asset)
);
CREATE UNIQUE INDEX ledger_accounts_holder ON ledger_accounts (asset, owner_id) WHERE owner_id IS NOT NULL;
CREATE UNIQUE INDEX ledger_accounts_issuer ON ledger_accounts (asset) WHERE owner_id IS NULL;
CREATE INDEX ledger_accounts_owner ON ledger_accounts (owner_id) WHERE owner_id IS NOT NULL;

CREATE TABLE transfers (
    id             uuid        PRIMARY KEY,
    asset          text        NOT NULL REFERENCES assets (code),
    debit_account  bigint      NOT NULL,
    credit_account bigint      NOT NULL,
    from_entity    uuid,  -- the debit account's owner (NULL: issuer side), kept for reading
    to_entity      uuid,  -- the credit account's owner
    amount         bigint      NOT NULL CHECK (amount > 0),
    memo           text        CHECK (char_length(memo) <= 280),
    kind           text        NOT NULL CHECK (kind IN ('issue', 'transfer', 'redeem', 'distribution')),
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (debit_account <> credit_account),
    FOREIGN KEY (debit_account, asset) REFERENCES ledger_accounts (id, asset),
    FOREIGN KEY (credit_account, asset) REFERENCES ledger_accounts (id, asset)
);

-- Posting: the balances move with the journal row, in the inserting statement.
CREATE FUNCTION nickel_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_accounts SET balance = balance - NEW.amount, version = version + 1 WHERE id = NEW.debit_account;
    UPDATE ledger_accounts SET balance = balance + NEW.amount, version = version + 1 WHERE id = NEW.credit_account;
    RETURN NULL;
END $$;
CREATE TRIGGER transfers_post AFTER INSERT ON transfers FOR EACH ROW EXECUTE FUNCTION nickel_post();

-- The journal is append-only.
CREATE FUNCTION nickel_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the transfer journal is append-only' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER transfers_immutable BEFORE UPDATE OR DELETE ON transfers
    FOR EACH ROW EXECUTE FUNCTION nickel_immutable();

-- A balance changes only through a posting (the trigger above), never by a direct UPDATE.
CREATE FUNCTION nickel_balance_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.balance IS DISTINCT FROM OLD.balance AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'balances change only by posting a transfer' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_accounts_guard BEFORE UPDATE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION nickel_balance_guard();
