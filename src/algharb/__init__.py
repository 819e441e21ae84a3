"""algharb: quality-aware LLM translation workflow."""
__version__ = "0.1.0"
