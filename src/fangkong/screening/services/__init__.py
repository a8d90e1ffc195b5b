"""Every write in screening, one module per part of the work; callers keep `screening.services.<name>`.

follow_ups    the facts about a followed person, their colour, calls and visits, overrides
risk_areas    the street's risk areas, by hand or from a file, and the exposure they decide
arrivals      arrivals registered by staff or self-reported from the poster
verification  verification lists: import and match, assign, answer, export
rounds        screening rounds and household visits
"""

from fangkong.screening.services.arrivals import arrival_acknowledge, arrival_record, arrival_self_report
from fangkong.screening.services.follow_ups import (
    follow_up_assign,
    follow_up_close,
    follow_up_open,
    follow_up_override,
    follow_up_record_contact,
    follow_up_refresh,
    follow_up_set_facts,
    follow_up_set_observation,
)
from fangkong.screening.services.risk_areas import (
    arrival_is_exposed,
    risk_area_create,
    risk_area_end,
    risk_area_update,
    risk_areas_import,
)
from fangkong.screening.services.rounds import household_visit_record, screening_round_close, screening_round_start
from fangkong.screening.services.verification import (
    ListMatch,
    match_list_rows,
    verification_batch_export,
    verification_batch_import,
    verification_item_answer,
    verification_item_match,
    verification_item_reassign,
)

__all__ = [
    "ListMatch", "arrival_acknowledge", "arrival_is_exposed", "arrival_record", "arrival_self_report",
    "follow_up_assign", "follow_up_close", "follow_up_open", "follow_up_override", "follow_up_record_contact",
    "follow_up_refresh", "follow_up_set_facts", "follow_up_set_observation", "household_visit_record",
    "match_list_rows", "risk_area_create", "risk_area_end", "risk_area_update", "risk_areas_import",
    "screening_round_close", "screening_round_start", "verification_batch_export", "verification_batch_import",
    "verification_item_answer", "verification_item_match", "verification_item_reassign",
]
