"""Choosing the push adapter from TIMELINE_* variables, and the outbox's command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from push.fcm import FcmPush
from push.outbox import OutboxPush, main
from push.port import PushMessage
from push.wiring import push_from_settings
from settings import FCM_ENDPOINT, SettingsError, load_settings
from tests.utils.devices import device_token
from tests.utils.fcm_stub import serving_fcm

PRODUCTION = {
    "GAE_ENV": "standard",
    "GOOGLE_CLOUD_PROJECT": "photo-timeline-prod",
    "TIMELINE_SECRET_KEY": "s" * 40,
}


def test_locally_pushes_go_to_the_outbox(tmp_path: Path) -> None:
    settings = load_settings({"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path)})
    assert settings.push.backend == "outbox"
    outbox = push_from_settings(settings)
    assert isinstance(outbox, OutboxPush)
    assert outbox.path == str(tmp_path / "timeline.db")


def test_in_production_pushes_go_to_fcm_of_the_apps_project() -> None:
    settings = load_settings(PRODUCTION)
    assert (settings.push.backend, settings.push.fcm_project) == ("fcm", "photo-timeline-prod")
    assert settings.push.fcm_endpoint == FCM_ENDPOINT
    named = load_settings({**PRODUCTION, "TIMELINE_FIREBASE_PROJECT": "timeline-apps"})
    assert named.push.fcm_project == "timeline-apps"
    with pytest.raises(SettingsError, match="TIMELINE_PUSH=outbox"):
        load_settings({**PRODUCTION, "TIMELINE_PUSH": "outbox"})


def test_fcm_needs_a_project_and_the_backend_a_known_name(tmp_path: Path) -> None:
    local = {"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path)}
    with pytest.raises(SettingsError, match="TIMELINE_FCM_PROJECT"):
        load_settings({**local, "TIMELINE_PUSH": "fcm"})
    with pytest.raises(SettingsError, match="'outbox' or 'fcm'"):
        load_settings({**local, "TIMELINE_PUSH": "apns"})


def test_fcm_settings_build_an_adapter_for_that_endpoint(tmp_path: Path) -> None:
    with serving_fcm("timeline-staging") as fcm:
        account = fcm.write_service_account(tmp_path / "sa.json")
        settings = load_settings(
            {
                "TIMELINE_ENV": "local",
                "TIMELINE_VAR_DIR": str(tmp_path),
                "TIMELINE_PUSH": "fcm",
                "TIMELINE_FCM_PROJECT": "timeline-staging",
                "TIMELINE_FCM_ENDPOINT": fcm.url,
                "TIMELINE_FCM_CREDENTIALS": str(account),
            }
        )
        sender = push_from_settings(settings)
        assert isinstance(sender, FcmPush)
        assert sender.url == f"{fcm.url}/v1/projects/timeline-staging/messages:send"


async def test_the_outbox_command_prints_recent_pushes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "timeline.db"
    outbox = OutboxPush(db)
    for n in range(3):
        message = PushMessage("Photo Timeline", f"push number {n}", {"kind": "LIKE"})
        await outbox.send(device_token(f"phone{n}"), "IOS", message)
    await outbox.close()

    assert main(["--db", str(db), "--limit", "2"]) == 0
    printed = capsys.readouterr().out
    assert "push number 2" in printed
    assert "push number 1" in printed
    assert "push number 0" not in printed
    assert "data: kind=LIKE" in printed

    assert main(["--db", str(db), "--limit", "1", "--json"]) == 0
    assert '"apns-push-type": "alert"' in capsys.readouterr().out

    assert main(["--db", str(db), "--unregister", device_token("phone0")]) == 0
    capsys.readouterr()
    again = OutboxPush(db)
    result = await again.send(device_token("phone0"), "IOS", PushMessage("t", "b"))
    assert result.status == "unregistered"
    await again.close()

    assert main(["--db", str(tmp_path / "empty.db")]) == 0
    assert "no pushes recorded" in capsys.readouterr().out
