-- Console sign-in without tokens: one-time sign-in codes (what a printed link carries) and
-- the server-side sessions they are exchanged for (what the console's cookie names).
--
-- Neither table holds a secret: a code and a session id are random 256-bit values that
-- only their holder knows; the rows keep their SHA-256 (`sha256()` of the raw bytes), so a
-- copy of the database signs nobody in. Both live in Postgres so that every node honours
-- them and a restart keeps them.

create table signin_codes (
    code_hash bytea primary key check (length(code_hash) = 32),
    -- The grant the code will become: who, with which role, limited to which shows.
    sub text not null check (length(sub) between 1 and 200),
    role text not null check (role in ('viewer', 'operator', 'ingest', 'admin')),
    shows uuid[],
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);

comment on table signin_codes is 'One-time sign-in codes (SHA-256 of the code); a redemption deletes the row, so a code works once.';

create table sessions (
    id_hash bytea primary key check (length(id_hash) = 32),
    sub text not null check (length(sub) between 1 and 200),
    role text not null check (role in ('viewer', 'operator', 'ingest', 'admin')),
    shows uuid[],
    created_at timestamptz not null default now(),
    -- Touched at most about once a minute by requests (idle timeout = last_seen + SESSION_IDLE_SECS).
    last_seen timestamptz not null default now(),
    -- The absolute end, fixed at sign-in (SESSION_MAX_SECS).
    expires_at timestamptz not null
);

comment on table sessions is 'Console sessions (SHA-256 of the cookie''s session id); sign-out deletes the row.';

-- Expired rows are deleted by whoever notices them; these make the sweep an index scan.
create index sessions_expires_at on sessions (expires_at);
create index signin_codes_expires_at on signin_codes (expires_at);
