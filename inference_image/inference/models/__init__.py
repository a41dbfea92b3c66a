"""Model serving: metadata, input checks, the ONNX Runtime session, the registry that chooses which
version to serve, and atomic publishing onto EFS (formats in docs/MODELS.md). Plain Python, testable
on any local folder. Nothing is imported here, so listing models never loads numpy or onnxruntime."""
