insert into shows (title, status, started_at)
values ($1, $2, case when $2 = 'live' then now() end)
returning to_jsonb(shows.*) as show
