-- Lean postings (issue 14): a transfer, an issue or a redemption in one round trip.
-- (Numbered after 0020: its outbox rows carry the request's correlation id, as uow.emit's do.)
--
-- A posting used to hold its account locks across ~8 client round trips (lock, journal insert,
-- outbox insert, balance read, two outbox inserts, key update, commit), so a hot account's
-- throughput was 1 / (8 round trips). ``nickel_post_one`` does the same work in one call: it
-- claims the idempotency key, checks the asset and the recipient, locks the accounts in id order,
-- checks the available balance (or the supply room) under the lock, opens the recipient's account
-- if missing, inserts the journal row (whose trigger moves the balances, 0004) and writes the
-- outbox rows, and keeps the result with the key; it returns what it did as jsonb. Nothing moves out of the database: the CHECK
-- constraints and triggers of 0004 and 0010 still refuse a negative balance or available balance
-- whatever posts, the explicit checks here only turn the common refusals into answers.
--
-- A refusal ('no_asset', 'no_recipient', 'no_funds', 'no_supply_room') is decided before any
-- write but the key's claim, so the caller can keep the claimed key with the refusal as its
-- answer without a savepoint; 'replay' means the key was already claimed (its answer is read by
-- the caller). Events keep their versions: TransferPosted is version 1 of its transfer (the
-- outbox's UNIQUE (aggregate, version) refuses a second), BalanceChanged carries the account's
-- version, bumped by the trigger under the row lock.

-- A key claimed by a lean function keeps its first answer without another round trip: the
-- function stores the result and the versions of the aggregates it wrote (in the order written);
-- the write version token, an HMAC Fluorine alone can compute, is signed from them by Fluorine
-- (shared.write_versions: the same versions and caller give the same token), on the first answer
-- and on every replay. Keys answered by other commands keep their token in ``write_version``.
ALTER TABLE idempotency_keys ADD COLUMN versions jsonb;

CREATE FUNCTION nickel_answer_key(p_caller uuid, p_key text, p_result jsonb, p_records jsonb)
RETURNS void LANGUAGE sql AS $$
    UPDATE idempotency_keys
    SET result = p_result,
        versions = (SELECT jsonb_agg(jsonb_build_array(r ->> 'aggregate', (r ->> 'version')::integer) ORDER BY o)
                    FROM jsonb_array_elements(p_records) WITH ORDINALITY AS e(r, o))
    WHERE p_key IS NOT NULL AND caller_id = p_caller AND key = p_key
$$;

-- A timestamp as the services' JSON writes it (pydantic): UTC with "Z", microseconds only when
-- there are any, so a payload written here equals the one the API answers.
CREATE FUNCTION nickel_json_time(t timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC',
                   CASE WHEN date_part('microseconds', t)::bigint % 1000000 = 0
                        THEN 'YYYY-MM-DD"T"HH24:MI:SS"Z"' ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"' END)
$$;

CREATE FUNCTION nickel_post_one(
    p_kind text, p_id uuid, p_asset text, p_from uuid, p_to uuid, p_amount bigint, p_memo text,
    p_caller uuid, p_key text, p_fingerprint text, p_command text, p_correlation text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    scale_of smallint;
    account record;
    debit bigint;
    credit bigint;
    debit_available bigint;
    issuer_balance bigint;
    created timestamptz;
    transfer jsonb;
    posted jsonb;
    balances jsonb;
BEGIN
    IF p_kind NOT IN ('transfer', 'issue', 'redeem') OR (p_kind = 'issue') <> (p_from IS NULL)
       OR (p_kind = 'redeem') <> (p_to IS NULL) THEN
        RAISE EXCEPTION 'nickel_post_one posts a transfer, an issue or a redemption' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (caller_id, key, fingerprint, command)
        VALUES (p_caller, p_key, p_fingerprint, p_command) ON CONFLICT (caller_id, key) DO NOTHING;
        IF NOT FOUND THEN
            RETURN jsonb_build_object('outcome', 'replay');
        END IF;
    END IF;

    -- Checks that need no lock.
    SELECT scale INTO scale_of FROM assets WHERE code = p_asset;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'no_asset');
    END IF;
    IF p_to IS NOT NULL AND NOT EXISTS (SELECT 1 FROM entities WHERE id = p_to AND status = 'active') THEN
        RETURN jsonb_build_object('outcome', 'no_recipient');
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
        RETURN jsonb_build_object('outcome', 'no_funds');
    END IF;
    -- The outstanding supply stays within bigint (shared.validation.MAX_AMOUNT, the issuer side's bound).
    IF p_from IS NULL AND -issuer_balance > 9223372036854775807 - p_amount THEN
        RETURN jsonb_build_object('outcome', 'no_supply_room');
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
    INSERT INTO outbox (aggregate, version, event_type, payload, correlation_id)
    VALUES ('transfer#' || p_id, 1, 'TransferPosted', transfer, p_correlation)
    RETURNING jsonb_build_object('seq', seq, 'aggregate', aggregate, 'version', version, 'event_type', event_type,
                                 'payload', payload, 'occurred_at', occurred_at, 'correlation_id', correlation_id)
    INTO posted;
    WITH changed AS (
        INSERT INTO outbox (aggregate, version, event_type, payload, correlation_id)
        SELECT 'wallet#' || a.owner_id || ':' || a.asset, a.version, 'BalanceChanged',
               jsonb_build_object('entity_id', a.owner_id, 'asset', a.asset, 'amount', a.balance, 'held', a.held,
                                  'scale', scale_of, 'version', a.version), p_correlation
        FROM ledger_accounts a WHERE a.id IN (debit, credit) AND a.owner_id IS NOT NULL ORDER BY a.id
        RETURNING seq, aggregate, version, event_type, payload, occurred_at, correlation_id
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object('seq', seq, 'aggregate', aggregate, 'version', version,
                                                 'event_type', event_type, 'payload', payload,
                                                 'occurred_at', occurred_at, 'correlation_id', correlation_id)
                              ORDER BY seq), '[]'::jsonb)
    INTO balances FROM changed;
    PERFORM nickel_answer_key(p_caller, p_key, transfer, jsonb_build_array(posted) || balances);
    RETURN jsonb_build_object('outcome', 'posted', 'transfer', transfer, 'records', jsonb_build_array(posted) || balances);
END $$;
