-- The change log: every insert, update and delete of a show's comments, claims and
-- items, and every update of the show itself, gets one row here with a gapless per-show
-- seq, in the writer's own transaction, followed by pg_notify('show_changes', show_id).
--
-- Why it looks like this (see ../shared/design/ARCHITECTURE.md):
-- * The seq comes from `shows.last_seq`: the UPDATE takes the show's row lock and holds
--   it until commit, so per show, seq order is commit order and a reader never sees
--   seq n+1 committed without seq n.
-- * Triggers on comments, claims and items are statement-level with transition tables,
--   so a 500-row batch costs one counter bump and one insert, not 500.
-- * The trigger functions are SECURITY DEFINER: any writer role (an analyst's psql
--   session too) produces changes, while no role but the owner can write show_changes.
-- * The NOTIFY payload is the show id and nothing else. Any role can NOTIFY anything,
--   so the payload is a doorbell: the service reads the data from show_changes. Equal
--   payloads in one transaction are folded by Postgres into one notification.

create table show_changes (
    show_id      uuid not null references shows (id),
    seq          bigint not null check (seq > 0),
    entity       text not null check (entity in ('comment', 'claim', 'item', 'show')),
    op           text not null check (op in ('insert', 'update', 'delete')),
    row_id       text not null,
    data         jsonb not null,
    actor        text not null,
    committed_at timestamptz not null default now(),
    primary key (show_id, seq)
);

comment on table show_changes is 'Append-only change log and audit trail: one row per changed row of a show, written only by triggers. The live feed streams it in seq order.';
comment on column show_changes.show_id is 'The show the change belongs to.';
comment on column show_changes.seq is 'Gapless per-show sequence number in commit order (the SSE event id).';
comment on column show_changes.entity is 'What changed: comment, claim, item or show.';
comment on column show_changes.op is 'insert, update or delete.';
comment on column show_changes.row_id is 'Id of the changed row (comments.id, claims.id, shows.id, or items.item_number).';
comment on column show_changes.data is 'The row after the change (before it, for a delete), as JSON.';
comment on column show_changes.actor is 'Who made the change: the API token subject the service set, else the database login role.';
comment on column show_changes.committed_at is 'Timestamp of the writing transaction (its start; the exact commit time is pg_xact_commit_timestamp(xmin) where track_commit_timestamp is on).';

revoke all on show_changes from public;

-- Appends the given rows (JSON of the changed table rows) to show_changes and rings the
-- doorbell once per show. Called only by the trigger functions below, as their owner.
create function showfeed_append_changes(p_entity text, p_op text, p_rows jsonb[])
returns void
language plpgsql
set search_path = pg_catalog, public
set timezone = 'UTC'
as $$
declare
    v_actor text;
    v_show uuid;
