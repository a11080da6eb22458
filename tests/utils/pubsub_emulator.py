"""The Pub/Sub emulator from the Google Cloud CLI, for the pull-queue tests.

Started with `java -jar` directly (the wrapper script would leave the JVM behind
on a kill), on 127.0.0.1 and a free port, in memory; stopped by process id.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import grpc  # type: ignore[import-untyped]
from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

from tests.gcloud_sdk import sdk_root
from tests.utils.processes import ManagedServer, free_port, missing_tool

PROJECT_ID = "photo-timeline-test"


def _emulator_jar() -> Path:
    root = sdk_root()
    folder = root / "platform/pubsub-emulator/lib" if root else None
    jars = sorted(folder.glob("cloud-pubsub-emulator-*.jar")) if folder and folder.is_dir() else []
    if not jars:
        missing_tool("the Pub/Sub emulator (google-cloud-cli-pubsub-emulator) is not installed")
    if shutil.which("java") is None:
        missing_tool("Java is not installed; the Pub/Sub emulator needs it")
    return jars[-1]


class PubSubEmulator:
    def __init__(self, workdir: Path) -> None:
        jar = _emulator_jar()
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.server = ManagedServer(
            ["java", "-jar", str(jar), "--host=127.0.0.1", f"--port={self.port}"],
            health_url=f"http://{self.host}/",
            log_path=workdir / f"pubsub-{self.port}.log",
        )
        self.server.start()

    def publisher(self) -> PublisherClient:
        channel = grpc.insecure_channel(self.host)
        return PublisherClient(transport=PublisherGrpcTransport(channel=channel))

    def subscriber(self) -> SubscriberClient:
        channel = grpc.insecure_channel(self.host)
        return SubscriberClient(transport=SubscriberGrpcTransport(channel=channel))

    def environment(self) -> dict[str, str]:
        """For a worker process: the client library reads it and talks plain gRPC."""
        return {"PUBSUB_EMULATOR_HOST": self.host}

    def stop(self) -> None:
        self.server.stop()
