"""Every write in health, one module per part of the work; callers keep `health.services.<name>`.

observations  an observation's life: start, extend, release, end early, transfer, team
policies      a street's observation and contact policies
checks        health checks and the alerts abnormal ones raise
cases         a case's timeline, status and severity
positives     recording a positive and what follows at once (contacts, zones, transfers)
contacts      close and secondary contacts and their observations
transfers     transfers and their destinations
"""

from fangkong.health.services.cases import CASE_STATUS_RANK, case_event_add, case_severity_set, case_status_set
from fangkong.health.services.checks import alert_reason, health_alert_handle, health_check_record
from fangkong.health.services.contacts import contact_add, contact_remove
from fangkong.health.services.observations import (
    MAX_DAYS,
    MIN_DAYS,
    TEAM_ROLES,
    Team,
    observation_end_early,
    observation_extend,
    observation_release,
    observation_start,
    observation_team_set,
    observation_transfer,
)
from fangkong.health.services.policies import contact_policy_set, observation_policy_set
from fangkong.health.services.positives import case_destination_kind, case_open
from fangkong.health.services.transfers import (
    destination_create,
    destination_update,
    transfer_arrive,
    transfer_cancel,
    transfer_label,
    transfer_pick_up,
    transfer_schedule,
    transfer_update,
)

__all__ = [
    "CASE_STATUS_RANK", "MAX_DAYS", "MIN_DAYS", "TEAM_ROLES", "Team",
    "alert_reason", "case_destination_kind", "case_event_add", "case_open", "case_severity_set", "case_status_set",
    "contact_add", "contact_policy_set", "contact_remove", "destination_create", "destination_update",
    "health_alert_handle", "health_check_record", "observation_end_early", "observation_extend",
    "observation_policy_set", "observation_release", "observation_start", "observation_team_set",
    "observation_transfer", "transfer_arrive", "transfer_cancel", "transfer_label", "transfer_pick_up",
    "transfer_schedule", "transfer_update",
]
