-- Lean holds (issue 14): placing a hold and capturing it in one round trip each, as 0021 does
-- for transfers: the key's claim, the checks, the locks (the hold first, then accounts in id
-- order, as every command takes them), the writes and the outbox rows in one call returning
-- jsonb, the result kept with the key (nickel_answer_key, 0021). Refusals are decided before any
-- write but the key's claim. The holds' triggers and the
-- CHECK constraints of 0010 still decide what may happen to a hold and a balance, whatever calls.

-- A hold's state as the services' JSON writes it (shared.contracts.nickel_holds.HoldState).
CREATE FUNCTION nickel_hold_json(h holds) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', h.id, 'from', h.from_entity, 'to', h.to_entity, 'asset', h.asset, 'amount', h.amount,
        'captured', h.captured, 'status', h.status, 'memo', h.memo,
        'expires_at', nickel_json_time(h.expires_at), 'created_at', nickel_json_time(h.created_at),
        'version', h.version)
$$;

-- One outbox row, returned as the change record the caller publishes.
CREATE FUNCTION nickel_emit(p_aggregate text, p_version integer, p_event text, p_payload jsonb, p_correlation text)
RETURNS jsonb LANGUAGE sql AS $$
    INSERT INTO outbox (aggregate, version, event_type, payload, correlation_id)
    VALUES (p_aggregate, p_version, p_event, p_payload, p_correlation)
    RETURNING jsonb_build_object('seq', seq, 'aggregate', aggregate, 'version', version, 'event_type', event_type,
                                 'payload', payload, 'occurred_at', occurred_at, 'correlation_id', correlation_id)
$$;

-- BalanceChanged for each holder account of ``ids`` (in id order), after the changes.
CREATE FUNCTION nickel_emit_balances(ids bigint[], p_correlation text) RETURNS jsonb LANGUAGE sql AS $$
    WITH changed AS (
        INSERT INTO outbox (aggregate, version, event_type, payload, correlation_id)
        SELECT 'wallet#' || a.owner_id || ':' || a.asset, a.version, 'BalanceChanged',
               jsonb_build_object('entity_id', a.owner_id, 'asset', a.asset, 'amount', a.balance, 'held', a.held,
                                  'scale', s.scale, 'version', a.version), p_correlation
        FROM ledger_accounts a JOIN assets s ON s.code = a.asset
        WHERE a.id = ANY(ids) AND a.owner_id IS NOT NULL ORDER BY a.id
        RETURNING seq, aggregate, version, event_type, payload, occurred_at, correlation_id
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object('seq', seq, 'aggregate', aggregate, 'version', version,
                                                 'event_type', event_type, 'payload', payload,
                                                 'occurred_at', occurred_at, 'correlation_id', correlation_id)
                              ORDER BY seq), '[]'::jsonb)
    FROM changed
$$;

-- Claim (caller, key) for a command; false if it was claimed before (the caller replays its answer).
CREATE FUNCTION nickel_claim_key(p_caller uuid, p_key text, p_fingerprint text, p_command text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF p_key IS NULL THEN
        RETURN true;
    END IF;
    INSERT INTO idempotency_keys (caller_id, key, fingerprint, command)
    VALUES (p_caller, p_key, p_fingerprint, p_command) ON CONFLICT (caller_id, key) DO NOTHING;
    RETURN FOUND;
END $$;

CREATE FUNCTION nickel_place_hold(
    p_id uuid, p_asset text, p_from uuid, p_to uuid, p_amount bigint, p_memo text, p_ttl integer,
    p_caller uuid, p_key text, p_fingerprint text, p_command text, p_correlation text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    placed holds;
    records jsonb;
BEGIN
    IF NOT nickel_claim_key(p_caller, p_key, p_fingerprint, p_command) THEN
        RETURN jsonb_build_object('outcome', 'replay');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM assets WHERE code = p_asset) THEN
        RETURN jsonb_build_object('outcome', 'no_asset');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM entities WHERE id = p_to AND status = 'active') THEN
        RETURN jsonb_build_object('outcome', 'no_recipient');
    END IF;
    -- Lock the payer's account if it has the amount available, and hold it there, in one statement
    -- (a locked row is re-checked on its newest version once the lock is granted: never held twice).
    WITH payer AS (
        SELECT id FROM ledger_accounts
        WHERE asset = p_asset AND owner_id = p_from AND balance - held >= p_amount FOR UPDATE
    ), now AS (SELECT clock_timestamp() AS t)
    INSERT INTO holds (id, asset, debit_account, from_entity, to_entity, amount, memo, created_at, expires_at)
    SELECT p_id, p_asset, payer.id, p_from, p_to, p_amount, p_memo, now.t, now.t + make_interval(secs => p_ttl)
    FROM payer, now
    RETURNING * INTO placed;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'no_funds');
    END IF;
    records := jsonb_build_array(nickel_emit('hold#' || placed.id, placed.version, 'HoldPlaced', nickel_hold_json(placed), p_correlation))
               || nickel_emit_balances(ARRAY[placed.debit_account], p_correlation);
    PERFORM nickel_answer_key(p_caller, p_key, nickel_hold_json(placed), records);
    RETURN jsonb_build_object('outcome', 'posted', 'hold', nickel_hold_json(placed), 'records', records);
