"""Every write about mass testing: rounds, sites, tubes and samples, lab results, and what a positive tube sets off.

One module per part of the work; callers use the names below (`services.tube_open(...)`).
"""

from fangkong.testing.services.antigen import MAX_PHOTO_BYTES, antigen_report
from fangkong.testing.services.batch import BATCH_LIMIT, samples_register
from fangkong.testing.services.positives import PositiveChain, positive_tube_chain
from fangkong.testing.services.printouts import household_card_print, untested_list_print
from fangkong.testing.services.results import (
    RESULT_CHUNK,
    RESULT_ERRORS_SHOWN,
    RESULT_HEADERS,
    RESULT_WORDS,
    ResultRow,
    lab_result_record,
    lab_results_import,
    may_import_results,
    parse_result_time,
    parse_result_word,
    read_result_file,
    result_header_code,
)
from fangkong.testing.services.rounds import (
    MANAGER_ROLES,
    may_manage_rounds,
    round_exemption_add,
    round_exemption_remove,
    test_round_close,
    test_round_create,
)
from fangkong.testing.services.sampling import (
    person_for_scan,
    sample_add,
    sample_register,
    sample_register_at_once,
    sample_undo_last,
)
from fangkong.testing.services.sites import sampling_site_create, sampling_site_update, site_roster_from_zone
from fangkong.testing.services.tubes import SAMPLER_ROLES, may_sample_at, tube_close, tube_open

__all__ = [
    "BATCH_LIMIT", "MANAGER_ROLES", "MAX_PHOTO_BYTES", "RESULT_CHUNK", "RESULT_ERRORS_SHOWN", "RESULT_HEADERS",
    "RESULT_WORDS", "SAMPLER_ROLES", "PositiveChain", "ResultRow", "antigen_report", "household_card_print",
    "lab_result_record", "lab_results_import", "may_import_results", "may_manage_rounds", "may_sample_at",
    "parse_result_time", "parse_result_word", "person_for_scan", "positive_tube_chain", "read_result_file",
    "result_header_code", "round_exemption_add", "round_exemption_remove", "sample_add", "sample_register",
    "sample_register_at_once", "sample_undo_last", "samples_register", "sampling_site_create",
    "sampling_site_update", "site_roster_from_zone", "test_round_close", "test_round_create", "tube_close",
    "tube_open", "untested_list_print",
]
