-- Changes of one show after a seq, as the JSON the feed sends, with the show's current
-- last_seq on every row (one row with null change columns when there is nothing newer,
-- none when the show does not exist). committed_at is the exact commit time where
-- track_commit_timestamp is on ($4), else the writing transaction's timestamp.
select s.last_seq,
       c.seq,
       c.entity || '.' || case c.op when 'insert' then 'created'
                                    when 'update' then 'updated'
                                    else 'deleted' end as event,
       jsonb_build_object(
           'seq', c.seq,
           'show_id', c.show_id,
           'entity', c.entity,
           'op', c.op,
           'data', c.data,
           'actor', c.actor,
           'committed_at', coalesce(case when $4 then pg_xact_commit_timestamp(c.row_xmin) end,
                                    c.committed_at)
       )::text as body
  from shows s
  left join lateral (
       select x.*, x.xmin as row_xmin from show_changes x
        where x.show_id = s.id and x.seq > $2
        order by x.seq
        limit $3) c on true
 where s.id = $1
 order by c.seq
