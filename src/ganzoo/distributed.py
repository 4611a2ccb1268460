"""A clean exit for processes of a gloo process group.

Gloo runs collectives on worker threads, and a worker frees each finished collective's tensors after the caller
has its result. Freeing a tensor that Python owns takes the GIL, and a thread that asks for the GIL while the
interpreter finalizes aborts the whole process ("terminate called without an active exception", SIGABRT; see
pytorch/pytorch#179291). A rank that returns right after its last collective (as every rank of a ddp_spawn run does)
can therefore crash after its work is done. Destroying the process group does not prevent it: DDP keeps the group
alive until finalization. What does is to release the GIL for a moment at exit, before finalization starts.
"""

import atexit
import time

import torch.distributed as dist

_GRACE_SECONDS = 0.1
_registered = False


def finish_gloo_work_at_exit() -> None:
    """In a process of a gloo group, sleep briefly at exit (an atexit handler runs before the interpreter finalizes;
    sleeping releases the GIL), so that gloo's workers free their last collectives while Python still can. Once per
    process; nothing outside a gloo group."""
    global _registered
    if _registered or not dist.is_available() or not dist.is_initialized() or dist.get_backend() != "gloo":
        return
    atexit.register(time.sleep, _GRACE_SECONDS)
    _registered = True
