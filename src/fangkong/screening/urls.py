from django.urls import path

from fangkong.core.converters import register_id_converter
from fangkong.screening import views

register_id_converter()

app_name = "screening"
urlpatterns = [
    # Follow-ups and the four colours
    path("follow-ups/", views.my_follow_ups, name="my_follow_ups"),
    path("follow-ups/all/", views.follow_up_list, name="follow_ups"),
    path("follow-ups/board/", views.color_board, name="color_board"),
    path("follow-ups/<id:pk>/", views.follow_up_detail, name="follow_up_detail"),
    path("follow-ups/<id:pk>/contact/", views.follow_up_contact, name="follow_up_contact"),
    path("follow-ups/<id:pk>/override/", views.follow_up_override, name="follow_up_override"),
    path("follow-ups/<id:pk>/assign/", views.follow_up_assign, name="follow_up_assign"),
    path("follow-ups/<id:pk>/close/", views.follow_up_close, name="follow_up_close"),
    # Risk areas and arrivals
    path("arrivals/", views.arrivals, name="arrivals"),
    path("arrivals/new/", views.arrival_create, name="arrival_create"),
    path("arrivals/<id:pk>/", views.arrival_detail, name="arrival_detail"),
    path("risk-areas/", views.risk_areas, name="risk_areas"),
    path("poster/<id:pk>/", views.poster, name="poster"),
    path("divisions/", views.divisions, name="divisions"),
    path("arrive/<str:token>/", views.arrival_self_report, name="arrival_self_report"),
    # Verification lists
    path("lists/", views.lists, name="lists"),
    path("lists/import/", views.list_import, name="list_import"),
    path("lists/<id:pk>/", views.list_detail, name="list_detail"),
    path("lists/<id:pk>/export/", views.list_export, name="list_export"),
    path("lists/items/<id:pk>/answer/", views.list_item_answer, name="list_item_answer"),
    # Screening rounds
    path("rounds/", views.rounds, name="rounds"),
    path("rounds/<id:pk>/", views.round_detail, name="round_detail"),
    path("rounds/<id:pk>/households/", views.round_households, name="round_households"),
    path("rounds/<id:pk>/households/<id:household_pk>/visit/", views.round_visit, name="round_visit"),
    path("rounds/<id:pk>/close/", views.round_close, name="round_close"),
]
