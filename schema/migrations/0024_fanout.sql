-- Rhenium's hybrid fan-out (issue #16; docs/architecture.md, "Inbox: hybrid fan-out").
--
-- A membership is ``fanned`` when the group had at most FANOUT_LIMIT members once it began (decided
-- under the group's lock): during it, the group's broadcasts are copied into the member's own inbox
-- partition. Otherwise the member reads the group's partition at read time. Memberships from before
-- this migration read at read time, as they always did, so nothing is lost and nothing doubles.
ALTER TABLE group_members ADD COLUMN fanned boolean NOT NULL DEFAULT false;

-- The history of fanned memberships: one span per (group, entity, joining), closed on leaving.
-- ``group_members`` keeps only the latest window, so a fan-out that runs after a member left and
-- re-joined could not know the member was in at the broadcast's moment; the spans do. A trigger
-- writes them, so no command can change a membership without its history following.
CREATE TABLE fanout_spans (
    group_id  uuid        NOT NULL,
    entity_id uuid        NOT NULL,
    joined_at timestamptz NOT NULL,
    left_at   timestamptz,
    PRIMARY KEY (group_id, entity_id, joined_at),
    FOREIGN KEY (group_id, entity_id) REFERENCES group_members (group_id, entity_id)
);

-- How many spans of a group are open (its current fanned members), kept by the same trigger: a
-- broadcast reads it from the group's row it locks anyway, to know how many fan-out events its
-- write version names, without counting anything.
ALTER TABLE groups ADD COLUMN fanned_members integer NOT NULL DEFAULT 0 CHECK (fanned_members >= 0);

CREATE FUNCTION record_fanout_span() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.fanned AND (TG_OP = 'INSERT' OR NEW.joined_at IS DISTINCT FROM OLD.joined_at) THEN
        INSERT INTO fanout_spans (group_id, entity_id, joined_at, left_at)
        VALUES (NEW.group_id, NEW.entity_id, NEW.joined_at, NEW.left_at);
        IF NEW.left_at IS NULL THEN
            UPDATE groups SET fanned_members = fanned_members + 1 WHERE id = NEW.group_id;
        END IF;
    ELSIF TG_OP = 'UPDATE' AND NEW.left_at IS DISTINCT FROM OLD.left_at THEN
        UPDATE fanout_spans SET left_at = NEW.left_at
        WHERE group_id = NEW.group_id AND entity_id = NEW.entity_id AND joined_at = NEW.joined_at AND left_at IS NULL;
        IF FOUND THEN
            UPDATE groups SET fanned_members = fanned_members - 1 WHERE id = NEW.group_id;
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER group_members_fanout_spans AFTER INSERT OR UPDATE OF joined_at, left_at ON group_members
    FOR EACH ROW EXECUTE FUNCTION record_fanout_span();

-- A group broadcast fanned out: written once, by the first fan-out of the message (a redelivered
-- change record, or maintenance re-deriving it, finds the row and does nothing). A group broadcast
-- without its row is a missing derived write (``MissingDerivedWrites``).
CREATE TABLE broadcast_fanouts (
    message_id   uuid        PRIMARY KEY REFERENCES messages (id),
    recipients   integer     NOT NULL DEFAULT 0 CHECK (recipients >= 0),
    batches      integer     NOT NULL DEFAULT 0 CHECK (batches >= 0),
    fanned_out_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
