# Copyright (c) mmieee contributors.
"""The errors a user can cause, in one place.

Each is raised where bad input enters (a config value, a command-line
option, a file) with a message that names the key, value, file or iteration
at fault. The command-line tools end the process on any of them with
``Error: <message>`` and exit status 2 instead of a traceback
(:func:`~.tool_setup.exit_on_user_error`); everything else is a bug or comes
from a library and keeps its traceback.
"""
import pickle
from typing import Sequence


class ConfigError(ValueError):
    """A config or command-line option that the tools refuse (the message
    names the key and the value)."""


class DatasetNotFoundError(FileNotFoundError):
    """A config's dataset folder (``data_root``) does not exist."""


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A file needs an object outside what mmieee's readers allow."""


class NotACheckpointError(ValueError):
    """The file is not a PyTorch checkpoint."""


class CheckpointDownloadError(OSError):
    """A remote checkpoint could not be downloaded."""


class CheckpointMismatchError(ConfigError):
    """A checkpoint does not fit the model it is loaded into."""


class UnknownKeyError(CheckpointMismatchError):
    """Keys of an official checkpoint outside the layout its converter
    knows (the message names the file and the keys).

    Args:
        message (str): The message.
        keys (Sequence[str]): The keys, also kept as ``keys``.
    """

    def __init__(self, message: str, keys: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.keys = list(keys)


class OutputWriteError(OSError):
    """An output file or folder cannot be written (the message names it and
    the reason: permission, read-only file system, disk full, ...)."""


class WorkDirBusyError(ConfigError):
    """Another training process uses the work dir (the message names it)."""


#: What :func:`~.tool_setup.exit_on_user_error` turns into ``Error: ...``.
USER_ERRORS = (ConfigError, DatasetNotFoundError, UnsafeCheckpointError,
               NotACheckpointError, CheckpointDownloadError, OutputWriteError)
