"""`datavox doctor`'s cloud check: can this server mint a realtime secret for the configured deployment?"""

from __future__ import annotations

import asyncio

from datavox.config import ConfigError, Settings
from datavox.realtime.cloud import CloudClient, CloudError, CloudTarget, session_config

REASONS = {
    "cloud_auth": "the cloud refused the key (check DATAVOX_REALTIME_API_KEY, AZURE_OPENAI_API_KEY, Entra)",
    "cloud_not_found": "no such deployment or model",
    "cloud_rate_limited": "rate limited right now (429); the credentials look right",
    "cloud_unreachable": "cannot reach it (DNS, proxy or firewall?)",
    "cloud_timeout": "no answer in time",
    "cloud_failed": "the cloud answered with a server error (5xx)",
}


async def _mint(target: CloudTarget, settings: Settings) -> None:
    client = CloudClient(target, timeout_s=10.0, attempts=1)
    try:
        session = session_config(settings, model=target.model, voice=settings.realtime.voice)
        await client.mint_secret(session, 10)
    finally:
        await client.aclose()


def check_cloud(settings: Settings) -> tuple[bool, str]:
    """(ok, one line saying what was checked or what is wrong). The key is never printed."""
    try:
        target = CloudTarget.from_settings(settings)
    except ConfigError as exc:
        return False, str(exc)
    what = f"{target.kind} {target.model!r} at {target.base_url}"
    try:
        asyncio.run(_mint(target, settings))
    except CloudError as exc:
        return False, f"{what}: {REASONS.get(exc.code, exc.message)}"
    return True, f"{what}: a 10 s client secret was minted, so the key and the deployment are good"
