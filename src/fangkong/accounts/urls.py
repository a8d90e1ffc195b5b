from django.urls import path

from fangkong.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.sign_in, name="login"),
    path("resident/", views.resident_sign_in, name="resident_login"),
    path("logout/", views.sign_out, name="logout"),
    path("household/", views.household, name="household"),
]
