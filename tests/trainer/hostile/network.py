"""Hostile: reach the worker's Redis, PostgreSQL and RabbitMQ, the internet, and DNS."""

import socket

report = {"interfaces": sorted(name for _index, name in socket.if_nameindex())}

for name, address in {
    "redis": ("127.0.0.1", 6379),
    "postgres": ("127.0.0.1", 5432),
    "rabbitmq": ("127.0.0.1", 5672),
    "internet": ("1.1.1.1", 80),
}.items():
    try:
        with socket.create_connection(address, timeout=3) as connection:
            connection.sendall(f"SET {MARKER} reached\r\n".encode())  # noqa: F821 - MARKER: prelude
            report[name] = f"CONNECTED {connection.recv(100)!r}"
    except OSError as error:
        report[name] = f"{type(error).__name__}: {error}"

for path in ("/var/run/postgresql/.s.PGSQL.5432", "/run/redis/redis-server.sock", "/var/run/redis/redis.sock"):
    try:
        with socket.socket(socket.AF_UNIX) as connection:
            connection.connect(path)
            report[path] = "CONNECTED"
    except OSError as error:
        report[path] = type(error).__name__

try:
    report["dns"] = f"RESOLVED {socket.getaddrinfo('example.com', 80)[0][4]}"
except OSError as error:
    report["dns"] = type(error).__name__

hostile_report(report)  # noqa: F821
