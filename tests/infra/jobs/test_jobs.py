"""Async jobs in the Pulumi program, under mocks: what a stack with jobs creates (queues, event source
mapping, both functions' roles and placement, the bucket's lifecycle, routes and integrations), and
that a stack without them creates none of it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inference.jobs.settings import DEAD_LETTER_TIMEOUT_SECONDS, VISIBILITY_TIMEOUT_FACTOR
from inference.routes import JOBS_FUNCTION, ROUTE_KEYS, ROUTES
from infra.config.checks import ConfigError, validate_jobs
from infra.config.schema import JobsConfig
from testing.pulumi_mocks import S3_PREFIX_LIST, Registered, StackRun, run_program
from tests.infra.conftest import StackConfigFactory
from tests.infra.registered import resource_id

FUNCTION = "aws:lambda/function:Function"
QUEUE = "aws:sqs/queue:Queue"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
INTEGRATION = "aws:apigatewayv2/integration:Integration"
ROUTE = "aws:apigatewayv2/route:Route"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
CORS_CONFIGURATION = "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"
JOB_TYPES = (
    QUEUE,
    MAPPING,
    LIFECYCLE,
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
    "efs-inference:job_bucket:JobBucket",
    "efs-inference:job_queue:JobQueue",
    "efs-inference:job_api_function:JobApiFunction",
    "efs-inference:job_worker:JobWorker",
    "efs-inference:job_dead_letters:JobDeadLetters",
)
JOB_ROUTE_KEYS = {route.route_key for route in ROUTES if route.function == JOBS_FUNCTION}
WORKER_TIMEOUT = 600
CONCURRENCY = 3
UNRESERVED = -1  # Lambda's value for a function without reserved concurrency
CORS_ORIGINS = ("https://app.example.com", "http://localhost:3000")
ATTEMPTS = 4
RETENTION_DAYS = 5


@pytest.fixture(scope="session")
def jobs_run(stack_config: StackConfigFactory) -> StackRun:
    config = stack_config(
        "dev",
        jobsEnabled="true",
        jobsWorkerTimeoutSeconds=str(WORKER_TIMEOUT),
        jobsWorkerConcurrency=str(CONCURRENCY),
        jobsMaxAttempts=str(ATTEMPTS),
        jobsRetentionDays=str(RETENTION_DAYS),
    )
    return run_program(config, "dev")


def rid(item: Registered) -> str:
    return f"{item.name}-id"


def statements(run: StackRun, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(run.one(ROLE_POLICY, name).inputs["policy"])["Statement"]
    return found


def actions(found: list[dict[str, Any]]) -> set[str]:
    return {action for statement in found for action in statement["Action"]} if found else set()


def test_a_stack_without_jobs_creates_none_of_it_and_its_job_routes_reach_the_api_function(
    any_run: StackRun,
) -> None:
    """dev and prod (jobs off): no queue, mapping, job bucket rule or job function; /jobs goes to the API function."""
    for type_token in JOB_TYPES:
        job_things = [item for item in any_run.of_type(type_token) if "ModelPublisher$" not in item.urn]
        assert job_things == [], f"{any_run.stack} creates a {type_token}"
    assert {item.name for item in any_run.of_type(FUNCTION)} == {"api", "model-publisher"}
    (integration,) = any_run.of_type(INTEGRATION)
    routes = {route.inputs["routeKey"]: route for route in any_run.of_type(ROUTE)}
    assert set(routes) >= JOB_ROUTE_KEYS
    for key in JOB_ROUTE_KEYS:
        assert routes[key].inputs["target"] == f"integrations/{rid(integration)}"
    assert not any(key.startswith("job") for key in any_run.outputs)


def test_the_queue_hides_a_message_for_six_worker_timeouts_and_dead_letters_after_the_attempts(
    jobs_run: StackRun,
) -> None:
    """Visibility timeout 6 times the worker's; the redrive policy names the DLQ and the attempts; both encrypted."""
    queue, dead = jobs_run.one(QUEUE, "jobs"), jobs_run.one(QUEUE, "jobs-dlq")
    assert queue.inputs["visibilityTimeoutSeconds"] == VISIBILITY_TIMEOUT_FACTOR * WORKER_TIMEOUT
    redrive = json.loads(queue.inputs["redrivePolicy"])
    assert redrive == {
        "deadLetterTargetArn": "arn:aws:sqs:eu-central-1:123456789012:jobs-dlq",
        "maxReceiveCount": ATTEMPTS,
    }
    assert queue.inputs["messageRetentionSeconds"] == RETENTION_DAYS * 24 * 3600
    assert dead.inputs["messageRetentionSeconds"] == 14 * 24 * 3600
    # the dead-letter queue is consumed too: it hides a message for six times its consumer's timeout
    assert dead.inputs["visibilityTimeoutSeconds"] == VISIBILITY_TIMEOUT_FACTOR * DEAD_LETTER_TIMEOUT_SECONDS
    assert queue.inputs["sqsManagedSseEnabled"] and dead.inputs["sqsManagedSseEnabled"]
    allow = json.loads(jobs_run.one("aws:sqs/redriveAllowPolicy:RedriveAllowPolicy").inputs["redriveAllowPolicy"])
    assert allow == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [redrive["deadLetterTargetArn"][: -len("-dlq")]],
    }


