-- Switches the doorbell mode; returns the mode it replaced. Writers whose statement starts
-- after this commits follow the new mode.
update showfeed_doorbell d
   set mode = $1, changed_at = now(), changed_by = current_user
  from (select mode from showfeed_doorbell for update) as old
returning old.mode
