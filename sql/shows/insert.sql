insert into shows (title, status, started_at, currency)
values ($1, $2, case when $2 = 'live' then now() end, $3)
returning id, title, status, started_at, ended_at, last_seq, created_at, currency
