"""Small models for the sweep's tests: fast ones that log each build, and ones that fail in every way a
worker can (an exception, a segfault, a hang, an allocation past the worker's memory limit)."""
import os
import signal
import time

from torch import nn

input_size = (3, 16, 16)


def _logged(name, width):
    log = os.environ.get("CNNPROFILE_TEST_BUILD_LOG")
    if log:
        with open(log, "a") as f:
            f.write(name + "\n")
    # 3x3 conv, 3 -> width channels, on 16x16: 14*14*width*27 MACs, (27 + 1) * width parameters.
    return nn.Sequential(nn.Conv2d(3, width, 3), nn.ReLU())


def small4():
    return _logged("small4", 4)


def small8():
    return _logged("small8", 8)


def small16():
    return _logged("small16", 16)


def gated():
    """Hangs until the file named by CNNPROFILE_TEST_RELEASE exists."""
    while not os.path.exists(os.environ.get("CNNPROFILE_TEST_RELEASE", "/nonexistent")):
        time.sleep(0.05)
    return _logged("gated", 2)


def raises():
    raise ValueError("no such layer")


def segfault():
    os.kill(os.getpid(), signal.SIGSEGV)


def hangs():
    time.sleep(120)


def hog():
    return bytearray(64 * 2 ** 30)  # past any worker's address-space limit
