"""The custom metrics the API function writes as CloudWatch embedded metric format (EMF) lines: their names,
units and dimensions, defined once for the handler that writes them and the dashboard that reads them. Pure
data (standard library only), so that the Pulumi program can import it.

The namespace is the stack's ``POWERTOOLS_METRICS_NAMESPACE``, and the ``service`` dimension its
``POWERTOOLS_SERVICE_NAME`` (both set by the stack)."""

from __future__ import annotations

from dataclasses import dataclass

SERVICE = "service"
MODEL = "model"
VERSION = "version"


@dataclass(frozen=True)
class CustomMetric:
    name: str
    unit: str  # an EMF unit: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html
    dimensions: tuple[str, ...]


# Once per execution environment, at its first invocation: how often Lambda starts a new one.
COLD_START = CustomMetric("ColdStart", "Count", (SERVICE,))
# Per model and version: what a model costs to load from EFS, and each batch's run in ONNX Runtime.
MODEL_LOAD_TIME = CustomMetric("ModelLoadTime", "Milliseconds", (SERVICE, MODEL, VERSION))
INFERENCE_TIME = CustomMetric("InferenceTime", "Milliseconds", (SERVICE, MODEL, VERSION))

# Per model and the version its LATEST names: a choice of version made while LATEST cannot be served (a file damaged
# after publishing), whatever serves meanwhile; one or more a minute while it lasts, in each busy worker.
LATEST_UNAVAILABLE = CustomMetric("LatestVersionUnavailable", "Count", (SERVICE, MODEL, VERSION))

CUSTOM_METRICS: tuple[CustomMetric, ...] = (COLD_START, MODEL_LOAD_TIME, INFERENCE_TIME, LATEST_UNAVAILABLE)
