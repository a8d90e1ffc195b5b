import factory

from fangkong.accounts.models import Role, User

PASSWORD = "fangkong-test-1"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.COMMUNITY_STAFF
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def communities(self, create, extracted, **kwargs):
        if extracted:
            self.scope_communities.set(extracted)

    @factory.post_generation
    def grids(self, create, extracted, **kwargs):
        if extracted:
            self.scope_grids.set(extracted)
        self.save()
