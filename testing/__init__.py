"""Test doubles and harnesses that the test suite (tests/) and the benchmarks (bench/) share: a fake Lambda
context, API Gateway payload-2.0 events, the local stack run as subprocesses, message-store writers and an
independent reader, the old format-1 store, the Pulumi program run under mocks, and the jobs' memory
measurements (a process's own peak; a maximum job's assembly and an upload's submit, each run as a module)."""
