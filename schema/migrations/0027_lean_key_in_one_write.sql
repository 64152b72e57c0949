-- Lean postings write their key once (issue 14): the claim written with the answer, at the end.
--
-- 0021/0022 claimed the key first (an INSERT) and kept the answer with it at the end (an UPDATE of
-- the same row, with the versions aggregated): two writes of the key per posting, the second while
-- the locks are held. Measured with pgbench on hot accounts, that second write took a fifth of the
-- transfer statement's time (904 postings a second as written, 1,148 without it). Now
-- ``nickel_post_one``, ``nickel_place_hold`` and ``nickel_capture_hold`` read the key first and
-- write it once, answer included, after posting. A refusal claims it before answering, as before,
-- so the caller keeps the refusal with it. Two requests of one key at once both find it free and
-- queue on the same rows; the second either finds nothing left to do (a refusal, whose claim then
-- finds the key taken: a replay) or posts and finds the key taken when it claims it: it raises,
-- so its posting is rolled back whole (``nickel: not posted``), and Fluorine answers it the
-- transactional way, which finds the key and replays the first answer.

-- Claim the key with the answer and the versions of the aggregates written (in the order written);
-- raise if the key was taken meanwhile (nothing of the statement is kept then).
CREATE FUNCTION nickel_keep_answer(
    p_caller uuid, p_key text, p_fingerprint text, p_command text, p_result jsonb, p_records jsonb
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_key IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO idempotency_keys (caller_id, key, fingerprint, command, result, versions)
    SELECT p_caller, p_key, p_fingerprint, p_command, p_result,
           (SELECT jsonb_agg(jsonb_build_array(r ->> 'aggregate', (r ->> 'version')::integer) ORDER BY o)
            FROM jsonb_array_elements(p_records) WITH ORDINALITY AS e(r, o))
    ON CONFLICT (caller_id, key) DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'nickel: not posted (the key was used meanwhile)' USING ERRCODE = 'raise_exception';
    END IF;
END $$;

-- A refusal: the key claimed without an answer (the caller keeps the refusal with it), or a replay
-- if it was taken meanwhile.
CREATE FUNCTION nickel_refused(p_caller uuid, p_key text, p_fingerprint text, p_command text, p_answer jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    IF NOT nickel_claim_key(p_caller, p_key, p_fingerprint, p_command) THEN
        RETURN jsonb_build_object('outcome', 'replay');
    END IF;
    RETURN p_answer;
END $$;

-- Whether the key was used before (a replay), read without claiming it.
CREATE FUNCTION nickel_key_used(p_caller uuid, p_key text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT p_key IS NOT NULL AND EXISTS (SELECT 1 FROM idempotency_keys WHERE caller_id = p_caller AND key = p_key)
$$;

CREATE OR REPLACE FUNCTION nickel_post_one(
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
    IF nickel_key_used(p_caller, p_key) THEN
        RETURN jsonb_build_object('outcome', 'replay');
    END IF;

    -- Checks that need no lock.
    SELECT scale INTO scale_of FROM assets WHERE code = p_asset;
    IF NOT FOUND THEN
        RETURN nickel_refused(p_caller, p_key, p_fingerprint, p_command, jsonb_build_object('outcome', 'no_asset'));
    END IF;
    IF p_to IS NOT NULL AND NOT EXISTS (SELECT 1 FROM entities WHERE id = p_to AND status = 'active') THEN
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
    PERFORM nickel_keep_answer(p_caller, p_key, p_fingerprint, p_command, transfer, jsonb_build_array(posted) || balances);
    RETURN jsonb_build_object('outcome', 'posted', 'transfer', transfer, 'records', jsonb_build_array(posted) || balances);
END $$;

-- The lean holds (0022) write their key once too.

CREATE OR REPLACE FUNCTION nickel_place_hold(
    p_id uuid, p_asset text, p_from uuid, p_to uuid, p_amount bigint, p_memo text, p_ttl integer,
    p_caller uuid, p_key text, p_fingerprint text, p_command text, p_correlation text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    placed holds;
    records jsonb;
BEGIN
    IF nickel_key_used(p_caller, p_key) THEN
        RETURN jsonb_build_object('outcome', 'replay');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM assets WHERE code = p_asset) THEN
        RETURN nickel_refused(p_caller, p_key, p_fingerprint, p_command, jsonb_build_object('outcome', 'no_asset'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM entities WHERE id = p_to AND status = 'active') THEN
        RETURN nickel_refused(p_caller, p_key, p_fingerprint, p_command, jsonb_build_object('outcome', 'no_recipient'));
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
        RETURN nickel_refused(p_caller, p_key, p_fingerprint, p_command, jsonb_build_object('outcome', 'no_funds'));
    END IF;
    records := jsonb_build_array(nickel_emit('hold#' || placed.id, placed.version, 'HoldPlaced', nickel_hold_json(placed), p_correlation))
               || nickel_emit_balances(ARRAY[placed.debit_account], p_correlation);
    PERFORM nickel_keep_answer(p_caller, p_key, p_fingerprint, p_command, nickel_hold_json(placed), records);
    RETURN jsonb_build_object('outcome', 'posted', 'hold', nickel_hold_json(placed), 'records', records);
END $$;

CREATE OR REPLACE FUNCTION nickel_capture_hold(
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
    IF nickel_key_used(p_caller, p_key) THEN
        RETURN jsonb_build_object('outcome', 'replay');
    END IF;
    -- The hold first, then the accounts in id order (every command's order).
    SELECT * INTO hold FROM holds WHERE id = p_hold FOR UPDATE;
    due := hold.expires_at <= clock_timestamp();  -- by the database's clock, once the lock is granted
    IF hold.id IS NULL OR p_payee NOT IN (hold.from_entity, hold.to_entity) THEN
        RETURN nickel_refused(p_caller, p_key, p_fingerprint, p_command, jsonb_build_object('outcome', 'no_hold'));
    END IF;
    IF p_payee <> hold.to_entity THEN
        RETURN nickel_refused(p_caller, p_key, p_fingerprint, p_command, jsonb_build_object('outcome', 'not_payee'));
    END IF;
    IF hold.status <> 'pending' THEN
        RETURN nickel_refused(p_caller, p_key, p_fingerprint, p_command, jsonb_build_object('outcome', 'not_pending', 'status', hold.status));
    END IF;
    IF due THEN
        RETURN nickel_refused(p_caller, p_key, p_fingerprint, p_command, jsonb_build_object('outcome', 'expired'));
    END IF;
    taken := coalesce(p_amount, hold.amount);
    IF taken > hold.amount THEN
        RETURN nickel_refused(p_caller, p_key, p_fingerprint, p_command, jsonb_build_object('outcome', 'too_much'));
    END IF;
    PERFORM 1 FROM ledger_accounts
    WHERE asset = hold.asset AND (owner_id = hold.from_entity OR owner_id = hold.to_entity) ORDER BY id FOR UPDATE;
    -- Resolve it if it is still before expires_at at this statement (the time may have passed
    -- while the accounts' locks were awaited); its trigger releases the held amount.
    UPDATE holds SET status = 'captured', captured = taken
    WHERE id = p_hold AND expires_at > statement_timestamp() RETURNING * INTO hold;
    IF NOT FOUND THEN
        RETURN nickel_refused(p_caller, p_key, p_fingerprint, p_command, jsonb_build_object('outcome', 'expired'));
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
    PERFORM nickel_keep_answer(p_caller, p_key, p_fingerprint, p_command, transfer, records);
    RETURN jsonb_build_object('outcome', 'posted', 'transfer', transfer, 'records', records);
END $$;
