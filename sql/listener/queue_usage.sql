-- The listener's ping: the cluster's NOTIFY queue usage, and whether this database is in
-- relay mode.
select pg_notification_queue_usage(),
       coalesce((select mode = 'relay' from showfeed_doorbell), false)
