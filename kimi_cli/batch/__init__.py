"""Bulk work: many chat requests from one input, sent as a Batch API job or run here.

The pieces, each with one job: ``inputs`` reads what the user gives (JSONL, files, lines),
``checks`` turns every item into a request body the model accepts (or refuses it, naming
the line), ``staging`` writes the batch input file(s), ``journal`` remembers jobs in
SQLite, ``remote`` is what is needed of the Files and Batch APIs, ``submit`` sends a job
resumably, ``results`` and ``output`` map answers back to inputs and write them, and
``engine`` with ``runner`` sends the requests here, concurrently.
"""