def test_the_event_source_mapping_feeds_the_worker_one_shard_at_a_time_within_its_concurrency(
    jobs_run: StackRun,
) -> None:
    """The queue triggers the worker: batch of one, partial failures reported, at most jobsWorkerConcurrency at once
    (the mapping's cap, reserving none of the account's concurrency)."""
    mapping = jobs_run.one(MAPPING, "jobs")
    worker = jobs_run.one(FUNCTION, "jobs-worker")
    assert mapping.inputs["eventSourceArn"].endswith(":jobs")
    assert (
        mapping.inputs["functionName"] == f"arn:aws:lambda:eu-central-1:123456789012:function:{worker.inputs['name']}"
    )
    assert mapping.inputs["batchSize"] == 1
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["scalingConfig"] == {"maximumConcurrency": CONCURRENCY}


def test_no_default_stack_reserves_concurrency_and_the_worker_is_capped_by_its_mapping(
    stack_config: StackConfigFactory,
) -> None:
    """dev and prod with jobs on: no job function reserves any (Lambda refuses on small accounts); the mapping caps
    the worker at the default jobsWorkerConcurrency, which is at least the mapping's minimum of 2."""
    for stack in ("dev", "prod"):
        run = run_program(stack_config(stack, jobsEnabled="true"), stack)
        for name in ("jobs", "jobs-worker", "jobs-dead-letters"):
            function = run.one(FUNCTION, name)
            assert function.inputs.get("reservedConcurrentExecutions", UNRESERVED) == UNRESERVED, function.urn
        default = JobsConfig().worker_concurrency
        assert default >= 2
        assert run.one(MAPPING, "jobs").inputs["scalingConfig"] == {"maximumConcurrency": default}


def test_a_worker_concurrency_below_the_mappings_minimum_is_refused_before_any_resource() -> None:
    """The mapping takes 2 to 1,000: 1 is a config error naming the key."""
    with pytest.raises(ConfigError, match="jobsWorkerConcurrency"):
        validate_jobs(JobsConfig(enabled=True, worker_concurrency=1))
    validate_jobs(JobsConfig(enabled=True, worker_concurrency=2))


def test_the_jobs_function_runs_outside_the_vpc_and_the_worker_inside_it_with_efs(jobs_run: StackRun) -> None:
    """No VPC and no EFS for the accepting function; the worker in the private subnets, EFS mounted through the
    reader's access point (it reads models, and writes only to S3), its limits."""
    jobs, worker, api = (jobs_run.one(FUNCTION, name) for name in ("jobs", "jobs-worker", "api"))
    assert "vpcConfig" not in jobs.inputs and "fileSystemConfig" not in jobs.inputs
    assert jobs.inputs.get("imageConfig") is None  # the API handler, serving only the /jobs routes
    assert worker.inputs["vpcConfig"]["subnetIds"] == api.inputs["vpcConfig"]["subnetIds"]
    assert worker.inputs["vpcConfig"]["securityGroupIds"] == ["data-client-id", "jobs-worker-id"]
    reader = resource_id(jobs_run.one("aws:efs/accessPoint:AccessPoint", "data-reader"))
    assert worker.inputs["fileSystemConfig"] == {
        "arn": f"arn:aws:elasticfilesystem:eu-central-1:123456789012:access-point/{reader}",
        "localMountPath": api.inputs["fileSystemConfig"]["localMountPath"],
    }
    assert worker.inputs["imageConfig"] == {"commands": ["inference.jobs.worker.handler"]}
    assert worker.inputs["timeout"] == WORKER_TIMEOUT
    assert worker.inputs["reservedConcurrentExecutions"] == -1  # unreserved: the mapping caps it
    assert worker.inputs["imageUri"] == api.inputs["imageUri"] == jobs.inputs["imageUri"]
    for function in (jobs, worker):
        variables = function.inputs["environment"]["variables"]
        assert variables["JOBS_BUCKET"] == "jobs-bucket"
        assert variables["JOBS_MAX_ATTEMPTS"] == str(ATTEMPTS)
        assert variables["JOBS_WORKER_TIMEOUT_SECONDS"] == str(WORKER_TIMEOUT)
    assert jobs.inputs["environment"]["variables"]["JOBS_QUEUE_URL"].endswith("/jobs")
    assert "JOBS_QUEUE_URL" not in worker.inputs["environment"]["variables"]  # it never talks to SQS


