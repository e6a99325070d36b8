"""The city as the model sees it: walk network, routes, subway exits, sites, names of places."""
