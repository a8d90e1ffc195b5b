from django.urls import path

from fangkong.accounts import views

app_name = "accounts"
urlpatterns = []
