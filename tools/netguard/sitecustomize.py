"""Refuse network connections to anything but loopback, in every Python process started under tools/offline.sh.

Loaded through PYTHONPATH where `unshare -n` is not available. Loopback stays open: DDP rendezvous and Jupyter
kernels use it. A refused connection raises OSError naming the address, as a real offline machine would fail."""
import ipaddress, os, socket

if os.environ.get("CODEX_NB_NETWORK") == "off":
    _connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex

    def _is_local(address) -> bool:
        if not isinstance(address, tuple): return True  # AF_UNIX paths and the like
        host = address[0]
        if host in ("localhost", ""): return True
        try: return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError: return False  # a host name: resolving it is already network use

    def _guard(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
            raise OSError(101, f"network is unreachable: {address!r} refused by codex-nb's offline guard (tools/offline.sh)")

    def connect(self, address):
        _guard(self, address)
        return _connect(self, address)

    def connect_ex(self, address):
        _guard(self, address)
        return _connect_ex(self, address)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
