"""File-level steps: read a step's input files, call the package, write its outputs.

These functions are what both the Snakemake scripts and the ``algharb`` command
line call, so a step run by hand is the step the workflow runs.
"""
