select set_config('showfeed.actor', $1, true)
