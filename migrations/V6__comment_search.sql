-- Comment search (GET /api/shows/{id}/comments?q=): a literal, case-insensitive substring
-- match (ILIKE with % and _ escaped), which a trigram index answers without reading every
-- comment of a 100k-comment show. pg_trgm is a trusted extension (PostgreSQL 13+): the
-- database's owner may create it.

create extension if not exists pg_trgm;

create index comments_text_trgm_idx on comments using gin (text gin_trgm_ops);
create index comments_show_author_idx on comments (show_id, author_id, created_at desc, id desc);