END $$;

CREATE FUNCTION nickel_capture_hold(
    p_id uuid, p_hold uuid, p_payee uuid, p_amount bigint,
    p_caller uuid, p_key text, p_fingerprint text, p_command text, p_correlation text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    hold holds;
    due boolean;
    taken bigint;
    credit bigint;
    created timestamptz;
    transfer jsonb;
    hold_record jsonb;
    records jsonb;
BEGIN
    IF NOT nickel_claim_key(p_caller, p_key, p_fingerprint, p_command) THEN
        RETURN jsonb_build_object('outcome', 'replay');
    END IF;
    -- The hold first, then the accounts in id order (every command's order).
    SELECT * INTO hold FROM holds WHERE id = p_hold FOR UPDATE;
    due := hold.expires_at <= clock_timestamp();  -- by the database's clock, once the lock is granted
    IF hold.id IS NULL OR p_payee NOT IN (hold.from_entity, hold.to_entity) THEN
        RETURN jsonb_build_object('outcome', 'no_hold');
    END IF;
    IF p_payee <> hold.to_entity THEN
        RETURN jsonb_build_object('outcome', 'not_payee');
    END IF;
    IF hold.status <> 'pending' THEN
        RETURN jsonb_build_object('outcome', 'not_pending', 'status', hold.status);
    END IF;
    IF due THEN
        RETURN jsonb_build_object('outcome', 'expired');
    END IF;
    taken := coalesce(p_amount, hold.amount);
    IF taken > hold.amount THEN
        RETURN jsonb_build_object('outcome', 'too_much');
    END IF;
    PERFORM 1 FROM ledger_accounts
    WHERE asset = hold.asset AND (owner_id = hold.from_entity OR owner_id = hold.to_entity) ORDER BY id FOR UPDATE;
    -- Resolve it if it is still before expires_at at this statement (the time may have passed
    -- while the accounts' locks were awaited); its trigger releases the held amount.
    UPDATE holds SET status = 'captured', captured = taken
    WHERE id = p_hold AND expires_at > statement_timestamp() RETURNING * INTO hold;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'expired');
    END IF;
    hold_record := nickel_emit('hold#' || hold.id, hold.version, 'HoldCaptured', nickel_hold_json(hold), p_correlation);

    SELECT id INTO credit FROM ledger_accounts WHERE asset = hold.asset AND owner_id = hold.to_entity;
    IF credit IS NULL THEN  -- the payee's first value of this asset: a new account (a new id, above the locks held)
        INSERT INTO ledger_accounts (asset, owner_id) VALUES (hold.asset, hold.to_entity)
        ON CONFLICT (asset, owner_id) WHERE owner_id IS NOT NULL DO NOTHING RETURNING id INTO credit;
        IF credit IS NULL THEN
            SELECT id INTO credit FROM ledger_accounts WHERE asset = hold.asset AND owner_id = hold.to_entity FOR UPDATE;
        END IF;
    END IF;
    INSERT INTO transfers (id, asset, debit_account, credit_account, from_entity, to_entity, amount, memo, kind, hold_id)
    VALUES (p_id, hold.asset, hold.debit_account, credit, hold.from_entity, hold.to_entity, taken, hold.memo,
            'capture', hold.id)
    RETURNING created_at INTO created;
    transfer := jsonb_build_object(
        'id', p_id, 'from', hold.from_entity, 'to', hold.to_entity, 'asset', hold.asset, 'amount', taken,
        'memo', hold.memo, 'kind', 'capture', 'reverses', NULL::uuid, 'created_at', nickel_json_time(created),
        'version', 1);
    records := jsonb_build_array(hold_record, nickel_emit('transfer#' || p_id, 1, 'TransferPosted', transfer, p_correlation))
               || nickel_emit_balances(ARRAY[hold.debit_account, credit], p_correlation);
    PERFORM nickel_answer_key(p_caller, p_key, transfer, records);
    RETURN jsonb_build_object('outcome', 'posted', 'transfer', transfer, 'records', records);
END $$;
