-- The change trigger bumps last_seq after this statement, so the service reads the row
-- again (shows/get.sql) in the same transaction to answer with what the feed sends.
update shows
   set title = coalesce($2, title),
       status = coalesce($3, status),
       currency = coalesce($4, currency),
       started_at = case when $3 = 'live' then coalesce(started_at, now()) else started_at end,
       ended_at = case when $3 = 'ended' then coalesce(ended_at, now()) else ended_at end
 where id = $1
returning id
