"""data stage of algharb."""