begin
    -- The service sets showfeed.actor (the token's sub) for its own transactions; other
    -- roles are recorded as themselves and cannot borrow another name through the GUC.
    -- Inside SECURITY DEFINER, current_user is the owner, session_user the login role.
    if session_user = current_user then
        v_actor := coalesce(nullif(current_setting('showfeed.actor', true), ''), session_user);
    else
        v_actor := session_user;
    end if;

    -- Lock every touched show's counter in one order, so that two statements that write
    -- the same shows in different orders cannot deadlock on the counters.
    for v_show in
        select distinct coalesce(r.j ->> 'show_id', r.j ->> 'id')::uuid
          from unnest(p_rows) as r (j)
         order by 1
    loop
        with changed as (
            select r.ord, coalesce(r.j ->> 'id', r.j ->> 'item_number') as row_id, r.j as data
              from unnest(p_rows) with ordinality as r (j, ord)
             where coalesce(r.j ->> 'show_id', r.j ->> 'id')::uuid = v_show
        ), bumped as (
            update shows s
               set last_seq = s.last_seq + (select count(*) from changed)
             where s.id = v_show
            returning s.last_seq
        )
        insert into show_changes (show_id, seq, entity, op, row_id, data, actor)
        select v_show, n.seq, p_entity, p_op, n.row_id,
               -- A show's row after its change includes the counter this change bumped.
               case when p_entity = 'show'
                    then jsonb_set(n.data, '{last_seq}', to_jsonb(n.seq))
                    else n.data end,
               v_actor
          from (select c.ord, c.row_id, c.data,
                       b.last_seq - count(*) over () + row_number() over (order by c.ord) as seq
                  from changed c, bumped b) n
         order by n.ord;

        perform pg_notify('show_changes', v_show::text);
    end loop;
end
$$;

revoke all on function showfeed_append_changes(text, text, jsonb[]) from public;

-- Statement-level trigger for comments, claims and items: TG_ARGV[0] names the entity,
-- the transition table `changed_rows` holds the new rows (old rows for a delete).
create function showfeed_record_changes()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, public
set timezone = 'UTC'
as $$
declare
    v_rows jsonb[];
begin
    select array_agg(to_jsonb(r)) into v_rows from changed_rows r;
    if v_rows is not null then
        perform showfeed_append_changes(tg_argv[0], lower(tg_op), v_rows);
    end if;
    return null;
end
$$;

revoke all on function showfeed_record_changes() from public;

-- Row-level trigger for shows: only updates of the show's own fields are changes; the
-- counter bump above sets only last_seq, so it does not fire this trigger.
create function showfeed_record_show_change()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, public
set timezone = 'UTC'
as $$
begin
    perform showfeed_append_changes('show', 'update', array[to_jsonb(new)]);
    return null;
end
$$;

revoke all on function showfeed_record_show_change() from public;

create trigger comments_insert_changes after insert on comments
    referencing new table as changed_rows
    for each statement execute function showfeed_record_changes('comment');
create trigger comments_update_changes after update on comments
    referencing new table as changed_rows
    for each statement execute function showfeed_record_changes('comment');
create trigger comments_delete_changes after delete on comments
    referencing old table as changed_rows
    for each statement execute function showfeed_record_changes('comment');

create trigger claims_insert_changes after insert on claims
    referencing new table as changed_rows
    for each statement execute function showfeed_record_changes('claim');
create trigger claims_update_changes after update on claims
    referencing new table as changed_rows
    for each statement execute function showfeed_record_changes('claim');
create trigger claims_delete_changes after delete on claims
    referencing old table as changed_rows
    for each statement execute function showfeed_record_changes('claim');

create trigger items_insert_changes after insert on items
    referencing new table as changed_rows
    for each statement execute function showfeed_record_changes('item');
create trigger items_update_changes after update on items
    referencing new table as changed_rows
    for each statement execute function showfeed_record_changes('item');
create trigger items_delete_changes after delete on items
    referencing old table as changed_rows
    for each statement execute function showfeed_record_changes('item');

create trigger shows_update_changes after update of title, status, started_at, ended_at on shows
    for each row
    when ((old.title, old.status, old.started_at, old.ended_at)
          is distinct from (new.title, new.status, new.started_at, new.ended_at))
    execute function showfeed_record_show_change();

-- show_changes is written only by the change functions above (they run as the table's
-- owner) and is append-only: only `showfeed prune` (as the owner, with showfeed.prune =
-- 'on' for its transaction) may delete old rows, and only the owner may truncate.
-- Privileges already keep other roles out; the guard keeps them out as well when someone
-- grants them every table (`grant all on all tables in schema public to analyst`).
create function showfeed_guard_changes()
returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
declare
    v_owner boolean;
begin
    if tg_op in ('INSERT', 'TRUNCATE')
       or (tg_op = 'DELETE' and current_setting('showfeed.prune', true) = 'on') then
        select r.rolname = current_user into v_owner
          from pg_class c join pg_roles r on r.oid = c.relowner
         where c.oid = tg_relid;
        if v_owner and tg_op = 'DELETE' then
            return old;
        elsif v_owner then
            return null;  -- statement-level: the value is ignored
        end if;
    end if;
    raise exception 'show_changes is append-only and written only by the change triggers'
        using errcode = 'insufficient_privilege';
end
$$;

create trigger show_changes_append_only before update or delete on show_changes
    for each row execute function showfeed_guard_changes();
-- Statement-level: once per insert statement (one per show per write), not per row.
create trigger show_changes_written_by_triggers before insert or truncate on show_changes
    for each statement execute function showfeed_guard_changes();

-- shows.last_seq is the change counter: only the change functions move it. A direct update
-- would leave a gap in the show's seqs, or make the next seq collide and every later
-- write of the show fail.
create function showfeed_guard_last_seq()
returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
begin
    raise exception 'shows.last_seq is maintained by the change triggers'
        using errcode = 'insufficient_privilege';
end
$$;

create trigger shows_last_seq_guard before update of last_seq on shows
    for each row
    when (pg_trigger_depth() = 0 and new.last_seq is distinct from old.last_seq)
    execute function showfeed_guard_last_seq();
