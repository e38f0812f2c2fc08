update shows
   set title = coalesce($2, title),
       status = coalesce($3, status),
       started_at = case when $3 = 'live' then coalesce(started_at, now()) else started_at end,
       ended_at = case when $3 = 'ended' then coalesce(ended_at, now()) else ended_at end
 where id = $1
returning to_jsonb(shows.*) as show
