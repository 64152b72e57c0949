-- A posting's work in the server cut to what it needs (issue 14).
--
-- Per transfer, ``nickel_post_one`` ran about ten statements, and the insert of its journal row ran
-- more behind it (foreign key checks, the posting trigger's two UPDATEs, each with the balance
-- guard's trigger). On 2 cores, spread transfers are bound by the server's CPU and hot ones by how
-- long the accounts stay locked, so each statement counts. This migration:
--
-- 1. Drops the journal's and the holds' own foreign keys to ``assets``. Each locked the asset's row
--    (FOR KEY SHARE) on every posting, so every concurrent posting of one asset shared a lock on
--    one row, which PostgreSQL records as a multixact, written to the row. The guarantee stays:
--    both tables reference ``ledger_accounts (id, asset)``, whose ``asset`` references ``assets``,
--    and an asset with accounts cannot be deleted.
-- 2. Indexes ``transfers.hold_id`` and ``transfers.reverses`` only where they are set. Every
--    transfer put a NULL into both unique indexes, always on their last page, which concurrent
--    postings then take turns on. Uniqueness is unchanged (NULLs never conflicted).
-- 3. Calls the balance guard (0010) only for an UPDATE of a balance or of ``held`` outside a
--    trigger (its ``WHEN``), the only case it refused: the posting and holds' triggers' UPDATEs no
--    longer call it.
-- 4. Moves both balances of a posting in one UPDATE (the posting trigger ran one per account).
-- 5. Rewrites ``nickel_post_one`` with fewer statements: the key, the asset and the recipient are
--    read in one query before any lock; the three outbox rows are one INSERT, which also gives the
--    versions the key is claimed with (``nickel_keep_versions``, which 0027's
--    ``nickel_keep_answer`` now calls too).

ALTER TABLE transfers DROP CONSTRAINT transfers_asset_fkey;
ALTER TABLE holds DROP CONSTRAINT holds_asset_fkey;

ALTER TABLE transfers DROP CONSTRAINT transfers_hold_id_key, DROP CONSTRAINT transfers_reverses_key;
CREATE UNIQUE INDEX transfers_hold_id_key ON transfers (hold_id) WHERE hold_id IS NOT NULL;
CREATE UNIQUE INDEX transfers_reverses_key ON transfers (reverses) WHERE reverses IS NOT NULL;

-- pg_trigger_depth() is 0 for a statement no trigger runs: the posting and holds' triggers'
-- UPDATEs run at depth 1 and pass, as the guard's own test (depth < 2 inside it) let them.
DROP TRIGGER ledger_accounts_guard ON ledger_accounts;
CREATE TRIGGER ledger_accounts_guard BEFORE UPDATE ON ledger_accounts FOR EACH ROW
    WHEN ((NEW.balance IS DISTINCT FROM OLD.balance OR NEW.held IS DISTINCT FROM OLD.held) AND pg_trigger_depth() < 1)
    EXECUTE FUNCTION nickel_balance_guard();

-- Claim the key with the answer and the (aggregate, version) pairs written, in the order written;
-- raise if the key was taken meanwhile (nothing of the statement is kept then). 0027's
-- ``nickel_keep_answer`` now derives the pairs from its change records and keeps them through this.
CREATE FUNCTION nickel_keep_versions(
    p_caller uuid, p_key text, p_fingerprint text, p_command text, p_result jsonb, p_versions jsonb
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_key IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO idempotency_keys (caller_id, key, fingerprint, command, result, versions)
    VALUES (p_caller, p_key, p_fingerprint, p_command, p_result, p_versions)
    ON CONFLICT (caller_id, key) DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'nickel: not posted (the key was used meanwhile)' USING ERRCODE = 'raise_exception';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION nickel_keep_answer(
    p_caller uuid, p_key text, p_fingerprint text, p_command text, p_result jsonb, p_records jsonb
) RETURNS void LANGUAGE sql AS $$
    SELECT nickel_keep_versions(p_caller, p_key, p_fingerprint, p_command, p_result,
        (SELECT jsonb_agg(jsonb_build_array(r ->> 'aggregate', (r ->> 'version')::integer) ORDER BY o)
         FROM jsonb_array_elements(p_records) WITH ORDINALITY AS e(r, o)))
$$;

-- Every command has locked both accounts already (in id order), so this UPDATE waits for no one.
CREATE OR REPLACE FUNCTION nickel_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_accounts
    SET balance = balance + CASE WHEN id = NEW.debit_account THEN -NEW.amount ELSE NEW.amount END,
        version = version + 1
    WHERE id IN (NEW.debit_account, NEW.credit_account);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION nickel_post_one(
    p_kind text, p_id uuid, p_asset text, p_from uuid, p_to uuid, p_amount bigint, p_memo text,
    p_caller uuid, p_key text, p_fingerprint text, p_command text, p_correlation text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    used boolean;
    scale_of smallint;
    recipient_ok boolean;
    account record;
    debit bigint;
    credit bigint;
    debit_available bigint;
    issuer_balance bigint;
    created timestamptz;
    transfer jsonb;
    records jsonb;
    versions jsonb;
BEGIN
    IF p_kind NOT IN ('transfer', 'issue', 'redeem') OR (p_kind = 'issue') <> (p_from IS NULL)
       OR (p_kind = 'redeem') <> (p_to IS NULL) THEN
        RAISE EXCEPTION 'nickel_post_one posts a transfer, an issue or a redemption' USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- Checks that need no lock, in one query.
    SELECT nickel_key_used(p_caller, p_key),
           (SELECT scale FROM assets WHERE code = p_asset),
           p_to IS NULL OR EXISTS (SELECT 1 FROM entities WHERE id = p_to AND status = 'active')
    INTO used, scale_of, recipient_ok;
    IF used THEN
        RETURN jsonb_build_object('outcome', 'replay');
    END IF;
    IF scale_of IS NULL THEN
        RETURN nickel_refused(p_caller, p_key, p_fingerprint, p_command, jsonb_build_object('outcome', 'no_asset'));
    END IF;
    IF NOT recipient_ok THEN
        RETURN nickel_refused(p_caller, p_key, p_fingerprint, p_command, jsonb_build_object('outcome', 'no_recipient'));
    END IF;

    -- The existing accounts, locked in account-id order (the one global order: no deadlocks).
    FOR account IN
        SELECT a.id, a.owner_id, a.balance, a.held FROM ledger_accounts a
        WHERE a.asset = p_asset
          AND (a.owner_id = p_from OR a.owner_id = p_to OR (a.owner_id IS NULL AND (p_from IS NULL OR p_to IS NULL)))
        ORDER BY a.id FOR UPDATE
    LOOP
        IF account.owner_id IS NOT DISTINCT FROM p_from THEN
            debit := account.id;
            debit_available := account.balance - account.held;
            issuer_balance := CASE WHEN p_from IS NULL THEN account.balance END;
        ELSIF account.owner_id IS NOT DISTINCT FROM p_to THEN
            credit := account.id;
        END IF;
    END LOOP;

    -- Checks on the locked rows.
    IF p_from IS NOT NULL AND (debit IS NULL OR debit_available < p_amount) THEN
        RETURN nickel_refused(p_caller, p_key, p_fingerprint, p_command, jsonb_build_object('outcome', 'no_funds'));
    END IF;
    -- The outstanding supply stays within bigint (shared.validation.MAX_AMOUNT, the issuer side's bound).
    IF p_from IS NULL AND -issuer_balance > 9223372036854775807 - p_amount THEN
        RETURN nickel_refused(p_caller, p_key, p_fingerprint, p_command, jsonb_build_object('outcome', 'no_supply_room'));
    END IF;

    -- Writes: the recipient's account if it has none yet (a new id, above every lock held here).
    IF credit IS NULL THEN
        INSERT INTO ledger_accounts (asset, owner_id) VALUES (p_asset, p_to)
        ON CONFLICT (asset, owner_id) WHERE owner_id IS NOT NULL DO NOTHING RETURNING id INTO credit;
        IF credit IS NULL THEN  -- opened by a concurrent posting that has committed since
            SELECT id INTO credit FROM ledger_accounts WHERE asset = p_asset AND owner_id = p_to FOR UPDATE;
        END IF;
    END IF;
    INSERT INTO transfers (id, asset, debit_account, credit_account, from_entity, to_entity, amount, memo, kind)
    VALUES (p_id, p_asset, debit, credit, p_from, p_to, p_amount, p_memo, p_kind)
    RETURNING created_at INTO created;

    transfer := jsonb_build_object(
        'id', p_id, 'from', p_from, 'to', p_to, 'asset', p_asset, 'amount', p_amount, 'memo', p_memo,
        'kind', p_kind, 'reverses', NULL::uuid, 'created_at', nickel_json_time(created), 'version', 1);
    -- Its events: TransferPosted, then BalanceChanged for each holder's account (as the posting
    -- trigger left it), in id order; the change records and the (aggregate, version) list, in
    -- the order written.
    WITH written AS (
        INSERT INTO outbox (aggregate, version, event_type, payload, correlation_id)
        SELECT aggregate, version, event_type, payload, p_correlation FROM (
            SELECT 0::bigint AS n, 'transfer#' || p_id AS aggregate, 1 AS version, 'TransferPosted' AS event_type,
                   transfer AS payload
            UNION ALL
            SELECT a.id, 'wallet#' || a.owner_id || ':' || a.asset, a.version, 'BalanceChanged',
                   jsonb_build_object('entity_id', a.owner_id, 'asset', a.asset, 'amount', a.balance,
                                      'held', a.held, 'scale', scale_of, 'version', a.version)
            FROM ledger_accounts a WHERE a.id IN (debit, credit) AND a.owner_id IS NOT NULL
        ) events ORDER BY n
        RETURNING seq, aggregate, version, event_type, payload, occurred_at, correlation_id
    )
    SELECT jsonb_agg(jsonb_build_object('seq', seq, 'aggregate', aggregate, 'version', version,
                                        'event_type', event_type, 'payload', payload,
                                        'occurred_at', occurred_at, 'correlation_id', correlation_id) ORDER BY seq),
           jsonb_agg(jsonb_build_array(aggregate, version) ORDER BY seq)
    INTO records, versions FROM written;

    PERFORM nickel_keep_versions(p_caller, p_key, p_fingerprint, p_command, transfer, versions);
    RETURN jsonb_build_object('outcome', 'posted', 'transfer', transfer, 'records', records);
END $$;
