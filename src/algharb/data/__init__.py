"""data stage of algharb: ingestion, normalisation, rule filters, language ID, dedup and the QE cut.

The registered kinds (rule filters, language identifiers, corpus formats) are
registered when their modules load; they are imported here so that every
entry is known whenever the package is used.
"""

from algharb.data import dedup, filters, ingest, lid  # noqa: F401  (registration)
