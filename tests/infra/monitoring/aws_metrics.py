"""The CloudWatch metrics AWS publishes, as its documentation lists them: for each namespace, each metric this
stack may graph or alarm on, with the dimension sets it is published under. Kept apart from the program's own
names (infra/monitoring/metrics.py), so that a typo there fails here. The functions' own metrics come from
inference/metrics.py, the one definition the handler writes by."""

from __future__ import annotations

# namespace → (documentation, {metric: the dimension sets it is published with})
AWS_METRICS: dict[str, tuple[str, dict[str, tuple[frozenset[str], ...]]]] = {
    # HTTP APIs name their errors 4xx and 5xx (REST APIs: 4XXError, 5XXError); per-route metrics need detailed
    # metrics, which the stack does not turn on.
    "AWS/ApiGateway": (
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html",
        {
            name: (frozenset({"ApiId"}), frozenset({"ApiId", "Stage"}))
            for name in ("4xx", "5xx", "Count", "IntegrationLatency", "Latency", "DataProcessed")
        },
    ),
    "AWS/Lambda": (
        "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html",
        {
            name: (frozenset({"FunctionName"}), frozenset({"FunctionName", "Resource"}))
            for name in ("Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions")
        },
    ),
    # All single-dimension (FileSystemId). PercentIOLimit exists in General Purpose mode (the stack's);
    # BurstCreditBalance matters in bursting throughput mode.
    "AWS/EFS": (
        "https://docs.aws.amazon.com/efs/latest/ug/efs-metrics.html",
        {
            name: (frozenset({"FileSystemId"}),)
            for name in (
                "BurstCreditBalance",
                "ClientConnections",
                "DataReadIOBytes",
                "DataWriteIOBytes",
                "MetadataIOBytes",
                "MeteredIOBytes",
                "PercentIOLimit",
                "PermittedThroughput",
                "TotalIOBytes",
            )
        },
    ),
    "AWS/SQS": (
        "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html",
        {
            name: (frozenset({"QueueName"}),)
            for name in (
                "ApproximateAgeOfOldestMessage",
                "ApproximateNumberOfMessagesDelayed",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesVisible",
                "NumberOfMessagesReceived",
                "NumberOfMessagesSent",
            )
        },
    ),
    # Per load balancer, or per target group of a load balancer (both dimensions); the health counts only per
    # target group.
    "AWS/ApplicationELB": (
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html",
        {
            "HTTPCode_ELB_5XX_Count": (frozenset({"LoadBalancer"}),),
            "HTTPCode_Target_5XX_Count": (frozenset({"LoadBalancer"}), frozenset({"LoadBalancer", "TargetGroup"})),
            "TargetResponseTime": (frozenset({"LoadBalancer"}), frozenset({"LoadBalancer", "TargetGroup"})),
            "RequestCount": (frozenset({"LoadBalancer"}), frozenset({"LoadBalancer", "TargetGroup"})),
            "HealthyHostCount": (frozenset({"LoadBalancer", "TargetGroup"}),),
            "UnHealthyHostCount": (frozenset({"LoadBalancer", "TargetGroup"}),),
        },
    ),
    # Service-level utilisation, published for every Fargate service.
    "AWS/ECS": (
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html",
        {
            name: (frozenset({"ClusterName"}), frozenset({"ClusterName", "ServiceName"}))
            for name in ("CPUUtilization", "MemoryUtilization")
        },
    ),
}

# The load balancer dimensions' values are ARN suffixes, not ARNs or names.
ARN_SUFFIX_PREFIXES = {"LoadBalancer": "app/", "TargetGroup": "targetgroup/"}


def published_with(namespace: str, metric: str, dimensions: frozenset[str]) -> bool:
    _, metrics = AWS_METRICS.get(namespace, ("", {}))
    return dimensions in metrics.get(metric, ())
