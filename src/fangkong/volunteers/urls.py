from django.urls import path

from fangkong.core.converters import register_id_converter
from fangkong.volunteers import views

register_id_converter()

app_name = "volunteers"
urlpatterns = [
    path("posts/", views.posts, name="posts"),
    path("posts/new/", views.post_create, name="post_create"),
    path("posts/<id:pk>/close/", views.post_close, name="post_close"),
]
