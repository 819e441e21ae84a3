"""report stage of algharb."""
