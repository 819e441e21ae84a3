"""demo stage of algharb."""
