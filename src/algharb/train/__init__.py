"""train stage of algharb."""
