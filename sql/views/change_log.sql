-- The change log in human terms: what happened in a show, in order, and who did it.
create or replace view change_log as
select c.show_id,
       s.title as show_title,
       c.seq,
       c.committed_at,
       c.actor,
       c.entity,
       c.op,
       case c.entity
           when 'comment' then
               c.data ->> 'author_name' || ' ' ||
               case c.op when 'insert' then 'commented' when 'update' then 'edited a comment'
                         else 'comment deleted' end ||
               ': ' || left(c.data ->> 'text', 80)
           when 'claim' then
               c.data ->> 'buyer_name' || ' ' ||
               case c.op when 'delete' then 'claim deleted'
                         else 'is ' || (c.data ->> 'status') end ||
               ' on item ' || (c.data ->> 'item_number') ||
               coalesce(' (waitlist #' || (c.data ->> 'waitlist_position') || ')', '')
           when 'item' then
               'item ' || (c.data ->> 'item_number') || ' ' ||
               case c.op when 'insert' then 'added' when 'update' then 'changed' else 'removed' end ||
               ': ' || (c.data ->> 'title') || ', quantity ' || (c.data ->> 'quantity')
           else
               'show is ' || (c.data ->> 'status') || ': ' || (c.data ->> 'title')
       end as description
  from show_changes c
  join shows s on s.id = c.show_id;

comment on view change_log is 'show_changes in words: one line per change with who made it (the API token subject or the database role).';
comment on column change_log.description is 'What happened, e.g. "Ann is waitlisted on item 7 (waitlist #2)".';
