-- A lean posting as one autocommit statement (issue 14): no BEGIN, no COMMIT round trip.
--
-- With 0021/0022 a keyed transfer was BEGIN, the caller check, the posting statement and COMMIT,
-- and its locks stayed held across COMMIT's round trip. Fluorine now first tries the whole
-- command as one statement in autocommit mode: the caller check gates the posting statement
-- (CASE runs it only when the check passes), and anything but a posting or a replay raises, so
-- the statement - the key's claim included - is rolled back and nothing of it is kept. Fluorine
-- then runs the command the transactional way, which gives the real answer (401/403 before the
-- key is claimed; a refusal kept with the key). Locks are held for the statement and the commit
-- inside the server only. The rules are the same tables' CHECK constraints and triggers.

-- The caller may act (``fluorine.authority.authorize`` on the same row): an active entity in a
-- live session, and a platform admin when ``p_admin``. Only a gate: a no is answered by the
-- transactional path, whose check gives the reason.
CREATE FUNCTION fluorine_caller_ok(p_session uuid, p_entity uuid, p_admin boolean)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT e.status = 'active' AND s.id IS NOT NULL AND s.revoked_at IS NULL
               AND (NOT p_admin OR 'admin' = ANY (e.roles))
        FROM entities e LEFT JOIN auth_sessions s ON s.id = p_session AND s.entity_id = e.id
        WHERE e.id = p_entity), false)
$$;

-- A lean function's answer if it posted (or found its key already used); else the statement fails.
CREATE FUNCTION nickel_only_if_posted(answer jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    IF answer IS NULL OR answer ->> 'outcome' NOT IN ('posted', 'replay') THEN
        RAISE EXCEPTION 'nickel: not posted (%)', coalesce(answer ->> 'outcome', 'caller check')
            USING ERRCODE = 'raise_exception';
    END IF;
    RETURN answer;
END $$;
