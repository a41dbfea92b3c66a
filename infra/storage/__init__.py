"""The shared file system that holds the models and the messages: EFS, its mount targets and access point."""

from infra.storage.file_system import SharedFileSystem, SharedFileSystemArgs

__all__ = ["SharedFileSystem", "SharedFileSystemArgs"]
