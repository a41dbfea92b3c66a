"""Model publishing on `pulumi up`: the model bucket, the publisher function and one invocation per model."""

from infra.models.publisher import ModelPublisher, ModelPublisherArgs

__all__ = ["ModelPublisher", "ModelPublisherArgs"]
