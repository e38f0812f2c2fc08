insert into shows (title, status, started_at)
values ($1, $2, case when $2 = 'live' then now() end)
returning id, title, status, started_at, ended_at, last_seq, created_at