def test_the_worker_leaves_the_vpc_only_for_s3_over_https(jobs_run: StackRun) -> None:
    """Its own group's one rule: HTTPS to the S3 prefix list, which the VPC's gateway endpoint serves."""
    (rule,) = [
        rule
        for rule in jobs_run.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        if rule.inputs["securityGroupId"] == "jobs-worker-id"
    ]
    assert (rule.inputs["prefixListId"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (S3_PREFIX_LIST, 443, 443)
    assert "cidrIpv4" not in rule.inputs


def test_the_jobs_function_may_only_put_and_read_job_objects_read_model_metadata_and_send_to_the_queue(
    jobs_run: StackRun,
) -> None:
    """Exactly those actions, each on its own resources: no EFS, no VPC, no receiving, no other bucket paths."""
    found = statements(jobs_run, "jobs")
    by_sid = {statement["Sid"]: statement for statement in found}
    assert actions(found) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:PutObject",
        "s3:GetObject",
        "s3:ListBucket",
        "sqs:SendMessage",
    }
    assert by_sid["PutAndReadJobObjects"]["Resource"] == [
        "arn:aws:s3:::jobs-bucket/jobs/*",
        "arn:aws:s3:::jobs-bucket/uploads/*",
    ]
    assert by_sid["ReadModelMetadata"]["Resource"] == [
        "arn:aws:s3:::model-bucket/models/*/metadata.json",
        "arn:aws:s3:::model-bucket/models/*/LATEST",  # the version a new job runs, which the publisher writes
    ]
    # Listing both buckets whole, without a prefix condition: only then does S3 answer a missing key with 404
    for sid, bucket in (("ListJobBucket", "jobs-bucket"), ("ListModelBucket", "model-bucket")):
        assert by_sid[sid]["Resource"] == f"arn:aws:s3:::{bucket}" and "Condition" not in by_sid[sid]
    assert by_sid["SendToJobQueue"]["Resource"].endswith(":jobs")


def test_the_worker_may_only_use_job_objects_consume_the_queue_and_mount_efs(jobs_run: StackRun) -> None:
    """S3 on jobs/* only (no uploads, no model bucket), the queue's consumer actions only (never send), EFS mounted
    read-only (no ClientWrite: EFS then refuses every write), ENIs."""
    found = statements(jobs_run, "jobs-worker")
    by_sid = {statement["Sid"]: statement for statement in found}
    assert by_sid["ReadAndWriteJobObjects"]["Resource"] == "arn:aws:s3:::jobs-bucket/jobs/*"
    # a large result goes up in parts (PutObject); the parts of one that lost the race are aborted
    assert set(by_sid["ReadAndWriteJobObjects"]["Action"]) == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
    }
    assert set(by_sid["ConsumeJobQueue"]["Action"]) == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
    }
    assert by_sid["ConsumeJobQueue"]["Resource"].endswith(":jobs")
    assert "sqs:SendMessage" not in actions(found)
    assert "elasticfilesystem:ClientMount" in actions(found)
    assert "elasticfilesystem:ClientWrite" not in actions(found)
    s3_resources = [
        resource
        for statement in found
        if any(action.startswith("s3:") for action in statement["Action"])
        for resource in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
    ]
    assert set(s3_resources) == {"arn:aws:s3:::jobs-bucket/jobs/*", "arn:aws:s3:::jobs-bucket"}


