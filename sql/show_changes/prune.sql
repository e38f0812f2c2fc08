delete from show_changes where committed_at < now() - make_interval(days => $1)
