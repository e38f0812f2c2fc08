-- A one-time sign-in code: $1 the code's raw bytes (only its SHA-256 is kept), $2 sub,
-- $3 role, $4 shows (null: all), $5 seconds it stays redeemable.
insert into signin_codes (code_hash, sub, role, shows, expires_at)
values (sha256($1::bytea), $2::text, $3::text, $4::uuid[], now() + $5::float8 * interval '1 second')
returning expires_at