def test_the_job_bucket_expires_every_object_after_the_retention_and_is_private(jobs_run: StackRun) -> None:
    """One lifecycle rule on the whole bucket, with jobsRetentionDays; public access blocked, TLS only."""
    lifecycle = jobs_run.one(LIFECYCLE, "jobs")
    (rule,) = lifecycle.inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["expiration"]["days"] == RETENTION_DAYS
    assert rule["filter"] == {"prefix": ""}
    block = jobs_run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "jobs")
    assert all(
        block.inputs[key]
        for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    policy = json.loads(jobs_run.one("aws:s3/bucketPolicy:BucketPolicy", "jobs").inputs["policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_each_function_gets_an_integration_and_the_route_table_says_which_serves_each_route(
    jobs_run: StackRun,
) -> None:
    """Two integrations; /jobs routes target the jobs function's, every other route (and $default) the API's."""
    integrations = {item.name: item for item in jobs_run.of_type(INTEGRATION)}
    assert set(integrations) == {"http", "http-jobs"}
    assert integrations["http-jobs"].inputs["integrationUri"].endswith(":function:efs-inference-dev-jobs")
    routes = {route.inputs["routeKey"]: route.inputs["target"] for route in jobs_run.of_type(ROUTE)}
    assert sorted(routes) == sorted(ROUTE_KEYS)
    for key, target in routes.items():
        wanted = "http-jobs" if key in JOB_ROUTE_KEYS else "http"
        assert target == f"integrations/{rid(integrations[wanted])}", key
    permission = jobs_run.one("aws:lambda/permission:Permission", "http-jobs")
    assert permission.inputs["function"] == "efs-inference-dev-jobs"
    assert permission.inputs["sourceArn"].endswith("/*/*")
    assert {"job_bucket", "job_queue_url", "job_dead_letter_queue_url"} <= set(jobs_run.outputs)


def test_the_vpc_endpoint_lets_the_worker_read_and_write_its_bucket_only(jobs_run: StackRun) -> None:
    """The S3 gateway endpoint's policy adds read and write of the job bucket (the worker's only way to S3), and
    still only reads of the model bucket."""
    policy = json.loads(jobs_run.one("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy", "network-s3").inputs["policy"])
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}
    arn = "arn:aws:s3:::jobs-bucket"  # the mocks' ARN of the bucket named "jobs"
    writable = by_sid["ReadAndWriteTheseBuckets"]
    assert set(writable["Action"]) == {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}
    assert writable["Resource"] == [arn, f"{arn}/*"], writable
    assert "s3:PutObject" not in by_sid["ListAndReadTheseBuckets"]["Action"]


def test_the_dead_letter_queue_feeds_a_consumer_outside_the_vpc_that_fails_the_job(jobs_run: StackRun) -> None:
    """Its own function from the same image (the dead-letter handler, the consumer's timeout, its own name and log
    group), outside the VPC, fed by a mapping on the DLQ that reports partial failures."""
    consumer, api = jobs_run.one(FUNCTION, "jobs-dead-letters"), jobs_run.one(FUNCTION, "api")
    assert consumer.inputs["name"] == "efs-inference-dev-dead-letters"
    assert consumer.inputs["imageUri"] == api.inputs["imageUri"]
    assert consumer.inputs["imageConfig"] == {"commands": ["inference.jobs.dead_letters.handler"]}
    assert consumer.inputs["timeout"] == DEAD_LETTER_TIMEOUT_SECONDS
    assert "vpcConfig" not in consumer.inputs and "fileSystemConfig" not in consumer.inputs
    variables = consumer.inputs["environment"]["variables"]
    assert (variables["JOBS_BUCKET"], variables["JOBS_MAX_ATTEMPTS"]) == ("jobs-bucket", str(ATTEMPTS))
    log_group = jobs_run.one("aws:cloudwatch/logGroup:LogGroup", "jobs-dead-letters")
    assert log_group.inputs["name"] == "/aws/lambda/efs-inference-dev-dead-letters"
    assert jobs_run.outputs["job_dead_letters_log_group"] == log_group.inputs["name"]
    mapping = jobs_run.one(MAPPING, "jobs-dead-letters")
    assert mapping.inputs["eventSourceArn"].endswith(":jobs-dlq")
    assert mapping.inputs["functionName"].endswith(":function:efs-inference-dev-dead-letters")
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_dead_letter_consumer_may_only_use_job_objects_and_consume_the_dead_letter_queue(
    jobs_run: StackRun,
) -> None:
    """S3 on jobs/* (read the attempts, write the copy and the failure), consuming the DLQ only: never the job queue,
    never sending, no uploads, no model bucket."""
    found = statements(jobs_run, "jobs-dead-letters")
    by_sid = {statement["Sid"]: statement for statement in found}
    assert by_sid["ReadAndWriteJobObjects"]["Resource"] == "arn:aws:s3:::jobs-bucket/jobs/*"
    assert set(by_sid["ReadAndWriteJobObjects"]["Action"]) == {"s3:GetObject", "s3:PutObject"}
    assert by_sid["ListJobBucket"] == {
        "Sid": "ListJobBucket",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": "arn:aws:s3:::jobs-bucket",
    }
    assert by_sid["ConsumeDeadLetterQueue"]["Resource"].endswith(":jobs-dlq")
    assert actions(found) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
    }


def test_the_job_bucket_lets_the_apis_cors_origins_use_its_presigned_urls(
    jobs_run: StackRun, stack_config: StackConfigFactory
) -> None:
    """With corsAllowOrigins, one rule for the same origins: POST (the upload form) and GET (a result); without
    them, no CORS configuration at all."""
    with_cors = run_program(stack_config("dev", jobsEnabled="true", corsAllowOrigins=json.dumps(CORS_ORIGINS)), "dev")
    (rule,) = with_cors.one(CORS_CONFIGURATION, "jobs").inputs["corsRules"]
    assert rule["allowedOrigins"] == list(CORS_ORIGINS)
    assert sorted(rule["allowedMethods"]) == ["GET", "POST"]
    assert jobs_run.of_type(CORS_CONFIGURATION) == []
