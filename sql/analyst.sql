-- Roles for analysts, run once per database by its owner (the role showfeed migrates as):
--
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f sql/analyst.sql
--   psql "$DATABASE_URL" -c "alter role showfeed_analyst password '...'"
--
-- showfeed_analyst reads everything (tables and the views in sql/views/) and can write
-- nothing; its statements time out, so a heavy query cannot hold the service up.
-- showfeed_fixer may also correct data (claims, comments, items, show fields). Its
-- writes stream live to operators like the API's own: the change triggers run as their
-- owner (SECURITY DEFINER) and record the fixer's login as the actor. It cannot write
-- show_changes or shows.last_seq. Its lock and idle-in-transaction timeouts keep an
-- open psql transaction from stalling a show's ingest (which waits on the same rows).
--
-- Role settings apply to sessions that log in AS the role; for personal accounts, create
-- them with `create role alice login in role showfeed_analyst` and copy the settings.

do $$
begin
    create role showfeed_analyst login;
exception when duplicate_object then null;
end
$$;

do $$
begin
    create role showfeed_fixer login;
exception when duplicate_object then null;
end
$$;

alter role showfeed_analyst set default_transaction_read_only = on;
alter role showfeed_analyst set statement_timeout = '30s';
alter role showfeed_analyst set lock_timeout = '1s';
alter role showfeed_analyst set idle_in_transaction_session_timeout = '60s';

alter role showfeed_fixer set statement_timeout = '30s';
alter role showfeed_fixer set lock_timeout = '2s';
alter role showfeed_fixer set idle_in_transaction_session_timeout = '30s';

grant usage on schema public to showfeed_analyst, showfeed_fixer;
grant select on shows, items, comments, claims, show_changes,
                show_summary, item_claim_funnel, change_log
   to showfeed_analyst, showfeed_fixer;

grant update (status, waitlist_position, buyer_name, updated_at) on claims to showfeed_fixer;
grant update (text, author_name) on comments to showfeed_fixer;
grant insert, update (title, price_cents, quantity, updated_at) on items to showfeed_fixer;
grant update (title, status, started_at, ended_at) on shows to showfeed_fixer;
