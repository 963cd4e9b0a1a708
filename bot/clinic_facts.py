"""The clinic facts that fill many responses (name, address, phone).

Actions and channels both need them, so they live in the core: a channel
(the SMS keywords) answers with the clinic's phone without importing actions.
When the database cannot be read, the last facts read or the fallback phone
setting still let the assistant say whom to call.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.settings import get_settings

logger = logging.getLogger(__name__)

FALLBACK_CLINIC_VALUES: dict[str, Any] = {
    "clinic_name": "the clinic",
    "clinic_address": "our clinic",
    "clinic_phone": "the clinic's front desk",
}
_last_clinic_values: dict[str, Any] = {}


def clinic_values() -> dict[str, Any]:
    """Clinic facts used by many responses; read from clinic data, not code."""
    from bot.scheduling import get_scheduling_service

    clinic = get_scheduling_service().clinic_info()
    return {
        "clinic_name": clinic.name,
        "clinic_address": clinic.address,
        "clinic_phone": clinic.phone,
    }


def fallback_clinic_values() -> dict[str, Any]:
    """Clinic facts when the database is down: the last ones read, else the fallback phone setting."""
    values = dict(FALLBACK_CLINIC_VALUES)
    phone = get_settings().fallback_phone
    if phone:
        values["clinic_phone"] = phone
    values.update(_last_clinic_values)
    return values


async def safe_clinic_values() -> dict[str, Any]:
    """Clinic facts read in a worker thread under the backend timeout, or the best we know."""
    timeout = get_settings().backend_timeout_seconds
    try:
        values = await asyncio.wait_for(asyncio.to_thread(clinic_values), timeout)
    except Exception as error:  # noqa: BLE001 - any backend failure must still let us answer
        logger.warning("clinic facts unavailable (%s); using the last known or fallback values", type(error).__name__)
        return fallback_clinic_values()
    _last_clinic_values.update(values)
    return values
