"""The model tooling: `efs-models` (init, check, publish, list, rollback), from an ONNX file to a served, checked
version on the local stack or a deployed one. It runs on the user's machine, not in the Lambda image: it imports
the image's own ``inference.models`` code for the checks, so what it accepts is what the server serves."""
