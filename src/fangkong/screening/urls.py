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
    # Verification lists
    # Screening rounds
]
