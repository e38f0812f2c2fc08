select set_config('showfeed.prune', 'on', true)
