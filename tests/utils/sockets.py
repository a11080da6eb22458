"""Which process holds which TCP socket, read from /proc (Linux): for tests that
check where a server listens and which process got a connection."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

LISTEN = "0A"
ESTABLISHED = "01"
_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets process `pid` has open (none once it has ended)."""
    inodes: set[str] = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except FileNotFoundError:  # it ended since it was listed
        return inodes
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:  # closed since the listing
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _tcp_rows() -> Iterator[list[str]]:
    """The fields of each TCP socket's line in /proc/net/tcp and tcp6: [1] local
    address, [3] state, [4] tx_queue:rx_queue, [9] inode."""
    for table in _TABLES:
        if os.path.exists(table):
            for line in Path(table).read_text().splitlines()[1:]:
                yield line.split()


def tcp_sockets(state: str, local_port: int | None = None) -> dict[str, str]:
    """The machine's TCP sockets in `state` (LISTEN, ESTABLISHED), on `local_port`
    if given: inode -> local address as the kernel writes it (hex)."""
    found = {}
    for fields in _tcp_rows():
        port = int(fields[1].rsplit(":", 1)[1], 16)
        if fields[3] == state and (local_port is None or port == local_port):
            found[fields[9]] = fields[1]
    return found


def held(pid: int, state: str, local_port: int | None = None) -> set[str]:
    """The inodes of process `pid`'s TCP sockets in `state` (on `local_port`)."""
    return socket_inodes(pid) & tcp_sockets(state, local_port).keys()


def waiting_to_be_accepted(inode: str) -> int:
    """How many connections wait in the accept queue of listening socket `inode`
    (for a listening socket, /proc/net/tcp's rx_queue); 0 if it is not listening."""
    for fields in _tcp_rows():
        if fields[9] == inode and fields[3] == LISTEN:
            return int(fields[4].split(":")[1], 16)
    return 0
