import factory

from fangkong.volunteers.models import Post


class PostFactory(factory.django.DjangoModelFactory):
    """An open gate post at `building`, two people round the clock."""

    class Meta:
        model = Post

    building = None
    compound = factory.SelfAttribute("building.compound")
    community = factory.SelfAttribute("building.community")
    name = factory.Sequence(lambda n: f"{n + 1}号卡口")
    kind = Post.Kind.GATE
    headcount = 2
