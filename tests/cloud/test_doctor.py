"""`datavox doctor`'s one-line cloud check, against the FAKE realtime cloud."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.cloud.conftest import KEY, cloud_settings
from tests.fakes.realtime_cloud import FakeRealtimeCloud

from datavox.realtime.doctor import check_cloud


def test_doctor_says_in_one_line_what_is_wrong(tmp_path: Path, cloud: FakeRealtimeCloud) -> None:
    good = cloud_settings(tmp_path, cloud, "azure")
    ok, line = check_cloud(good)
    assert ok and "'gpt-realtime-dep'" in line and "minted" in line

    missing = replace(good, realtime=replace(good.realtime, azure_deployment="no-such-deployment"))
    ok, line = check_cloud(missing)
    assert not ok and "no such deployment" in line

    wrong_key = replace(good, secrets=replace(good.secrets, realtime_api_key="wrong-key-000000"))
    ok, line = check_cloud(wrong_key)
    assert not ok and "refused the key" in line

    unset = replace(good, realtime=replace(good.realtime, azure_endpoint=""))
    ok, line = check_cloud(unset)
    assert not ok and "DATAVOX_REALTIME_AZURE_ENDPOINT" in line

    down = replace(good, realtime=replace(good.realtime, azure_endpoint="http://127.0.0.1:9"))
    ok, line = check_cloud(down)
    assert not ok and "cannot reach" in line
    for text in (line,):
        assert KEY not in text and "\n" not in text
