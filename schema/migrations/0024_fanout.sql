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

-- The open spans of a group (its current fanned members), counted by a broadcast: how many
-- fan-out events its write version names (at most FANOUT_LIMIT entries, whatever the group's size).
CREATE INDEX fanout_spans_open ON fanout_spans (group_id) WHERE left_at IS NULL;

CREATE FUNCTION record_fanout_span() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.fanned AND (TG_OP = 'INSERT' OR NEW.joined_at IS DISTINCT FROM OLD.joined_at) THEN
        INSERT INTO fanout_spans (group_id, entity_id, joined_at, left_at)
        VALUES (NEW.group_id, NEW.entity_id, NEW.joined_at, NEW.left_at);
    ELSIF TG_OP = 'UPDATE' AND NEW.left_at IS DISTINCT FROM OLD.left_at THEN
        UPDATE fanout_spans SET left_at = NEW.left_at
        WHERE group_id = NEW.group_id AND entity_id = NEW.entity_id AND joined_at = NEW.joined_at;
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
