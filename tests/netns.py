"""A network namespace joined to the host by a veth pair, whose link the tests cut for real.

:func:`network_namespace` creates the namespace ``mayday-<pid>-<n>``, a veth pair, a private
``/30`` (host end ``.1``, namespace end ``.2``) that no address or route of this machine overlaps,
and removes all of it when the block ends, however it ends: a process the test left in it is
killed (only the test's own processes can be in a namespace of this name), then the namespace and
with it both veth ends are deleted. Root only, like ``ip netns`` itself.

:meth:`Namespace.cut` puts a ``blackhole`` qdisc on the egress of **both** veth ends: every packet
either side sends, in either direction, is dropped after it left its socket, and the sender is told
it went out (``NET_XMIT_SUCCESS``), as on a link that died further along. No socket is closed, no
error (``ENETUNREACH``, ``EHOSTUNREACH``, a reset) reaches either side: TCP retransmits into the
void, UDP and ICE checks get no answer. The neighbours are permanent entries, so no ARP is needed
across the cut and its failure cannot make the kernel answer with an ICMP error of its own.
:meth:`Namespace.restore` removes both qdiscs. (``netem loss 100%`` would do the same, but this
kernel has no ``netem``; ``ip link set down`` would not: local senders then get errors at once.)
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Namespace", "network_namespace"]

POOL = ipaddress.IPv4Network("10.213.0.0/16")
"""Where the namespaces' ``/30``s come from; any one in use on this machine is skipped."""
_count = itertools.count()


@dataclass(frozen=True)
class Namespace:
    name: str
    host_if: str
    ns_if: str
    host_ip: str
    """The host end's address: a server bound to it is reachable from the namespace."""
    ns_ip: str
    cut_now: list[bool]

    def exec_argv(self, *argv: str) -> list[str]:
        """``argv`` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    def cut(self) -> None:
        """From now on every packet between the namespace and the host is dropped, silently."""
        _ip("tc", "qdisc", "replace", "dev", self.host_if, "root", "blackhole")
        _ip(*self.exec_argv("tc", "qdisc", "replace", "dev", self.ns_if, "root", "blackhole"))
        self.cut_now[0] = True

    def restore(self) -> None:
        """Packets pass again (what was lost stays lost)."""
        _ip("tc", "qdisc", "del", "dev", self.host_if, "root")
        _ip(*self.exec_argv("tc", "qdisc", "del", "dev", self.ns_if, "root"))
        self.cut_now[0] = False

    @property
    def is_cut(self) -> bool:
        return self.cut_now[0]


def _ip(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return done.stdout


def _quiet(*argv: str) -> str:
    """Clean-up: what is gone already is fine."""
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout


def _networks_in_use() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network of an address or a route of the host (all tables)."""
    used: list[ipaddress.IPv4Network] = []
    for link in json.loads(_ip("ip", "-j", "-4", "addr", "show")):
        for info in link.get("addr_info", []):
            used.append(ipaddress.IPv4Network(f"{info['local']}/{info['prefixlen']}", strict=False))
    for route in json.loads(_ip("ip", "-j", "-4", "route", "show", "table", "all")):
        destination = route.get("dst", "")
        if destination and destination != "default":
            network = ipaddress.ip_network(destination, strict=False)
            if isinstance(network, ipaddress.IPv4Network):
                used.append(network)
    return used


def _free_subnet(start: int) -> ipaddress.IPv4Network:
    used = _networks_in_use()
    subnets = list(POOL.subnets(new_prefix=30))
    for offset in range(len(subnets)):
        subnet = subnets[(start + offset) % len(subnets)]
        if not any(subnet.overlaps(network) for network in used):
            return subnet
    raise RuntimeError(f"no free /30 left in {POOL}")


def _mac(argv: list[str]) -> str:
    return str(json.loads(_ip(*argv))[0]["address"])


@contextmanager
def network_namespace() -> Iterator[Namespace]:
    """A fresh namespace with a veth pair to the host, removed when the block ends."""
    pid, number = os.getpid(), next(_count)
    name = f"mayday-{pid}-{number}"
    host_if, ns_if = f"mdh{pid}n{number}"[:15], f"mdd{pid}n{number}"[:15]
    subnet = _free_subnet(pid * 7 + number)
    host_ip, ns_ip = (str(address) for address in subnet.hosts())
    _ip("ip", "netns", "add", name)
    try:
        _ip("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        _ip("ip", "link", "set", ns_if, "netns", name)
        _ip("ip", "addr", "add", f"{host_ip}/30", "dev", host_if)
        _ip("ip", "link", "set", host_if, "up")
        namespace = Namespace(name, host_if, ns_if, host_ip, ns_ip, [False])
        inside = namespace.exec_argv
        _ip(*inside("ip", "addr", "add", f"{ns_ip}/30", "dev", ns_if))
        _ip(*inside("ip", "link", "set", ns_if, "up"))
        _ip(*inside("ip", "link", "set", "lo", "up"))
        # Permanent neighbours: no ARP across the cut (see the module's docstring).
        host_mac = _mac(["ip", "-j", "link", "show", "dev", host_if])
        ns_mac = _mac(inside("ip", "-j", "link", "show", "dev", ns_if))
        _ip("ip", "neigh", "replace", ns_ip, "lladdr", ns_mac, "nud", "permanent", "dev", host_if)
        _ip(
            *inside(
                "ip",
                "neigh",
                "replace",
                host_ip,
                "lladdr",
                host_mac,
                "nud",
                "permanent",
                "dev",
                ns_if,
            )
        )
        yield namespace
    finally:
        # Deleting the namespace does not end its processes; it deletes its veth end and with it
        # the host's.
        for pid_text in _quiet("ip", "netns", "pids", name).split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_text), signal.SIGKILL)
        _quiet("ip", "netns", "del", name)
        _quiet("ip", "link", "del", host_if)  # gone already, unless the move into it failed
