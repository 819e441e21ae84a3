"""decode stage of algharb."""
