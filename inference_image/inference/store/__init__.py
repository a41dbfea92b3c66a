"""The message store: timestamped messages kept on EFS (format in docs/STORAGE.md). Plain Python,
testable on any local folder."""
