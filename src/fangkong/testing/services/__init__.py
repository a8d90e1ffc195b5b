"""Every write about mass testing: rounds, sites, tubes and samples, lab results, and what a positive tube sets off.

One module per part of the work; callers use the names below (`services.tube_open(...)`). Who may do
what is in `testing.permissions`, the reads in `testing.queries`, a lab's result file in `testing.result_files`.
"""

from fangkong.testing.services.antigen import MAX_PHOTO_BYTES, antigen_report
from fangkong.testing.services.batch import BATCH_LIMIT, samples_register
from fangkong.testing.services.positives import PositiveChain, positive_tube_chain
from fangkong.testing.services.printouts import household_card_print, untested_list_print
from fangkong.testing.services.results import (
    RESULT_CHUNK,
    lab_result_record,
    lab_results_import,
    lab_results_import_start,
    result_import_work,
)
from fangkong.testing.services.rounds import (
    round_exemption_add,
    round_exemption_remove,
    test_round_close,
    test_round_create,
)
from fangkong.testing.services.sampling import (
    sample_add,
    sample_register,
    sample_register_at_once,
    sample_register_from_device,
    sample_undo_last,
)
from fangkong.testing.services.sites import sampling_site_create, sampling_site_update, site_roster_from_zone
from fangkong.testing.services.tubes import tube_close, tube_open

__all__ = [
    "BATCH_LIMIT", "MAX_PHOTO_BYTES", "PositiveChain", "RESULT_CHUNK", "antigen_report", "household_card_print",
    "lab_result_record", "lab_results_import", "lab_results_import_start", "positive_tube_chain",
    "result_import_work", "round_exemption_add", "round_exemption_remove", "sample_add", "sample_register",
    "sample_register_at_once", "sample_register_from_device", "sample_undo_last", "samples_register",
    "sampling_site_create", "sampling_site_update", "site_roster_from_zone", "test_round_close", "test_round_create",
    "tube_close", "tube_open", "untested_list_print",
]
