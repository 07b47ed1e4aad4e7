# Copyright (c) mmieee contributors.
"""torchrun for the tools, without its failure dump after a user error.

    python tools/misc/dist_run.py [torchrun options] SCRIPT [SCRIPT args]

(what ``tools/dist_launch.sh`` runs). It is ``python -m
torch.distributed.run`` with one change: when a tool stops on a user error
(exit status 2, its ``Error: ...`` message printed once, by rank 0), the
launcher exits with status 2 and adds nothing; torchrun itself would follow
the message with its own traceback and a table of the failed processes
(about 60 lines). Any other failure still gets torchrun's table (without
the launcher's traceback) and status 1.
"""
import logging
import sys

from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.run import parse_args, run

#: The exit status of a tool that stopped on a user error
#: (``mmieee.utils.exit_on_user_error``).
USER_ERROR_STATUS = 2


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # the agent's "failed (exitcode: ...)" / "Sending process ... SIGTERM"
    # lines: the failure is reported below
    logging.getLogger('torch.distributed.elastic').setLevel(logging.CRITICAL)
    try:
        run(args)
    except ChildFailedError as err:
        _, failure = err.get_first_failure()
        if failure.exitcode == USER_ERROR_STATUS:
            return USER_ERROR_STATUS
        print(err.format_msg(), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
