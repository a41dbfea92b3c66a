"""Async jobs: batches too big or too slow for a synchronous request, run by a worker function.

Plain Python over S3 and SQS (boto3 clients are passed in): ``layout`` (where a job's objects live),
``settings`` (from the environment), ``store`` (S3 access), ``catalog`` (model metadata for checks at
submit), ``bounds`` (what an upload may hold before it is parsed), ``service`` (the accepting side:
uploads, submit, status), ``runner`` (one shard of a job), ``worker`` (the SQS-triggered Lambda handler)
and ``dead_letters`` (the dead-letter queue's handler, which fails the jobs whose shards end there).
Format and guarantees: docs/JOBS.md."""
