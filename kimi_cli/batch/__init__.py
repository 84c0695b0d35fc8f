"""Bulk work: many chat requests from one input, sent as a Batch API job or run here.

The pieces, each with one job: ``inputs`` reads what the user gives (JSONL, files, lines),
``checks`` turns every item into a request body the model accepts (or refuses it, naming
the line), ``jsonl`` writes the batch input file, ``journal`` remembers jobs in SQLite,
``results`` maps answers back to inputs, ``engine`` runs requests concurrently here, and
``submit``/``waiting`` drive the Batch API.
"""
