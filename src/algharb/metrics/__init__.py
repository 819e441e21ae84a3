"""metrics stage of algharb."""
