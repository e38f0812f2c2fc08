-- The relay doorbell: a database can run with writers' transactions carrying no NOTIFY.
--
-- Why (see README, "How it stays correct", and docs/SCALING.md): every transaction that
-- calls pg_notify takes one cluster-wide lock at commit and holds it through the WAL flush,
-- so notifying commits run one at a time. In relay mode the triggers still assign the
-- gapless per-show seq and append to show_changes in the writer's transaction (any writer,
-- psql too, streams exactly), but they ring no doorbell: each row they write records its
-- writer's transaction id in `relay_xid`, and one elected node (the relay) finds the rows
-- that became visible since its last look and sends one NOTIFY per batch for many changes.
--
-- * The mode is one row here, read by the change function in the writer's statement. A
--   switch (`showfeed doorbell relay|trigger`) is one committed update: writers after it
--   follow it at once, with no restart.
-- * Only rows whose writer did not ring carry relay_xid (null otherwise), so the relay,
--   which looks in both modes, rings for exactly those rows: a writer that read 'relay'
--   just before a switch back to 'trigger' and commits after it is still rung for, by the
--   relay, whenever it commits. In trigger mode the partial index stays empty.
-- * relay_xid is the top-level transaction id (xid8: 64 bits, no wraparound). The relay
--   keeps its last snapshot and, in one statement, reads the rows whose xid was not yet
--   visible in it (at or above its xmax, or in its in-progress list) but is now: safe
--   against transactions that commit out of xid order, and each poll reads only new rows.

create table showfeed_doorbell (
    only_row   boolean primary key default true check (only_row),
    mode       text not null default 'trigger' check (mode in ('trigger', 'relay')),
    changed_at timestamptz not null default now(),
    changed_by text not null default current_user
);

comment on table showfeed_doorbell is 'How changes ring the doorbell: trigger (each writing transaction NOTIFYs) or relay (an elected node NOTIFYs for batches). Switch with `showfeed doorbell relay|trigger`.';
comment on column showfeed_doorbell.mode is 'trigger or relay.';
comment on column showfeed_doorbell.changed_at is 'When the mode was last switched.';
comment on column showfeed_doorbell.changed_by is 'The database role that last switched it.';

insert into showfeed_doorbell default values;
revoke all on showfeed_doorbell from public;
grant select on showfeed_doorbell to public;

-- No default and nullable: adding the column rewrites nothing, and old rows stay null.
alter table show_changes add column relay_xid xid8;

comment on column show_changes.relay_xid is 'The writing transaction''s id when it rang no doorbell (relay mode): the relay rings for these rows once they are visible. Null when the writer rang itself.';

create index show_changes_relay_xid on show_changes (relay_xid) where relay_xid is not null;

-- As in V3, plus: read the mode once per call; in relay mode record the writer's
-- transaction id instead of calling pg_notify.
create or replace function showfeed_append_changes(p_entity text, p_op text, p_rows jsonb[])
returns void
language plpgsql
set search_path = pg_catalog, public
set timezone = 'UTC'
as $$
declare
    v_actor text;
    v_show uuid;
    v_ring boolean;
    v_xid xid8;
begin
    if session_user = current_user then
        v_actor := coalesce(nullif(current_setting('showfeed.actor', true), ''), session_user);
    else
        v_actor := session_user;
    end if;

    -- A missing row means the default, trigger.
    v_ring := coalesce((select d.mode = 'trigger' from showfeed_doorbell d), true);
    if not v_ring then
        v_xid := pg_current_xact_id();
    end if;

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
        insert into show_changes (show_id, seq, entity, op, row_id, data, actor, relay_xid)
        select v_show, n.seq, p_entity, p_op, n.row_id,
               case when p_entity = 'show'
                    then jsonb_set(n.data, '{last_seq}', to_jsonb(n.seq))
                    else n.data end,
               v_actor, v_xid
          from (select c.ord, c.row_id, c.data,
                       b.last_seq - count(*) over () + row_number() over (order by c.ord) as seq
                  from changed c, bumped b) n
         order by n.ord;

        if v_ring then
            perform pg_notify('show_changes', v_show::text);
        end if;
    end loop;
end
$$;
